import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { formatImageRef, parseImageRef } from '../../../src/core/image-ref.js';
import type { ContentStore } from './content-store.js';
import { assertDigest, sha256Digest } from './digest.js';
import { randomSuffix, writeFully } from './fs-util.js';
import { drain } from './layer-unpack.js';
import { extractFailure } from './tar-util.js';
import { checkImageManifest, MediaType, parseImageConfig, parseJson, parseManifest, type Descriptor } from './manifest.js';
import { platformScore, selectManifest } from './platform.js';
import type { ImageRecord, Platform } from './types.js';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './import-limits.js';

/**
 * Offline import of (a) `docker save` archives (manifest.json, <config>.json, <id>/layer.tar)
 * and (b) OCI image layout tarballs (oci-layout, index.json, blobs/sha256/…), optionally
 * gzip-compressed. The archive is streamed once: every regular file goes to a private temp dir
 * in the ingest area while being hashed; then the format is recognised, every digest verified
 * (blob names, config, layers against diff_ids) and only referenced, verified blobs are moved
 * into the content store. The temp dir is always removed.
 */

export { DEFAULT_IMPORT_LIMITS, type ImportLimits };

export interface ImportOptions {
  store: ContentStore;
  logger: Logger;
  platform: Platform;
  limits?: Partial<ImportLimits>;
}

export type ImportedImage = Omit<ImageRecord, 'createdAt'>;

interface ArchiveFile {
  tmp: string;
  digest: string;
  size: number;
}

const ANNOTATION_REF = 'org.opencontainers.image.ref.name';
const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

function invalid(file: string, why: string): GroveError {
  return new GroveError(ErrorCode.ArchiveInvalid, `${file}: ${why}`, { details: { file } });
}

/** Archive member names: relative, no "..", no NUL. */
function cleanArchivePath(archive: string, name: string): string {
  if (name.includes('\0')) throw invalid(archive, 'entry name contains NUL');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw invalid(archive, `entry "${name.slice(0, 200)}" contains ".."`);
  return parts.join('/');
}

class ArchiveReader {
  readonly files = new Map<string, ArchiveFile>();
  private readonly links = new Map<string, string>();

  constructor(
    private readonly archive: string,
    private readonly dir: string,
    private readonly limits: ImportLimits,
  ) {}

