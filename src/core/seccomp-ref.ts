/**
 * Which seccomp profile a container runs under, as manifests, the API and node targets carry
 * it: Kubernetes `securityContext.seccompProfile`, compose / docker `security_opt`. The
 * runtime's default profile (RuntimeDefault) is the field's absence, so templates and targets
 * without it stay as they were. PURE: the profile file itself is the node's business
 * (agent/src/runtime/seccomp/profile-load.ts reads it when the container is created).
 */
import { posix } from 'node:path';
import { ErrorCode, GroveError, isGroveError } from './errors.js';
import { quoteValue } from './quote.js';
import type { FailField } from './wire-access.js';

export type SeccompProfileRef = { type: 'Unconfined' } | { type: 'Localhost'; localhostProfile: string };

export const MAX_LOCALHOST_PROFILE_LENGTH = 1024;

const invalid = (what: string, why: string): GroveError => new GroveError(ErrorCode.InvalidArgument, `${what}: ${why}`);
const shown = (v: string): string => quoteValue(v);

/**
 * A Localhost profile: a path relative to the node's `<data-dir>/seccomp/` (kubelet's
 * /var/lib/kubelet/seccomp), written plainly — no leading "/", no "..", "." or empty parts —
 * so that it names one file inside that directory whatever the node.
 */
export function checkLocalhostProfile(path: string, what: string): string {
  if (path.length === 0) throw invalid(what, 'a Localhost profile needs a path (relative to the node\'s <data-dir>/seccomp/)');
  if (path.length > MAX_LOCALHOST_PROFILE_LENGTH || path.includes('\0')) throw invalid(what, `path too long (at most ${MAX_LOCALHOST_PROFILE_LENGTH} characters) or contains NUL`);
  if (path.startsWith('/')) throw invalid(what, `${shown(path)} must be relative to the node's <data-dir>/seccomp/, not absolute`);
  const parts = path.split('/');
  if (parts.includes('..')) throw invalid(what, `${shown(path)} must stay inside the node's <data-dir>/seccomp/ (no "..")`);
  if (parts.some((p) => p === '' || p === '.') || posix.normalize(path) !== path) throw invalid(what, `${shown(path)} must be a plain relative path (no "." or empty parts)`);
  return path;
}

/** The API's and the wire's check of a stored or received reference (fresh object, known fields only). */
export function decodeSeccompProfile(v: unknown, path: string, fail: FailField): SeccompProfileRef | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, 'expected {type, localhostProfile?}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'type' && k !== 'localhostProfile') fail(`${path}.${k}`, 'unknown field');
  if (o.type === 'RuntimeDefault' || o.type === 'Unconfined') {
    if (o.localhostProfile !== undefined) fail(`${path}.localhostProfile`, 'only with type Localhost');
    return o.type === 'Unconfined' ? { type: 'Unconfined' } : undefined;
  }
  if (o.type !== 'Localhost') return fail(`${path}.type`, 'expected RuntimeDefault, Unconfined or Localhost');
  if (typeof o.localhostProfile !== 'string') return fail(`${path}.localhostProfile`, 'a Localhost profile needs a path (a string)');
  try {
    return { type: 'Localhost', localhostProfile: checkLocalhostProfile(o.localhostProfile, `${path}.localhostProfile`) };
  } catch (err) {
    if (!isGroveError(err)) throw err;
    const at = `${path}.localhostProfile`;
    return fail(at, err.message.startsWith(`${at}: `) ? err.message.slice(at.length + 2) : err.message);
  }
}

/** A docker `--security-opt` / compose `security_opt` entry Grove understands. */
export type SecurityOpt = { kind: 'seccomp'; unconfined: true } | { kind: 'seccomp'; unconfined: false; profile: string } | { kind: 'no-new-privileges' };

/**
 * docker's spellings: `seccomp=unconfined`, `seccomp=PROFILE`, the older `seccomp:…`, and
 * `no-new-privileges[=true|:true]` (Grove sets no_new_privs on every unprivileged container
 * already). `no-new-privileges=false`, apparmor, label and the rest are refused by name.
 */
export function parseSecurityOpt(value: string, what: string): SecurityOpt {
  const sep = /[=:]/.exec(value);
  const key = sep ? value.slice(0, sep.index) : value;
  const arg = sep ? value.slice(sep.index + 1) : undefined;
  if (key === 'seccomp') {
    if (!arg) throw invalid(what, `${shown(value)} needs a profile: seccomp=unconfined or seccomp=PROFILE`);
    return arg === 'unconfined' ? { kind: 'seccomp', unconfined: true } : { kind: 'seccomp', unconfined: false, profile: arg };
  }
  if (key === 'no-new-privileges') {
    if (arg === undefined || arg === 'true') return { kind: 'no-new-privileges' };
    if (arg === 'false') throw invalid(what, 'no-new-privileges=false is not supported: Grove sets no_new_privs on every container that is not privileged');
    throw invalid(what, `${shown(value)}: no-new-privileges takes true or nothing`);
  }
  throw invalid(what, `${shown(value)} is not supported yet: only seccomp=unconfined, seccomp=PROFILE and no-new-privileges are`);
}
