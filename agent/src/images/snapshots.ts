import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ContentStore } from './content-store.js';
import { chainId, digestHex } from './digest.js';
import { KeyedMutex, pathExists, randomSuffix } from './fs-util.js';
import { applyLayer } from './layer-unpack.js';
import type { ImageRecord } from './types.js';

const run = promisify(execFile);

export interface SnapshotterOptions {
  /** `<image-root>/snapshots` */
  dir: string;
  store: ContentStore;
  logger: Logger;
  /** Uncompressed bytes allowed per layer. */
  maxLayerBytes?: number;
}

/**
 * One flattened, read-only root filesystem per layer stack, at `<dir>/<hex of chain ID>/rootfs`.
 * It is unpacked into `<hex>.tmp-<rand>` and renamed into place only when every layer applied
 * and verified, so an existing snapshot is always complete; a failure removes the temp dir.
 * Images that share all their layers share the snapshot.
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
      const tmp = join(this.opts.dir, `${key}.tmp-${randomSuffix()}`);
      const rootfs = join(tmp, 'rootfs');
      const started = Date.now();
      try {
        await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
        await fsp.chmod(rootfs, 0o755);
        for (const [i, layer] of image.layers.entries()) {
          if (!(await this.opts.store.has(layer))) {
            throw new GroveError(ErrorCode.ImageNotFound, `layer ${layer} of image ${image.digest} is missing from the content store; pull the image again`);
          }
          const res = await applyLayer(this.opts.store.path(layer), rootfs, {
            logger: this.log,
            expectedDiffId: image.diffIds[i]!,
            ...(this.opts.maxLayerBytes ? { maxBytes: this.opts.maxLayerBytes } : {}),
            ...(signal ? { signal } : {}),
          });
          this.log.debug({ layer, entries: res.entries, bytes: res.bytes }, 'layer applied');
        }
        await flush(tmp, this.log);
        await fsp.rename(tmp, final);
      } catch (err) {
        await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
      this.unpacked++;
      this.log.info({ image: image.digest, snapshot: key.slice(0, 12), layers: image.layers.length, ms: Date.now() - started }, 'snapshot created');
      return join(final, 'rootfs');
    });
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
