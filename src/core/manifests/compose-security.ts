/**
 * compose security fields → the container's securityContext:
 * - `security_opt` → the seccomp profile. Docker's spellings are accepted (src/core/seccomp-ref.ts
 *   parseSecurityOpt): `seccomp:unconfined` / `seccomp=unconfined`, and `seccomp:PROFILE`, which
 *   Grove reads on the node, as a Localhost profile relative to `<data-dir>/seccomp/` (docker
 *   compose reads it on the client). `no-new-privileges:true` is what Grove does anyway.
 * - `user: UID[:GID]` → runAsUser / runAsGroup. Kubernetes runs containers by number only, so a
 *   user or group name (which docker looks up in the image) is refused with the hint to write it.
 * - `read_only` → readOnlyRootFilesystem; `cap_add` / `cap_drop` → capabilities.add / drop
 *   (docker's spellings: any case, with or without CAP_, and ALL).
 */
import { capabilityName, CAPABILITY_MESSAGE } from '../capabilities.js';
import type { SecurityContext } from '../objects/pod-container.js';
import { checkLocalhostProfile, parseSecurityOpt, type SeccompProfileRef } from '../seccomp-ref.js';
import { atField, manifestError, quote, type DocContext, type FieldPath } from './location.js';

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

/** A Linux id as Kubernetes bounds runAsUser/runAsGroup. */
const ID = /^(0|[1-9][0-9]{0,9})$/;
const MAX_ID = 2147483647;

/** `user: 1000` or `"1000:1000"` → runAsUser (and runAsGroup). */
export function composeUser(ctx: DocContext, path: FieldPath, user: string | number): Pick<SecurityContext, 'runAsUser' | 'runAsGroup'> {
  const [uid = '', gid, ...rest] = String(user).split(':');
  const id = (text: string): number | undefined => (ID.test(text) && Number(text) <= MAX_ID ? Number(text) : undefined);
  const runAsUser = id(uid);
  const runAsGroup = gid === undefined ? undefined : id(gid);
  if (rest.length > 0 || runAsUser === undefined || (gid !== undefined && runAsGroup === undefined)) {
    throw manifestError(ctx, path, `${quote(String(user))} must be a numeric UID[:GID] (0-${MAX_ID}): Kubernetes runs containers by number, so write the id a name such as "nobody" has in the image (65534)`);
  }
  return runAsGroup === undefined ? { runAsUser } : { runAsUser, runAsGroup };
}

/** cap_add / cap_drop entries as Kubernetes capabilities: upper case, checked against the kernel's list. */
export function composeCapabilities(ctx: DocContext, path: FieldPath, list: readonly string[]): string[] {
  return list.map((written, i) => {
    const upper = String(written).trim().toUpperCase();
    if (!capabilityName(upper)) throw manifestError(ctx, [...path, i], `${quote(String(written))} ${CAPABILITY_MESSAGE}`);
    return upper;
  });
}
