import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, isNoSpace, noSpaceError } from '../../../src/core/errors.js';
import { formatBytes } from '../../../src/core/quantity.js';
import type { ContentStore } from './content-store.js';
import { chainId, digestHex } from './digest.js';
import { KeyedMutex, pathExists, randomSuffix } from './fs-util.js';
import { applyLayer, DEFAULT_MAX_LAYER_BYTES } from './layer-unpack.js';
import type { ImageRecord } from './types.js';

const run = promisify(execFile);

export interface SnapshotterOptions {
  /** `<image-root>/snapshots` */
  dir: string;
  store: ContentStore;
  logger: Logger;
  /** Uncompressed bytes allowed per layer. */
  maxLayerBytes?: number;
  /** Uncompressed bytes one image may unpack to, its layers together (default 4 GiB). */
  maxImageBytes?: number;
  /** Bytes that must stay free on the snapshots' filesystem (default: 5 % of it, at most 256 MiB). */
  minFreeBytes?: number;
  /** Free and total bytes of the filesystem holding `dir` (default: statfs). */
  diskSpace?: (dir: string) => Promise<DiskSpace>;
}

export interface DiskSpace {
  /** Bytes an unprivileged writer may still use (statfs f_bavail). */
  free: number;
  total: number;
}

export const DEFAULT_MAX_IMAGE_BYTES = 4 * 1024 ** 3;
const MAX_DEFAULT_MIN_FREE_BYTES = 256 * 1024 ** 2;
/** How often (uncompressed bytes) the free space is looked at again while a layer is written. */
const SPACE_CHECK_BYTES = 32 * 1024 ** 2;

async function statfsSpace(dir: string): Promise<DiskSpace> {
  const st = await fsp.statfs(dir);
  return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
}

/**
 * One flattened, read-only root filesystem per layer stack, at `<dir>/<hex of chain ID>/rootfs`.
 * It is unpacked into `<hex>.tmp-<rand>` and renamed into place only when every layer applied
 * and verified, so an existing snapshot is always complete; a failure removes the temp dir.
 * Images that share all their layers share the snapshot.
 *
 * Flash and the node's other writers (its store, container logs) are protected twice: an image
 * may unpack to at most `maxImageBytes` (counted as the layers are decompressed, so a gzip bomb
 * stops there), and the free space is checked before and every 32 MiB while unpacking, so an
 * unpack stops while `minFreeBytes` are still free instead of filling the disk.
 */
export class Snapshotter {
  private readonly log: Logger;
  private readonly locks = new KeyedMutex();
  /** How many snapshots this instance unpacked (tests and metrics). */
  unpacked = 0;

