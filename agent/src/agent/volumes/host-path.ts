/**
 * hostPath volumes on the node: the agent's own allowed roots (`grove agent --host-path-root`,
 * checked on the path and on where its symlinks lead) and Kubernetes' type checks
 * (DirectoryOrCreate creates a missing directory, Directory must exist, …), and Grove's
 * ComposeBind for compose binds (docker's rule: mount what exists as it is, create a missing
 * path as a directory). Errors name the volume and the path; they become the pod's CreateError.
 */
import { lstat, mkdir, open, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { isUnderRoot } from '../../../../src/core/host-path-roots.js';
import type { HostPathType } from '../../../../src/core/resolved-pod.js';

function refuse(volume: string, message: string, details: Record<string, unknown> = {}): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `volume "${volume}": ${message}`, { details: { volume, ...details } });
}

/**
 * Where `path` really is: its realpath, or for a path still to be made (DirectoryOrCreate,
 * ComposeBind) the realpath of its nearest existing ancestor with the rest appended, so a
 * symlinked parent cannot lead the mkdir out of the roots.
 */
async function resolvedPath(path: string): Promise<string | undefined> {
  for (let p = path; ; p = dirname(p)) {
    const real = await realpath(p).catch(() => undefined);
    if (real !== undefined) return join(real, relative(p, path));
    if (p === dirname(p)) return undefined;
  }
}

/** Both the path as written and the path its symlinks resolve to must be under a root. */
export async function checkHostPathRoots(volume: string, path: string, roots: readonly string[] | undefined): Promise<void> {
  if (!roots?.length) return;
  const allowed = `allowed roots on this node: ${roots.join(', ')}`;
  if (!roots.some((r) => isUnderRoot(path, r))) throw refuse(volume, `host path "${path}" is outside the ${allowed}`, { path });
  const real = await resolvedPath(path);
  if (real !== undefined && !roots.some((r) => isUnderRoot(real, r))) {
    throw refuse(volume, `host path "${path}" leads to "${real}", outside the ${allowed}`, { path });
  }
}

const KIND_OF: Record<Exclude<HostPathType, 'DirectoryOrCreate' | 'FileOrCreate' | 'ComposeBind'>, [string, (s: Awaited<ReturnType<typeof stat>>) => boolean]> = {
  Directory: ['a directory', (s) => s.isDirectory()],
  File: ['a file', (s) => s.isFile()],
  Socket: ['a socket', (s) => s.isSocket()],
  CharDevice: ['a character device', (s) => s.isCharacterDevice()],
  BlockDevice: ['a block device', (s) => s.isBlockDevice()],
};

/** Applies `type` (creating what *OrCreate asks for); untyped paths must exist. */
export async function prepareHostPath(volume: string, path: string, type: HostPathType | undefined): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (type === 'ComposeBind') {
    // A file (./Caddyfile), a socket (/var/run/docker.sock) or a device is bound as it is.
    if (existing) return;
    if (await lstat(path).catch(() => undefined)) throw refuse(volume, `host path "${path}" is a dangling symlink`, { path });
    await mkdir(path, { recursive: true, mode: 0o755 });
    return;
  }
  if (type === 'DirectoryOrCreate') {
    if (!existing) await mkdir(path, { recursive: true, mode: 0o755 });
    else if (!existing.isDirectory()) throw refuse(volume, `host path "${path}" exists and is not a directory (type DirectoryOrCreate)`, { path });
    return;
  }
  if (type === 'FileOrCreate') {
    if (!existing) {
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      // 'a': never truncates a file that appeared in between.
      await (await open(path, 'a', 0o644)).close();
    } else if (!existing.isFile()) throw refuse(volume, `host path "${path}" exists and is not a file (type FileOrCreate)`, { path });
    return;
  }
  if (!existing) {
    const dangling = await lstat(path).catch(() => undefined);
    throw refuse(volume, `host path "${path}" does not exist on this node${dangling ? ' (a dangling symlink)' : ''}`, { path });
  }
  if (type === undefined) return;
  const [what, test] = KIND_OF[type];
  if (!test(existing)) throw refuse(volume, `host path "${path}" is not ${what} (type ${type})`, { path });
}
