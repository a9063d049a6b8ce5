/**
 * --host-path-root DIR (repeatable), for `grove server` (apply refuses hostPath volumes outside
 * the roots) and `grove agent` (the node refuses them too, in the pod's status). Each must be an
 * absolute path; none given = any absolute path is allowed (docs/security.md).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { absolutePath } from '../../core/wire-volumes.js';

export function parseHostPathRoots(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [];
  return list.map((v) =>
    absolutePath(v, '--host-path-root', (_p, reason) => {
      throw new GroveError(ErrorCode.InvalidArgument, `--host-path-root: ${reason}`);
    }),
  );
}

/** Spread into options: `{ hostPathRoots }` only when some were given. */
export function hostPathRootsOption(value: unknown): { hostPathRoots?: string[] } {
  const roots = parseHostPathRoots(value);
  return roots.length ? { hostPathRoots: roots } : {};
}
