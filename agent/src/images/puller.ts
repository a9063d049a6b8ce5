import type { Logger } from 'pino';
import { ErrorCode, GroveError, isGroveError } from '../../../src/core/errors.js';
import { formatImageRef, type ImageRef } from '../../../src/core/image-ref.js';
import type { ImportedImage } from './archive-import.js';
import { downloadBlob } from './blob-download.js';
import type { ContentStore } from './content-store.js';
import type { KeyedMutex } from './fs-util.js';
import { checkImageManifest, parseImageConfig, parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';
import { formatPlatform, platformScore, selectManifest } from './platform.js';
import type { RegistryEndpoint } from './registries-config.js';
import type { FetchedManifest, RegistryClient } from './registry-client.js';
import type { Platform, PullProgress } from './types.js';

export interface PullLimits {
  maxManifestBytes: number;
  maxConfigBytes: number;
  /** Largest compressed layer accepted from a manifest. */
  maxBlobBytes: number;
}

export interface PullerDeps {
  client: RegistryClient;
  store: ContentStore;
  logger: Logger;
  platform: Platform;
  limits: PullLimits;
  /** One download per digest at a time. */
  blobLocks: KeyedMutex;
  /** Parallel layer downloads (default 3). */
  concurrency?: number;
  retries?: number;
  backoffMs?: number;
  /** The stored image with this manifest digest, when it is complete (all blobs present). */
  existing: (digest: string) => Promise<ImportedImage | undefined>;
  /** Marks a digest as being written so garbage collection leaves it alone. */
  hold: (digest: string) => void;
}

export interface PullRequest {
  ref: ImageRef;
  onProgress?: ((event: PullProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

const PROGRESS_STEP = 256 * 1024;

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const results = await Promise.allSettled(runners);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * The pull flow: manifest (index → the platform's manifest), config, layers (parallel,
 * resumable, verified), then the manifest and index blobs. Returns the image description; the
 * caller records it. An image already stored by digest costs only the manifest requests.
 */
export async function pullImage(deps: PullerDeps, req: PullRequest): Promise<ImportedImage> {
  const { client, store, logger, limits } = deps;
  const { ref, signal } = req;
  const emit = req.onProgress ?? (() => undefined);
  const name = formatImageRef(ref);

  const endpoints = client.endpoints(ref.registry);
  const top = await client.getManifest(ref, ref.digest ?? ref.tag ?? 'latest', signal, endpoints);
  // Later requests go to the endpoint that answered first, then to the others.
  const ordered: RegistryEndpoint[] = [top.endpoint, ...endpoints.filter((e) => e.url !== top.endpoint.url)];
  let current: FetchedManifest = top;
  let parsed: ParsedManifest = parseManifest(top.bytes, top.contentType, `manifest of ${name}`);
  const indexes: FetchedManifest[] = [];
  while (parsed.kind === 'index') {
    if (indexes.length >= 2) throw new GroveError(ErrorCode.ManifestInvalid, `manifest of ${name}: image indexes nested too deeply`);
    indexes.push(current);
    const desc: Descriptor = selectManifest(parsed.index, deps.platform, `"${name}"`);
    current = await client.getManifest(ref, desc.digest, signal, ordered);
    parsed = parseManifest(current.bytes, current.contentType ?? desc.mediaType, `manifest ${desc.digest} of ${name}`);
  }
  const manifest = parsed.manifest;
  const digest = current.digest;
  const indexDigest = indexes[0]?.digest;
  checkImageManifest(manifest, `"${name}"`);
  deps.hold(digest);
  for (const i of indexes) deps.hold(i.digest);

  const layerBytes = manifest.layers.reduce((a, l) => a + l.size, 0);
  const existing = await deps.existing(digest);
  if (existing) {
    logger.debug({ reference: name, digest }, 'image already stored');
    emit({ type: 'resolved', reference: name, digest, layers: manifest.layers.length, totalBytes: layerBytes });
    for (const l of manifest.layers) emit({ type: 'blob-done', digest: l.digest, cached: true });
    for (const i of indexes) await store.put(i.bytes, i.digest);
    return { ...existing, ...(indexDigest ? { indexDigest } : {}) };
  }

  // Config: small, fetched whole and verified.
  const cfg = manifest.config;
  if (cfg.size > limits.maxConfigBytes) throw new GroveError(ErrorCode.SizeLimit, `config of ${name} is ${cfg.size} bytes, limit ${limits.maxConfigBytes}`);
  deps.hold(cfg.digest);
  let configBytes: Buffer;
  if (await store.has(cfg.digest)) {
    configBytes = await store.get(cfg.digest, limits.maxConfigBytes);
  } else {
    configBytes = await fetchWithFallback(ordered, (e) => client.getBlob(e, ref, cfg.digest, limits.maxConfigBytes, signal));
    await store.put(configBytes, cfg.digest);
  }
  const config = parseImageConfig(configBytes, `config of ${name}`);
  if (config.diffIds.length !== manifest.layers.length) {
    throw new GroveError(ErrorCode.ManifestInvalid, `${name}: ${manifest.layers.length} layers but ${config.diffIds.length} diff_ids in the config`);
  }
  if (indexes.length === 0 && platformScore(deps.platform, config.platform) === undefined) {
    logger.warn({ reference: name, image: formatPlatform(config.platform), host: formatPlatform(deps.platform) }, 'image platform does not match this host');
  }

  emit({ type: 'resolved', reference: name, digest, layers: manifest.layers.length, totalBytes: layerBytes });
  for (const l of manifest.layers) {
    deps.hold(l.digest);
    if (l.size > limits.maxBlobBytes) throw new GroveError(ErrorCode.SizeLimit, `layer ${l.digest} of ${name} is ${l.size} bytes, limit ${limits.maxBlobBytes}`);
  }
  const unique = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
  await pool(unique, deps.concurrency ?? 3, async (layer) => {
    await deps.blobLocks.run(layer.digest, async () => {
      if (await store.has(layer.digest)) {
        emit({ type: 'blob-done', digest: layer.digest, cached: true });
        return;
      }
      let endpointIndex = 0;
      let lastEmit = -PROGRESS_STEP;
      const partial = store.partialPath(layer.digest);
      await downloadBlob({
        digest: layer.digest,
        size: layer.size,
        partialPath: partial,
        logger,
        ...(signal ? { signal } : {}),
        ...(deps.retries !== undefined ? { retries: deps.retries } : {}),
        ...(deps.backoffMs !== undefined ? { backoffMs: deps.backoffMs } : {}),
        open: async (start, sig) => {
          for (;;) {
            try {
              return await client.openBlob(ordered[endpointIndex]!, ref, layer.digest, start, sig);
            } catch (err) {
              const movable = isGroveError(err) && (err.code === ErrorCode.RegistryError || err.code === ErrorCode.RegistryUnavailable);
              if (!movable || endpointIndex + 1 >= ordered.length) throw err;
              logger.info({ digest: layer.digest, from: ordered[endpointIndex]!.host, err: (err as Error).message }, 'trying the next endpoint for blob');
              endpointIndex++;
            }
          }
        },
        onProgress: (received, total, resumedFrom) => {
          if (received - lastEmit < PROGRESS_STEP && received < total) return;
          lastEmit = received;
          emit({ type: 'blob', digest: layer.digest, receivedBytes: received, totalBytes: total, ...(resumedFrom ? { resumedFrom } : {}) });
        },
      });
      await store.commit(partial, layer.digest);
      emit({ type: 'blob-done', digest: layer.digest, cached: false });
    });
  });

  await store.put(current.bytes, digest);
  for (const i of indexes) await store.put(i.bytes, i.digest);
  return {
    names: [],
    digest,
    ...(indexDigest ? { indexDigest } : {}),
    configDigest: cfg.digest,
    platform: config.platform,
    config: config.runConfig,
    layers: manifest.layers.map((l) => l.digest),
    diffIds: config.diffIds,
    size: cfg.size + layerBytes,
  };
}

async function fetchWithFallback<T>(endpoints: RegistryEndpoint[], get: (e: RegistryEndpoint) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (const e of endpoints) {
    try {
      return await get(e);
    } catch (err) {
      lastError = err;
      if (!isGroveError(err) || (err.code !== ErrorCode.RegistryError && err.code !== ErrorCode.RegistryUnavailable)) throw err;
    }
  }
  throw lastError;
}
