/**
 * --host-path-root DIR (repeatable), for `grove server` (apply refuses hostPath volumes outside
 * the roots) and `grove agent` (the node refuses them too, in the pod's status). Each must be an
 * absolute path; none given = any absolute path is allowed (docs/security.md).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { absolutePath } from '../../core/wire-volumes.js';

/** Spread into options: `{ hostPathRoots }` only when some were given. */
export function hostPathRootsOption(values: readonly string[]): { hostPathRoots?: string[] } {
  const roots = values.map((v) =>
    absolutePath(v, '--host-path-root', (_p, reason) => {
      throw new GroveError(ErrorCode.InvalidArgument, `--host-path-root: ${reason}`);
    }),
  );
  return roots.length ? { hostPathRoots: roots } : {};
}