  async scan(): Promise<void> {
    const head = Buffer.alloc(2);
    const fh = await fsp.open(this.archive, 'r');
    try {
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
    // Loaded on use: importing an archive is rare, and the agent would carry tar-stream (~5 MiB resident) for nothing.
    const { default: tar } = await import('tar-stream');
    const extract = tar.extract();
    const stages = head[0] === 0x1f && head[1] === 0x8b ? [createGunzip()] : [];
    const feeding = pipeline([createReadStream(this.archive), ...stages, extract as unknown as NodeJS.WritableStream]).then(
      () => undefined,
      (err: unknown) => err ?? new Error('archive stream failed'),
    );
    let loopError: unknown;
    let entries = 0;
    let total = 0;
    let writing = this.dir;
    try {
      for await (const entry of extract) {
        const h = entry.header;
        if (++entries > this.limits.maxEntries) throw new GroveError(ErrorCode.SizeLimit, `${this.archive}: more than ${this.limits.maxEntries} entries`);
        const name = cleanArchivePath(this.archive, h.name);
        if (h.type === 'symlink' || h.type === 'link') {
          if (h.type === 'symlink' && h.linkname.startsWith('/')) throw invalid(this.archive, `absolute symlink "${name}"`);
          const base = h.type === 'symlink' ? posix.dirname(name) : '';
          const target = cleanArchivePath(this.archive, posix.join(base, h.linkname));
          this.links.set(name, target);
          await drain(entry);
          continue;
        }
        if (h.type !== 'file' && h.type !== 'contiguous-file') {
          await drain(entry);
          continue;
        }
        total += h.size ?? 0;
        if (total > this.limits.maxBytes) throw new GroveError(ErrorCode.SizeLimit, `${this.archive}: content exceeds ${this.limits.maxBytes} bytes`);
        const tmp = join(this.dir, String(entries));
        writing = tmp;
        const hash = createHash('sha256');
        let size = 0;
        const out = await fsp.open(tmp, 'wx', 0o600);
        try {
          for await (const chunk of entry) {
            hash.update(chunk as Buffer);
            size += (chunk as Buffer).length;
            await writeFully(out, chunk as Buffer);
          }
          await out.sync();
        } finally {
          await out.close();
        }
        this.files.set(name, { tmp, digest: `sha256:${hash.digest('hex')}`, size });
      }
    } catch (err) {
      loopError = err;
    }
    const failure = extractFailure(loopError, await feeding, {
      invalid: (message) => invalid(this.archive, `not a valid tar archive: ${message}`),
      writing: () => writing,
    });
    if (failure !== undefined) throw failure;
  }

  /** The file at `name`, following symlinks and hard links inside the archive. */
  file(name: string): ArchiveFile | undefined {
    let n = cleanArchivePath(this.archive, name);
    for (let hops = 0; hops < 16; hops++) {
      const f = this.files.get(n);
      if (f) return f;
      const next = this.links.get(n);
      if (next === undefined) return undefined;
      n = next;
    }
    return undefined;
  }

  async read(name: string, max: number): Promise<Buffer> {
    const f = this.file(name);
    if (!f) throw invalid(this.archive, `missing ${name}`);
    if (f.size > max) throw new GroveError(ErrorCode.SizeLimit, `${this.archive}: ${name} is ${f.size} bytes, limit ${max}`);
    return fsp.readFile(f.tmp);
  }
}

async function gunzipDigest(path: string): Promise<string | undefined> {
  const head = Buffer.alloc(2);
  const fh = await fsp.open(path, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return undefined;
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  return `sha256:${hash.digest('hex')}`;
}

function nameFromRef(archive: string, raw: string): string {
  try {
    const ref = parseImageRef(raw);
    return formatImageRef(ref.digest ? { registry: ref.registry, repository: ref.repository, digest: ref.digest } : ref);
  } catch (err) {
    throw invalid(archive, `image name "${raw}" is not a valid reference: ${(err as Error).message}`);
  }
}

/** Reads an archive and commits the verified blobs of every image in it. */
export async function importImageArchive(archive: string, options: ImportOptions): Promise<ImportedImage[]> {
  const limits = { ...DEFAULT_IMPORT_LIMITS, ...options.limits };
  const { store, logger } = options;
  const dir = join(store.ingestDir, `import-${randomSuffix()}`);
  await fsp.mkdir(dir, { mode: 0o700 });
  try {
    const reader = new ArchiveReader(archive, dir, limits);
    await reader.scan();
    const pending = new Map<string, ArchiveFile | Buffer>();
    let images: ImportedImage[];
    if (reader.file('oci-layout') && reader.file('index.json')) {
      images = await readOciLayout(archive, reader, options.platform, limits, pending);
    } else if (reader.file('manifest.json')) {
      images = await readDockerSave(archive, reader, limits, pending);
    } else {
      throw invalid(archive, 'neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)');
    }
    for (const [digest, source] of pending) {
      if (await store.has(digest)) continue;
      if (Buffer.isBuffer(source)) await store.put(source, digest);
      else await store.commit(source.tmp, digest);
    }
    logger.info({ archive, images: images.length, blobs: pending.size }, 'archive imported');
    return images;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function readOciLayout(
  archive: string,
  reader: ArchiveReader,
  platform: Platform,
  limits: ImportLimits,
  pending: Map<string, ArchiveFile | Buffer>,
): Promise<ImportedImage[]> {
  const layout = parseJson(await reader.read('oci-layout', 64 * 1024), `${archive}: oci-layout`);
  if (typeof layout.imageLayoutVersion !== 'string') throw invalid(archive, 'oci-layout has no imageLayoutVersion');
  const index = parseManifest(await reader.read('index.json', limits.maxManifestBytes), undefined, `${archive}: index.json`);
  if (index.kind !== 'index') throw invalid(archive, 'index.json is not an image index');

  /** A verified blob of the layout. */
  const blob = (desc: Pick<Descriptor, 'digest' | 'size'>): ArchiveFile => {
    const f = reader.file(`blobs/sha256/${desc.digest.slice('sha256:'.length)}`);
    if (!f) throw invalid(archive, `blob ${desc.digest} is missing`);
    assertDigest(desc.digest, f.digest, `${archive}: blobs/sha256/${desc.digest.slice(7, 19)}…`);
    if (f.size !== desc.size) throw invalid(archive, `blob ${desc.digest} is ${f.size} bytes, descriptor says ${desc.size}`);
    return f;
  };
  const readBlob = async (desc: Descriptor, max: number): Promise<Buffer> => {
    const f = blob(desc);
    if (f.size > max) throw new GroveError(ErrorCode.SizeLimit, `${archive}: blob ${desc.digest} is ${f.size} bytes, limit ${max}`);
    return fsp.readFile(f.tmp);
  };

  // index.json may list one manifest per platform for the same name: keep the best match per
  // name and skip platforms this host cannot run.
  const nameOf = (d: Descriptor): string | undefined => d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF];
  const chosen = new Map<string, { desc: Descriptor; score: number }>();
  index.index.manifests.forEach((d, i) => {
    const p = d.platform;
    const score = p?.os && p.architecture ? platformScore(platform, { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) }) : 0;
    if (score === undefined) return;
    const key = nameOf(d) ?? `#${i}`;
    const best = chosen.get(key);
    if (!best || score < best.score) chosen.set(key, { desc: d, score });
  });
  if (chosen.size === 0 && index.index.manifests.length > 0) {
    selectManifest(index.index, platform, archive); // throws PlatformNotFound naming what is there
  }

  const images: ImportedImage[] = [];
  for (const { desc: top } of chosen.values()) {
    const rawName = nameOf(top);
    const names = rawName ? [nameFromRef(archive, rawName)] : [];
    let desc = top;
    let indexDigest: string | undefined;
    let parsed = parseManifest(await readBlob(desc, limits.maxManifestBytes), desc.mediaType, `${archive}: manifest ${desc.digest}`);
    for (let depth = 0; parsed.kind === 'index'; depth++) {
      if (depth >= 2) throw invalid(archive, 'image indexes nested too deeply');
      pending.set(desc.digest, blob(desc));
      indexDigest ??= desc.digest;
      desc = selectManifest(parsed.index, platform, rawName ?? desc.digest);
      parsed = parseManifest(await readBlob(desc, limits.maxManifestBytes), desc.mediaType, `${archive}: manifest ${desc.digest}`);
    }
    const manifest = parsed.manifest;
    checkImageManifest(manifest, `${archive}: ${rawName ?? desc.digest}`);
    const config = parseImageConfig(await readBlob(manifest.config, limits.maxConfigBytes), `${archive}: config ${manifest.config.digest}`);
    if (config.diffIds.length !== manifest.layers.length) {
      throw invalid(archive, `image ${desc.digest} has ${manifest.layers.length} layers but ${config.diffIds.length} diff_ids`);
    }
    pending.set(desc.digest, blob(desc));
    pending.set(manifest.config.digest, blob(manifest.config));
    for (const l of manifest.layers) pending.set(l.digest, blob(l));
    images.push({
      names,
      digest: desc.digest,
      ...(indexDigest ? { indexDigest } : {}),
      configDigest: manifest.config.digest,
      platform: config.platform,
      config: config.runConfig,
      layers: manifest.layers.map((l) => l.digest),
      diffIds: config.diffIds,
      size: manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0),
    });
  }
  return images;
}

async function readDockerSave(archive: string, reader: ArchiveReader, limits: ImportLimits, pending: Map<string, ArchiveFile | Buffer>): Promise<ImportedImage[]> {
  const raw: unknown = JSON.parse((await reader.read('manifest.json', limits.maxManifestBytes)).toString('utf8'));
  if (!Array.isArray(raw) || raw.length === 0) throw invalid(archive, 'manifest.json is not a non-empty list');
  const images: ImportedImage[] = [];
  for (const [i, item] of raw.entries()) {
    const m = item as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (typeof m.Config !== 'string') throw invalid(archive, `manifest.json[${i}].Config is missing`);
    if (!Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) throw invalid(archive, `manifest.json[${i}].Layers is not a list of paths`);
    const configBytes = await reader.read(m.Config, limits.maxConfigBytes);
    const configDigest = sha256Digest(configBytes);
    const named = /([a-f0-9]{64})(?:\.json)?$/.exec(m.Config);
    if (named) assertDigest(`sha256:${named[1]}`, configDigest, `${archive}: ${m.Config}`);
    const config = parseImageConfig(configBytes, `${archive}: ${m.Config}`);
    const layerPaths = m.Layers as string[];
    if (layerPaths.length !== config.diffIds.length) {
      throw invalid(archive, `manifest.json[${i}] lists ${layerPaths.length} layers, the config has ${config.diffIds.length} diff_ids`);
    }
    const layers: Descriptor[] = [];
    for (const [j, path] of layerPaths.entries()) {
      const f = reader.file(path);
      if (!f) throw invalid(archive, `layer ${path} is missing`);
      const diffId = config.diffIds[j]!;
      let mediaType: string = MediaType.OciLayer;
      if (f.digest !== diffId) {
        const unzipped = await gunzipDigest(f.tmp);
        assertDigest(diffId, unzipped ?? f.digest, `${archive}: layer ${path}`);
        mediaType = MediaType.OciLayerGzip;
      }
      layers.push({ mediaType, digest: f.digest, size: f.size });
      pending.set(f.digest, f);
    }
    // docker save has no manifest: synthesise the OCI manifest that describes these blobs.
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
        layers,
      }),
    );
    const digest = sha256Digest(manifest);
    pending.set(configDigest, configBytes);
    pending.set(digest, manifest);
    const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    images.push({
      names: tags.map((t) => nameFromRef(archive, t)),
      digest,
      configDigest,
      platform: config.platform,
      config: config.runConfig,
      layers: layers.map((l) => l.digest),
      diffIds: config.diffIds,
      size: configBytes.length + layers.reduce((a, l) => a + l.size, 0),
    });
  }
  return images;
}

