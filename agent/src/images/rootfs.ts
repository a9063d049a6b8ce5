import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import { pathExists, randomSuffix, sleep } from './fs-util.js';

const run = promisify(execFile);

export type RootfsKind = 'overlay' | 'copy';
/** auto: overlayfs, falling back to a copy when the mount fails. */
export type RootfsMode = 'auto' | RootfsKind;

export interface MountRootfsOptions {
  /** The image snapshot (read-only lower layer). */
  lower: string;
  /** The container's directory: rootfs/, upper/, work/ are created inside it. */
  containerDir: string;
  /** Default auto (`--rootfs-mode`, $GROVE_ROOTFS_MODE: src/cli/config/role-options.ts). */
  mode?: RootfsMode;
  logger?: Logger;
}

export interface MountedRootfs {
  rootfs: string;
  kind: RootfsKind;
}

const KIND_FILE = 'rootfs.kind';

/** Unescapes the octal escapes (\040 …) of /proc/self/mountinfo. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** True when `path` is a mount point (per /proc/self/mountinfo). */
export async function isMountPoint(path: string): Promise<boolean> {
  let real: string;
  try {
    real = await fsp.realpath(path);
  } catch {
    return false;
  }
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => {
    const field = line.split(' ')[4];
    return field !== undefined && unescapeMountPath(field) === real;
  });
}

async function readKind(containerDir: string): Promise<RootfsKind | undefined> {
  try {
    const k = (await fsp.readFile(join(containerDir, KIND_FILE), 'utf8')).trim();
    return k === 'overlay' || k === 'copy' ? k : undefined;
  } catch {
    return undefined;
  }
}

async function mountOverlay(lower: string, containerDir: string, rootfs: string): Promise<void> {
  const upper = join(containerDir, 'upper');
  const work = join(containerDir, 'work');
  for (const p of [lower, upper, work]) {
    // ',' separates mount options and ':' separates lower dirs; refuse rather than escape.
    if (/[,:\\\n]/.test(p)) throw new Error(`path "${p}" cannot be used in overlay mount options`);
  }
  await fsp.mkdir(upper, { recursive: true, mode: 0o755 });
  await fsp.mkdir(work, { recursive: true, mode: 0o700 });
  await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, rootfs]);
}

async function copyTree(lower: string, containerDir: string, rootfs: string): Promise<void> {
  const tmp = join(containerDir, `rootfs.tmp-${randomSuffix()}`);
  try {
    await fsp.mkdir(tmp, { mode: 0o755 });
    await run('cp', ['-a', '--reflink=auto', `${lower}/.`, `${tmp}/`], { maxBuffer: 1024 * 1024 });
    // An empty directory left by a failed overlay attempt is replaced.
    await fsp.rmdir(rootfs).catch(() => undefined);
    await fsp.rename(tmp, rootfs);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Gives a container its own writable root filesystem over the image snapshot: an overlayfs
 * mount (lowerdir = snapshot, upper/work in the container dir, mounted on <containerDir>/rootfs),
 * or, when overlay is unavailable or mode is 'copy', a full `cp -a` copy. Idempotent: an
 * existing mount or copy is returned as is (after a reboot the overlay is mounted again over
 * the preserved upper dir).
 */
export async function mountRootfs(options: MountRootfsOptions): Promise<MountedRootfs> {
  const { lower, containerDir, logger } = options;
  const mode = options.mode ?? 'auto';
  const rootfs = join(containerDir, 'rootfs');
  if (!(await pathExists(lower))) throw new GroveError(ErrorCode.Internal, `image snapshot ${lower} does not exist`);
  await fsp.mkdir(containerDir, { recursive: true, mode: 0o711 });

  if (await isMountPoint(rootfs)) return { rootfs, kind: 'overlay' };
  const previous = await readKind(containerDir);
  if (previous === 'copy' && (await pathExists(rootfs))) return { rootfs, kind: 'copy' };

  if (mode !== 'copy' && previous !== 'copy') {
    try {
      await mountOverlay(lower, containerDir, rootfs);
      await writeFileAtomic(join(containerDir, KIND_FILE), 'overlay\n');
      logger?.debug({ rootfs }, 'overlay rootfs mounted');
      return { rootfs, kind: 'overlay' };
    } catch (err) {
      const message = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      if (mode === 'overlay') {
        throw new GroveError(ErrorCode.RuntimeFailed, `cannot mount overlay rootfs at ${rootfs}: ${message}`, { cause: err });
      }
      logger?.warn({ rootfs, err: message }, 'overlay mount failed; falling back to a copied rootfs');
      await fsp.rm(join(containerDir, 'work'), { recursive: true, force: true });
      await fsp.rm(join(containerDir, 'upper'), { recursive: true, force: true });
    }
  }
  try {
    await copyTree(lower, containerDir, rootfs);
  } catch (err) {
    const message = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new GroveError(ErrorCode.RuntimeFailed, `cannot copy rootfs to ${rootfs}: ${message}`, { cause: err });
  }
  await writeFileAtomic(join(containerDir, KIND_FILE), 'copy\n');
  logger?.debug({ rootfs }, 'copied rootfs created');
  return { rootfs, kind: 'copy' };
}

/**
 * Unmounts <containerDir>/rootfs if it is mounted; a no-op when it is not (or is a copy).
 * Idempotent. The container's files (upper/, a copied rootfs) stay until the container dir
 * is removed.
 */
export async function unmountRootfs(containerDir: string, options: { logger?: Logger } = {}): Promise<void> {
  const rootfs = join(containerDir, 'rootfs');
  for (let attempt = 0; await isMountPoint(rootfs); attempt++) {
    try {
      await run('umount', [rootfs]);
    } catch (err) {
      const message = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      if (!(await isMountPoint(rootfs))) break; // raced with another unmount
      if (attempt < 5) {
        await sleep(100 * 2 ** attempt);
        continue;
      }
      options.logger?.warn({ rootfs, err: message }, 'rootfs busy; detaching lazily');
      await run('umount', ['-l', rootfs]).catch((e: unknown) => {
        throw new GroveError(ErrorCode.RuntimeFailed, `cannot unmount ${rootfs}: ${message}`, { cause: e });
      });
    }
  }
}
