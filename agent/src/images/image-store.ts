import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage, isGroveError, isNoSpace, noSpaceError } from '../../../src/core/errors.js';
import { formatImageRef, parseImageRef, type ImageRef } from '../../../src/core/image-ref.js';
import type { ImportedImage } from './archive-import.js';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './import-limits.js';
import { ContentStore } from './content-store.js';
import { DIGEST_RE } from './digest.js';
import { KeyedMutex } from './fs-util.js';
import { parseImageConfig } from './manifest.js';
import { ImageIndex } from './image-index.js';
import { DEFAULT_MAX_LAYER_BYTES } from './layer-unpack.js';
import { hostPlatform } from './platform.js';
import type { PullLimits } from './puller.js';
import { emptyRegistriesConfig, type RegistriesConfig } from './registries-config.js';
import type { FetchFn, RegistryClient } from './registry-client.js';
import { DEFAULT_MAX_IMAGE_BYTES, Snapshotter } from './snapshots.js';
import type { ImageRecord, Platform, PullProgress } from './types.js';

export interface ImageStoreLimits extends PullLimits {
  /** Uncompressed bytes per layer when unpacking (default 8 GiB). */
  maxLayerBytes: number;
  /** Uncompressed bytes per image, its layers together (default 4 GiB; config.json imageMaxUnpackedBytes). */
  maxImageBytes: number;
  /** Bytes kept free on the image store's filesystem while unpacking (default 5 %, at most 256 MiB; config.json imageMinFreeBytes). */
  minFreeBytes?: number;
  archive: ImportLimits;
}

export const DEFAULT_IMAGE_STORE_LIMITS: ImageStoreLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxConfigBytes: 8 * 1024 * 1024,
  maxBlobBytes: 8 * 1024 ** 3,
  maxLayerBytes: DEFAULT_MAX_LAYER_BYTES,
  maxImageBytes: DEFAULT_MAX_IMAGE_BYTES,
  archive: DEFAULT_IMPORT_LIMITS,
};

export interface ImageStoreOptions {
  /** `<data-dir>/images` */
  root: string;
  logger: Logger;
  registries?: RegistriesConfig;
  /** Platform to select from image indexes (default: this host). */
  platform?: Platform;
  fetch?: FetchFn;
  limits?: Partial<Omit<ImageStoreLimits, 'archive'>> & { archive?: Partial<ImportLimits> };
  /** Parallel layer downloads per pull (default 3). */
  concurrency?: number;
  /** Download retries after a dropped connection (default 4) and the first backoff (250 ms). */
  retries?: number;
  backoffMs?: number;
  now?: () => Date;
}

export interface PullOptions {
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
}

export interface RemoveResult {
  /** Names removed from the image. */
  untagged: string[];
  /** Manifest digest of the image when it was deleted (no name left). */
  deleted?: string;
  freedBytes: number;
}

export interface PruneResult {
  /** Manifest digests of the removed images. */
  removed: string[];
  freedBytes: number;
}