  constructor(private readonly opts: SnapshotterOptions) {
    this.log = opts.logger;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.opts.dir, { recursive: true, mode: 0o711 });
    for (const name of await fsp.readdir(this.opts.dir)) {
      if (name.includes('.tmp-')) {
        this.log.info({ snapshot: name }, 'removing incomplete snapshot');
        await fsp.rm(join(this.opts.dir, name), { recursive: true, force: true });
      }
    }
  }

  /** The snapshot key: hex of the chain ID of the image's diff_ids. */
  key(image: Pick<ImageRecord, 'diffIds' | 'digest'>): string {
    return image.diffIds.length > 0 ? digestHex(chainId(image.diffIds)) : digestHex(image.digest);
  }

  /** The directory of the snapshot with this key (its rootfs is inside). */
  keyDir(key: string): string {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `invalid snapshot key ${key}`);
    return join(this.opts.dir, key);
  }

  path(image: Pick<ImageRecord, 'diffIds' | 'digest'>): string {
    return join(this.opts.dir, this.key(image), 'rootfs');
  }

  async exists(image: Pick<ImageRecord, 'diffIds' | 'digest'>): Promise<boolean> {
    return pathExists(this.path(image));
  }

  /** Returns the snapshot's rootfs path, unpacking it first if it does not exist yet. */
  async snapshot(image: ImageRecord, signal?: AbortSignal): Promise<string> {
    const key = this.key(image);
    const final = join(this.opts.dir, key);
    return this.locks.run(key, async () => {
      if (await pathExists(join(final, 'rootfs'))) return join(final, 'rootfs');
      if (image.layers.length !== image.diffIds.length) {
        throw new GroveError(ErrorCode.ManifestInvalid, `image ${image.digest} has ${image.layers.length} layers but ${image.diffIds.length} diff_ids`);
      }
      const name = image.names[0] ?? image.digest;
      let compressed = 0;
      for (const layer of image.layers) {
        const size = await this.opts.store.size(layer);
        if (size === undefined) throw new GroveError(ErrorCode.ImageNotFound, `layer ${layer} of image ${image.digest} is missing from the content store; pull the image again`);
        compressed += size;
      }
      // Layers unpack to at least about their compressed size: an image that cannot fit is refused before anything is written.
      await this.checkSpace(name, compressed);
      const tmp = join(this.opts.dir, `${key}.tmp-${randomSuffix()}`);
      const rootfs = join(tmp, 'rootfs');
      const started = Date.now();
      const budget = this.opts.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
      const layerLimit = this.opts.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
      let unpacked = 0;
      try {
        await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
        await fsp.chmod(rootfs, 0o755);
        for (const [i, layer] of image.layers.entries()) {
          const remaining = budget - unpacked;
          const res = await applyLayer(this.opts.store.path(layer), rootfs, {
            logger: this.log,
            expectedDiffId: image.diffIds[i]!,
            maxBytes: Math.min(layerLimit, remaining),
            ...(remaining <= layerLimit
              ? { tooLarge: () => new GroveError(ErrorCode.SizeLimit, `image ${name} unpacks to more than ${budget} bytes (limit ${formatBytes(budget)}, imageMaxUnpackedBytes in config.json)`, { details: { image: image.digest, limit: budget } }) }
              : {}),
            progress: { everyBytes: SPACE_CHECK_BYTES, check: () => this.checkSpace(name, 0) },
            ...(signal ? { signal } : {}),
          });
          unpacked += res.bytes;
          this.log.debug({ layer, entries: res.entries, bytes: res.bytes }, 'layer applied');
        }
        await flush(tmp, this.log);
        await fsp.rename(tmp, final);
      } catch (err) {
        // Nothing half-unpacked stays behind (and the space comes back at once).
        await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        throw isNoSpace(err) ? noSpaceError((err as NodeJS.ErrnoException).path ?? tmp, err) : err;
      }
      this.unpacked++;
      this.log.info({ image: image.digest, snapshot: key.slice(0, 12), layers: image.layers.length, ms: Date.now() - started }, 'snapshot created');
      return join(final, 'rootfs');
    });
  }

  /**
   * Refuses to go on when fewer than `needed` bytes plus the reserve are free on the snapshots'
   * filesystem (before an unpack with its compressed size, during it with 0).
   */
  private async checkSpace(image: string, needed: number): Promise<void> {
    const { free, total } = await (this.opts.diskSpace ?? statfsSpace)(this.opts.dir);
    const reserve = this.opts.minFreeBytes ?? Math.min(MAX_DEFAULT_MIN_FREE_BYTES, Math.floor(total * 0.05));
    if (free - needed >= reserve) return;
    const needs = needed > 0 ? `, its layers need at least ${formatBytes(needed)} (compressed)` : '';
    throw new GroveError(
      ErrorCode.NoSpace,
      `not enough space on ${this.opts.dir} to unpack image ${image}: ${formatBytes(free)} free${needs}, and ${formatBytes(reserve)} must stay free (imageMinFreeBytes in config.json)`,
      { details: { path: this.opts.dir, free, needed, reserve } },
    );
  }

  /** Removes the snapshot with this key (a chain-ID hex), if present. */
  async removeKey(key: string): Promise<boolean> {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `invalid snapshot key ${key}`);
    return this.locks.run(key, async () => {
      const dir = join(this.opts.dir, key);
      if (!(await pathExists(dir))) return false;
      // Rename first so a crash mid-delete never leaves a half-empty "complete" snapshot.
      const doomed = join(this.opts.dir, `${key}.tmp-rm-${randomSuffix()}`);
      await fsp.rename(dir, doomed);
      await fsp.rm(doomed, { recursive: true, force: true });
      return true;
    });
  }

  /** Keys of all complete snapshots. */
  async list(): Promise<string[]> {
    try {
      return (await fsp.readdir(this.opts.dir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

/** Flushes the unpacked tree to disk (syncfs via `sync -f`) before it is renamed into place. */
async function flush(dir: string, log: Logger): Promise<void> {
  try {
    await run('sync', ['-f', dir]);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'sync -f failed; snapshot data may not be on disk yet');
  }
}
