/**
 * compose `security_opt` → the container's seccomp profile. Docker's spellings are accepted
 * (src/core/seccomp-ref.ts parseSecurityOpt): `seccomp:unconfined` / `seccomp=unconfined`, and
 * `seccomp:PROFILE`, which Grove reads on the node, as a Localhost profile relative to
 * `<data-dir>/seccomp/` (docker compose reads it on the client). `no-new-privileges:true` is
 * what Grove does anyway.
 */
import { checkLocalhostProfile, parseSecurityOpt, type SeccompProfileRef } from '../seccomp-ref.js';
import { atField, manifestError, type DocContext, type FieldPath } from './location.js';

export function composeSeccomp(ctx: DocContext, path: FieldPath, opts: readonly string[] | undefined): SeccompProfileRef | undefined {
  let out: SeccompProfileRef | undefined;
  let seen = false;
  (opts ?? []).forEach((value, i) => {
    const at = [...path, i];
    const opt = atField(ctx, at, (f) => parseSecurityOpt(value, f));
    if (opt.kind !== 'seccomp') return;
    if (seen) throw manifestError(ctx, at, 'only one seccomp entry is allowed');
    seen = true;
    out = opt.unconfined ? { type: 'Unconfined' } : { type: 'Localhost', localhostProfile: atField(ctx, at, (f) => checkLocalhostProfile(opt.profile, f)) };
  });
  return out;
}
