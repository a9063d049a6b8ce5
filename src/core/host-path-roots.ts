/**
 * PURE: the hostPath policy of `--host-path-root` (docs/security.md): with allowed roots
 * configured, a hostPath volume must lie at or below one of them. The server refuses objects
 * whose pod specs break it (objects/object-store.ts); the node checks it again, on where
 * symlinks lead too (agent/src/agent/volumes/host-path.ts).
 */
import type { PodSpec } from './objects/pod.js';

/** Whether `path` is `root` or below it (absolute paths; the PodSpec schema refuses ".." parts). */
export function isUnderRoot(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return r === '' || path === r || path.startsWith(`${r}/`);
}

export interface HostPathOutside {
  /** Index in spec.volumes. */
  index: number;
  volume: string;
  path: string;
}

/** The hostPath volumes of `spec` outside every root; none when no roots are configured. */
export function hostPathsOutside(spec: PodSpec, roots: readonly string[] | undefined): HostPathOutside[] {
  if (!roots?.length) return [];
  const out: HostPathOutside[] = [];
  (spec.volumes ?? []).forEach((v, index) => {
    const path = v.hostPath?.path;
    if (path !== undefined && !roots.some((root) => isUnderRoot(path, root))) out.push({ index, volume: v.name, path });
  });
  return out;
}
