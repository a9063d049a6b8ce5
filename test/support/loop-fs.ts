/**
 * A small ext4 filesystem of its own (an image file on a loop device, mounted under a fresh
 * temp dir) that a test can fill to ENOSPC and free again. Every name is unique to the
 * instance; destroy() unmounts, detaches and removes whatever was made, even after a failure
 * halfway, and never touches another test's loop devices.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoopFs {
  /** Where the filesystem is mounted. */
  mountpoint: string;
  /** The loop device (/dev/loopN): its /sys/block/loopN/stat counts the writes that reach it. */
  device: string;
  /** Writes a filler file until the filesystem refuses another byte. */
  fill(): void;
  /** Removes the filler. */
  free(): Promise<void>;
  destroy(): Promise<void>;
}

const FILLER = '.filler';

/**
 * `mountpoint`: mount there (an existing empty directory) instead of under the temp dir, e.g.
 * a daemon's store directory so only the store sits on the small filesystem.
 */
export async function createLoopFs(sizeMiB = 32, mountpoint?: string): Promise<LoopFs> {
  const dir = await mkdtemp(join(tmpdir(), 'grove-loopfs-'));
  const image = join(dir, 'fs.img');
  const target = mountpoint ?? join(dir, 'mnt');
  let device: string | undefined;
  let mounted = false;
  const destroy = async (): Promise<void> => {
    if (mounted) {
      await run('umount', [target]).catch(() => run('umount', ['-l', target]).catch(() => undefined));
      mounted = false;
    }
    if (device) await run('losetup', ['-d', device]).catch(() => undefined);
    device = undefined;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('truncate', ['-s', `${sizeMiB}M`, image]);
    // No blocks reserved for root: the daemons run as root and must meet ENOSPC too.
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
    await mkdir(target, { recursive: true });
    await run('mount', [device, target]);
    mounted = true;
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    mountpoint: target,
    device: device!,
    fill() {
      const fd = openSync(join(target, FILLER), 'a');
      try {
        // Big chunks first, then smaller ones down to a byte: nothing is left.
        const chunk = Buffer.alloc(1024 * 1024, 0x5a);
        for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
          for (;;) {
            try {
              writeSync(fd, chunk, 0, size);
            } catch {
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    async free() {
      await rm(join(target, FILLER), { force: true });
    },
    destroy,
  };
}