/** Disk usage of a tree (regular files' sizes, hard links counted once). */
async function du(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const st = await fsp.lstat(join(d, n)).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(join(d, n));
      else if (st.isFile() && !seen.has(`${st.dev}:${st.ino}`)) {
        seen.add(`${st.dev}:${st.ino}`);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

/**
 * The node's image store: pulls from registries (mirrors, auth, resumable verified downloads),
 * imports archives, keeps content-addressed blobs and image records, unpacks snapshots, and
 * garbage-collects. Layout under `root`: images.json, blobs/sha256/, ingest/, snapshots/.
 */
export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly platform: Platform;
  private readonly log: Logger;
  private readonly index: ImageIndex;
  /** Registry access and the puller load with the first pull, the importer with the first import: an idle node keeps none of them. */
  private client: Promise<RegistryClient> | undefined;
  private readonly limits: ImageStoreLimits;
  private readonly locks = new KeyedMutex();
  private readonly blobLocks = new KeyedMutex();
  /** Digests being written by pulls/imports in progress: garbage collection skips them. */
  private readonly held = new Map<string, number>();
  private ready: Promise<void> | undefined;

  constructor(private readonly options: ImageStoreOptions) {
    this.root = options.root;
    this.log = options.logger.child({ component: 'images' });
    this.platform = options.platform ?? hostPlatform();
    this.limits = {
      ...DEFAULT_IMAGE_STORE_LIMITS,
      ...options.limits,
      archive: { ...DEFAULT_IMPORT_LIMITS, ...options.limits?.archive },
    };
    this.content = new ContentStore(this.root);
    this.index = new ImageIndex(join(this.root, 'images.json'));
    this.snapshots = new Snapshotter({
      dir: join(this.root, 'snapshots'),
      store: this.content,
      logger: this.log,
      maxLayerBytes: this.limits.maxLayerBytes,
      maxImageBytes: this.limits.maxImageBytes,
      ...(this.limits.minFreeBytes !== undefined ? { minFreeBytes: this.limits.minFreeBytes } : {}),
    });
  }

  private registryClient(): Promise<RegistryClient> {
    this.client ??= import('./registry-client.js').then(
      ({ RegistryClient }) =>
        new RegistryClient({
          config: this.options.registries ?? emptyRegistriesConfig(),
          logger: this.log,
          maxManifestBytes: this.limits.maxManifestBytes,
          ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        }),
    );
    return this.client;
  }

  /** Creates the directories, cleans interrupted work and loads images.json. Idempotent. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await fsp.mkdir(this.root, { recursive: true, mode: 0o711 });
      await this.content.init();
      await this.snapshots.init();
      await this.index.load();
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  /** The name a reference is recorded under: registry/repo:tag, or registry/repo@digest. */
  static recordName(ref: ImageRef): string {
    return formatImageRef(ref.digest ? { registry: ref.registry, repository: ref.repository, digest: ref.digest } : ref);
  }

  pull(reference: string, options: PullOptions = {}): Promise<ImageRecord> {
    return this.namingNoSpace(() => this.pullImage(reference, options));
  }

  private async pullImage(reference: string, options: PullOptions): Promise<ImageRecord> {
    await this.init();
    const ref = parseImageRef(reference);
    const name = ImageStore.recordName(ref);
    const held: string[] = [];
    const started = Date.now();
    try {
      const [{ pullImage }, client] = await Promise.all([import('./puller.js'), this.registryClient()]);
      const image = await pullImage(
        {
          client,
          store: this.content,
          logger: this.log,
          platform: this.platform,
          limits: this.limits,
          blobLocks: this.blobLocks,
          ...(this.options.concurrency ? { concurrency: this.options.concurrency } : {}),
          ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
          ...(this.options.backoffMs !== undefined ? { backoffMs: this.options.backoffMs } : {}),
          existing: (digest) => this.complete(digest),
          hold: (digest) => {
            this.hold(digest);
            held.push(digest);
          },
        },
        { ref, onProgress: options.onProgress, signal: options.signal },
      );
      const record = await this.record({ ...image, names: [name] });
      options.onProgress?.({ type: 'done', digest: record.digest });
      this.log.info({ reference: name, digest: record.digest, ms: Date.now() - started }, 'image pulled');
      return record;
    } finally {
      for (const d of held) this.release(d);
    }
  }

  /** Imports a `docker save` archive or an OCI layout tarball; no network involved. */
  importArchive(file: string): Promise<ImageRecord[]> {
    return this.namingNoSpace(() => this.importImages(file));
  }

  private async importImages(file: string): Promise<ImageRecord[]> {
    await this.init();
    const { importImageArchive } = await import('./archive-import.js');
    const images = await importImageArchive(file, { store: this.content, logger: this.log, platform: this.platform, limits: this.limits.archive });
    const out: ImageRecord[] = [];
    for (const image of images) out.push(await this.record(image));
    return out;
  }

  private async record(image: ImportedImage): Promise<ImageRecord> {
    return this.locks.run('index', async () => {
      const stored = this.index.put({ ...image, createdAt: this.now() });
      await this.index.save();
      return stored;
    });
  }

  /** The stored record with this manifest digest if every blob it needs is present. */
  private async complete(digest: string): Promise<ImportedImage | undefined> {
    const r = this.index.byDigest(digest);
    if (!r) return undefined;
    for (const d of [r.digest, r.configDigest, ...r.layers]) if (!(await this.content.has(d))) return undefined;
    const { createdAt: _createdAt, ...rest } = r;
    return { ...rest, names: [] };
  }

  async list(): Promise<ImageRecord[]> {
    await this.init();
    return this.index.all().sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.digest.localeCompare(b.digest));
  }

  /**
   * When the image was built (its config's `created`), undefined when the config does not say
   * or cannot be read. Read from the config blob, not the record: `createdAt` is when the image
   * arrived here, and records stored before this existed have nothing else.
   */
  async imageCreated(image: ImageRecord): Promise<string | undefined> {
    try {
      return parseImageConfig(await this.content.get(image.configDigest, this.limits.maxConfigBytes)).created;
    } catch (err) {
      this.log.debug({ image: image.digest, err: errorMessage(err) }, 'cannot read the image config');
      return undefined;
    }
  }

  /**
   * Resolves a user string: a full digest (manifest, config or index digest), a canonical name
   * (busybox → docker.io/library/busybox:latest, repo@sha256:…), or an image-ID prefix of at
   * least 4 hex digits (config or manifest digest). Undefined when nothing matches.
   */
  async get(reference: string): Promise<ImageRecord | undefined> {
    await this.init();
    return this.resolve(reference.trim()).record;
  }

  /** Like get(), but throws ImageNotFound. */
  async require(reference: string): Promise<ImageRecord> {
    const r = await this.get(reference);
    if (!r) throw new GroveError(ErrorCode.ImageNotFound, `image "${reference}" not found locally`, { details: { reference } });
    return r;
  }

  private resolve(s: string): { record?: ImageRecord; name?: string } {
    const all = this.index.all();
    const byAnyDigest = (d: string): ImageRecord | undefined =>
      all.find((r) => r.digest === d) ?? all.find((r) => r.configDigest === d) ?? all.find((r) => r.indexDigest === d);
    if (DIGEST_RE.test(s)) return { record: byAnyDigest(s) };
    if (/^[a-f0-9]{64}$/.test(s)) return { record: byAnyDigest(`sha256:${s}`) };

    let parseError: unknown;
    try {
      const ref = parseImageRef(s);
      const name = ImageStore.recordName(ref);
      const named = this.index.byName(name);
      if (named) return { record: named, name };
      if (ref.digest) {
        const r = byAnyDigest(ref.digest);
        if (r) return { record: r };
      }
    } catch (err) {
      parseError = err;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{4,63})$/.exec(s)?.[1];
    if (prefix) {
      const matches = all.filter((r) => r.configDigest.slice(7).startsWith(prefix) || r.digest.slice(7).startsWith(prefix));
      if (matches.length === 1) return { record: matches[0]! };
      if (matches.length > 1) {
        throw new GroveError(ErrorCode.InvalidArgument, `image ID prefix "${s}" is ambiguous (${matches.length} images match)`);
      }
      return {};
    }
    if (parseError) throw parseError;
    return {};
  }

  /**
   * docker rmi: a name removes that name; the image itself (record, snapshot, blobs no other
   * image uses) goes when no name is left or when it was addressed by digest/ID. Refused with
   * ImageInUse when the image would be deleted while `inUse(manifestDigest)` says a container
   * uses it.
   */
  async remove(reference: string, inUse?: (digest: string) => boolean): Promise<RemoveResult> {
    await this.init();
    const removed = await this.locks.run('index', async () => {
      const { record, name } = this.resolve(reference.trim());
      if (!record) throw new GroveError(ErrorCode.ImageNotFound, `image "${reference}" not found locally`, { details: { reference } });
      const untagOnly = name !== undefined && record.names.length > 1;
      if (untagOnly) {
        this.index.untag(name);
        await this.index.save();
        return { untagged: [name] };
      }
      if (inUse?.(record.digest)) {
        throw new GroveError(ErrorCode.ImageInUse, `image "${reference}" (${record.digest.slice(0, 19)}) is used by a container; remove the container first`, {
          details: { digest: record.digest },
        });
      }
      this.index.delete(record.digest);
      await this.index.save();
      return { untagged: record.names, deleted: record.digest };
    });
    if (!removed.deleted) return { ...removed, freedBytes: 0 };
    const freedBytes = await this.collectGarbage();
    this.log.info({ reference, digest: removed.deleted, freedBytes }, 'image removed');
    return { ...removed, freedBytes };
  }

  /** Removes every image whose manifest (or config) digest is not in `inUse`, then collects garbage. */
  async prune(inUse: Set<string>): Promise<PruneResult> {
    await this.init();
    const removed = await this.locks.run('index', async () => {
      const gone: string[] = [];
      for (const r of this.index.all()) {
        if (inUse.has(r.digest) || inUse.has(r.configDigest)) continue;
        this.index.delete(r.digest);
        gone.push(r.digest);
      }
      await this.index.save();
      return gone;
    });
    const freedBytes = (await this.collectGarbage()) + (await this.content.clearPartials());
    this.log.info({ removed: removed.length, freedBytes }, 'images pruned');
    return { removed, freedBytes };
  }

  /**
   * Deletes blobs and snapshots no record references (blobs of pulls/imports in progress are
   * held and kept). Returns the bytes freed.
   */
  async collectGarbage(): Promise<number> {
    await this.init();
    return this.locks.run('index', async () => {
      const records = this.index.all();
      const wanted = new Set<string>(this.held.keys());
      const snapshotKeys = new Set<string>();
      for (const r of records) {
        for (const d of [r.digest, r.configDigest, r.indexDigest, ...r.layers]) if (d) wanted.add(d);
        snapshotKeys.add(this.snapshots.key(r));
      }
      let freed = 0;
      for (const d of await this.content.list()) if (!wanted.has(d)) freed += await this.content.delete(d);
      for (const key of await this.snapshots.list()) {
        if (snapshotKeys.has(key)) continue;
        freed += await du(this.snapshots.keyDir(key));
        await this.snapshots.removeKey(key);
      }
      return freed;
    });
  }

  /** The image's unpacked read-only rootfs (created once, on first use). */
  async snapshot(image: ImageRecord, signal?: AbortSignal): Promise<string> {
    await this.init();
    const held = [image.digest, image.configDigest, ...image.layers];
    held.forEach((d) => this.hold(d));
    try {
      return await this.namingNoSpace(() => this.snapshots.snapshot(image, signal));
    } catch (err) {
      if (isGroveError(err, ErrorCode.DigestMismatch)) this.log.error({ image: image.digest, err: err.message }, 'stored layer failed verification');
      throw err;
    } finally {
      held.forEach((d) => this.release(d));
    }
  }

  /** A full disk anywhere in a pull, import or unpack is reported as such, naming the file (or the store). */
  private async namingNoSpace<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw isNoSpace(err) ? noSpaceError((err as NodeJS.ErrnoException).path ?? this.root, err) : err;
    }
  }

  private hold(digest: string): void {
    this.held.set(digest, (this.held.get(digest) ?? 0) + 1);
  }

  private release(digest: string): void {
    const n = (this.held.get(digest) ?? 1) - 1;
    if (n <= 0) this.held.delete(digest);
    else this.held.set(digest, n);
  }
}
