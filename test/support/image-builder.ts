/**
 * Test-only: builds small OCI images from /usr/bin/busybox, pushes them to a registry with the
 * push side of the distribution API, writes `docker save` and OCI-layout archives, and crafts
 * hostile layers for the unpack security tests.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { hostPlatform } from '../../agent/src/images/platform.js';
import type { Platform } from '../../agent/src/images/types.js';

export const BUSYBOX = '/usr/bin/busybox';
export const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;
export const DOCKER = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const BUSYBOX_APPLETS = [
  'sh', 'echo', 'cat', 'ls', 'sleep', 'yes', 'head', 'tr', 'dd', 'env', 'id', 'wc', 'true', 'false', 'printf', 'top',
  'ps', 'test', 'mkdir', 'rm', 'touch', 'kill', 'nc', 'wget', 'httpd', 'grep', 'sed', 'hostname', 'stat', 'uname', 'whoami',
  // kubectl cp runs tar in the container.
  'tar',
];

export interface LayerEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

export interface BuiltBlob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export interface BuiltLayer extends BuiltBlob {
  diffId: string;
  /** The uncompressed tar. */
  tar: Buffer;
}

export interface BuiltImage {
  kind: 'image';
  platform: Platform;
  config: BuiltBlob;
  layers: BuiltLayer[];
  manifest: BuiltBlob;
}

export interface BuiltIndex {
  kind: 'index';
  index: BuiltBlob;
  images: BuiltImage[];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blob(mediaType: string, data: Buffer): BuiltBlob {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** An uncompressed tar of `entries`, in order (tar-stream). */
export async function tarBuffer(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? FIXED_MTIME,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(type === 'file' ? { size: content?.length ?? 0 } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      pack.entry(header, type === 'file' ? (content ?? Buffer.alloc(0)) : Buffer.alloc(0), cb);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export async function buildLayer(entries: LayerEntry[], options: { gzip?: boolean; docker?: boolean } = {}): Promise<BuiltLayer> {
  const raw = await tarBuffer(entries);
  const gzip = options.gzip ?? true;
  const data = gzip ? gzipSync(raw) : raw;
  const mediaType = gzip ? (options.docker ? DOCKER.layerGzip : OCI.layerGzip) : OCI.layer;
  return { ...blob(mediaType, data), diffId: sha256(raw), tar: raw };
}

export function busyboxEntries(): LayerEntry[] {
  return [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync(BUSYBOX), mode: 0o755 },
    ...BUSYBOX_APPLETS.map((a): LayerEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'root/', type: 'directory', mode: 0o700 },
    { name: 'proc/', type: 'directory' },
    { name: 'sys/', type: 'directory' },
    { name: 'dev/', type: 'directory' },
  ];
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** A platform the host is not: linux/arm/v7, or linux/amd64 on ARM hosts. */
export function otherPlatform(host: Platform = hostPlatform()): Platform {
  return host.architecture === 'arm' || host.architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm', variant: 'v7' };
}

export interface BuildImageOptions {
  platform?: Platform;
  /** Extra layers on top of the busybox layer. */
  layers?: LayerEntry[][];
  /** Written to /etc/grove-platform in a small second layer (default: the platform string). */
  marker?: string;
  mediaTypes?: 'oci' | 'docker';
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
  gzip?: boolean;
}

/** busybox layer + marker layer (+ extra layers), config, manifest. */
export async function buildBusyboxImage(options: BuildImageOptions = {}): Promise<BuiltImage> {
  const platform = options.platform ?? hostPlatform();
  const docker = options.mediaTypes === 'docker';
  const layerOpts = { gzip: options.gzip ?? true, docker };
  const layers = [
    await buildLayer(busyboxEntries(), layerOpts),
    await buildLayer([{ name: 'etc/', type: 'directory' }, { name: 'etc/grove-platform', content: `${options.marker ?? platformString(platform)}\n` }], layerOpts),
  ];
  for (const extra of options.layers ?? []) layers.push(await buildLayer(extra, layerOpts));
  return assembleImage(platform, layers, options);
}

export function assembleImage(platform: Platform, layers: BuiltLayer[], options: BuildImageOptions = {}): BuiltImage {
  const docker = options.mediaTypes === 'docker';
  const configJson = {
    created: FIXED_MTIME.toISOString(),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: options.cmd ?? ['sh'],
      WorkingDir: '/',
      Labels: options.labels ?? { 'org.grove.test': 'true' },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: FIXED_MTIME.toISOString(), created_by: 'grove image-builder' })),
  };
  const config = blob(docker ? DOCKER.config : OCI.config, json(configJson));
  const manifestJson = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER.manifest : OCI.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return { kind: 'image', platform, config, layers, manifest: blob(manifestJson.mediaType, json(manifestJson)) };
}

export function assembleIndex(images: BuiltImage[], docker = false): BuiltIndex {
  const indexJson = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER.list : OCI.index,
    manifests: images.map((img) => ({
      mediaType: img.manifest.mediaType,
      digest: img.manifest.digest,
      size: img.manifest.size,
      platform: { os: img.platform.os, architecture: img.platform.architecture, ...(img.platform.variant ? { variant: img.platform.variant } : {}) },
    })),
  };
  return { kind: 'index', index: blob(indexJson.mediaType, json(indexJson)), images };
}

/** Host platform + otherPlatform(), each with its platform string in /etc/grove-platform. */
export async function buildTwoPlatformIndex(options: { docker?: boolean; host?: Platform } = {}): Promise<BuiltIndex> {
  const host = options.host ?? hostPlatform();
  const mediaTypes = options.docker ? 'docker' : 'oci';
  const other = await buildBusyboxImage({ platform: otherPlatform(host), mediaTypes });
  const native = await buildBusyboxImage({ platform: host, mediaTypes });
  return assembleIndex([other, native], options.docker);
}

export interface PushOptions {
  auth?: { username: string; password: string };
}

/** The push side of the distribution API: blobs (monolithic upload), then manifests. */
export async function pushImage(registryUrl: string, repo: string, tag: string, image: BuiltImage | BuiltIndex, options: PushOptions = {}): Promise<string> {
  const base = registryUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  const check = async (res: Response, what: string, ok: number[]): Promise<void> => {
    if (!ok.includes(res.status)) throw new Error(`push ${what}: HTTP ${res.status} ${await res.text()}`);
  };
  const pushBlob = async (b: BuiltBlob): Promise<void> => {
    const head = await fetch(`${base}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD', headers });
    if (head.status === 200) return;
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
    await check(start, `start upload ${b.digest}`, [202]);
    await start.arrayBuffer();
    const location = new URL(start.headers.get('location') ?? '', `${base}/`);
    location.searchParams.set('digest', b.digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
      body: new Uint8Array(b.data),
    });
    await check(put, `blob ${b.digest}`, [201]);
    await put.arrayBuffer();
  };
  const putManifest = async (m: BuiltBlob, reference: string): Promise<void> => {
    const res = await fetch(`${base}/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': m.mediaType },
      body: new Uint8Array(m.data),
    });
    await check(res, `manifest ${reference}`, [201]);
    await res.arrayBuffer();
  };
  const images = image.kind === 'index' ? image.images : [image];
  for (const img of images) {
    for (const layer of img.layers) await pushBlob(layer);
    await pushBlob(img.config);
    await putManifest(img.manifest, image.kind === 'index' ? img.manifest.digest : tag);
  }
  if (image.kind === 'index') await putManifest(image.index, tag);
  return image.kind === 'index' ? image.index.digest : image.manifest.digest;
}

/** `docker save` layout: <id>/layer.tar (uncompressed), <config hex>.json, manifest.json, repositories. */
export async function writeDockerSaveArchive(file: string, image: BuiltImage, repoTag: string): Promise<void> {
  const configHex = image.config.digest.slice(7);
  const entries: LayerEntry[] = [];
  const layerPaths: string[] = [];
  for (const layer of image.layers) {
    const id = layer.diffId.slice(7);
    const raw = layer.mediaType.endsWith('gzip') ? gunzipSync(layer.data) : layer.data;
    entries.push({ name: `${id}/`, type: 'directory' }, { name: `${id}/VERSION`, content: '1.0' }, { name: `${id}/layer.tar`, content: raw });
    layerPaths.push(`${id}/layer.tar`);
  }
  entries.push({ name: `${configHex}.json`, content: image.config.data });
  entries.push({ name: 'manifest.json', content: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [repoTag], Layers: layerPaths }]) });
  const colon = repoTag.lastIndexOf(':');
  const top = layerPaths[layerPaths.length - 1]!.split('/')[0]!;
  entries.push({ name: 'repositories', content: JSON.stringify({ [repoTag.slice(0, colon)]: { [repoTag.slice(colon + 1)]: top } }) });
  await writeFile(file, await tarBuffer(entries));
}

/**
 * OCI image layout tarball: oci-layout, index.json (ref.name annotation), blobs/sha256/….
 * `flat`: list an index's platform manifests directly in index.json (as `skopeo copy --all`
 * and multi-platform `docker save` do) instead of pointing at the index blob.
 */
export async function writeOciLayoutArchive(file: string, image: BuiltImage | BuiltIndex, refName: string, options: { flat?: boolean } = {}): Promise<void> {
  const blobs = new Map<string, BuiltBlob>();
  const images = image.kind === 'index' ? image.images : [image];
  for (const img of images) for (const b of [...img.layers, img.config, img.manifest]) blobs.set(b.digest, b);
  const top = image.kind === 'index' ? image.index : image.manifest;
  blobs.set(top.digest, top);
  const annotations = { 'org.opencontainers.image.ref.name': refName };
  const index = {
    schemaVersion: 2,
    mediaType: OCI.index,
    manifests:
      options.flat && image.kind === 'index'
        ? images.map((img) => ({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size, platform: img.platform, annotations }))
        : [{ mediaType: top.mediaType, digest: top.digest, size: top.size, annotations }],
  };
  const entries: LayerEntry[] = [
    { name: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', content: JSON.stringify(index) },
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...[...blobs.values()].map((b): LayerEntry => ({ name: `blobs/sha256/${b.digest.slice(7)}`, content: b.data })),
  ];
  await writeFile(file, await tarBuffer(entries));
}

export type HostileKind =
  | 'dotdot-file'
  | 'absolute-file'
  | 'absolute-symlink-write'
  | 'relative-symlink-write'
  | 'symlink-chain-write'
  | 'hardlink-etc-passwd'
  | 'hardlink-absolute-sentinel'
  | 'hardlink-dotdot'
  | 'hardlink-through-symlink'
  | 'file-over-symlink'
  | 'dir-over-symlink'
  | 'hardlink-to-symlink'
  | 'whiteout-through-symlink'
  | 'opaque-through-symlink'
  | 'whiteout-dotdot'
  | 'device-nodes'
  | 'long-name';

export const HOSTILE_KINDS: HostileKind[] = [
  'dotdot-file', 'absolute-file', 'absolute-symlink-write', 'relative-symlink-write', 'symlink-chain-write',
  'hardlink-etc-passwd', 'hardlink-absolute-sentinel', 'hardlink-dotdot', 'hardlink-through-symlink', 'file-over-symlink',
  'dir-over-symlink', 'hardlink-to-symlink', 'whiteout-through-symlink', 'opaque-through-symlink', 'whiteout-dotdot',
  'device-nodes', 'long-name',
];

/**
 * An uncompressed layer that tries to reach `sentinel` (an absolute directory holding a file
 * named "secret") from wherever it is unpacked. Relative escapes climb with enough ".." to
 * reach "/" from any target and then descend to the sentinel.
 */
export async function hostileLayer(kind: HostileKind, sentinel: string): Promise<Buffer> {
  const up = '../'.repeat(32);
  const rel = sentinel.replace(/^\/+/, '');
  const e: Record<HostileKind, LayerEntry[]> = {
    'dotdot-file': [{ name: `${up}${rel}/pwned`, content: 'pwned' }],
    'absolute-file': [{ name: `${sentinel}/pwned`, content: 'pwned' }],
    'absolute-symlink-write': [
      { name: 'link', type: 'symlink', linkname: sentinel },
      { name: 'link/pwned', content: 'pwned' },
    ],
    'relative-symlink-write': [
      { name: 'esc', type: 'symlink', linkname: up.replace(/\/$/, '') },
      { name: `esc/${rel}/pwned`, content: 'pwned' },
    ],
    'symlink-chain-write': [
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: sentinel },
      { name: 'a/pwned', content: 'pwned' },
    ],
    'hardlink-etc-passwd': [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }],
    'hardlink-absolute-sentinel': [{ name: 'pw', type: 'link', linkname: `${sentinel}/secret` }],
    'hardlink-dotdot': [{ name: 'pw', type: 'link', linkname: `${up}${rel}/secret` }],
    'hardlink-through-symlink': [
      { name: 'link', type: 'symlink', linkname: sentinel },
      { name: 'pw', type: 'link', linkname: 'link/secret' },
    ],
    'file-over-symlink': [
      { name: 'victim', type: 'symlink', linkname: `${sentinel}/secret` },
      { name: 'victim', content: 'overwritten', mode: 0o777 },
    ],
    'dir-over-symlink': [
      { name: 'd', type: 'symlink', linkname: sentinel },
      { name: 'd/', type: 'directory', mode: 0o777 },
    ],
    'hardlink-to-symlink': [
      { name: 's', type: 'symlink', linkname: `${sentinel}/secret` },
      { name: 'h', type: 'link', linkname: 's' },
      { name: 'h', content: 'overwritten' },
    ],
    'whiteout-through-symlink': [
      { name: 'link', type: 'symlink', linkname: sentinel },
      { name: 'link/.wh.secret', content: '' },
    ],
    'opaque-through-symlink': [
      { name: 'link', type: 'symlink', linkname: sentinel },
      { name: 'link/.wh..wh..opq', content: '' },
    ],
    'whiteout-dotdot': [{ name: `${up}${rel}/.wh.secret`, content: '' }],
    'device-nodes': [
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
      { name: 'fifo', type: 'fifo' },
      { name: 'ok', content: 'fine' },
    ],
    'long-name': [{ name: `${'d'.repeat(200)}/`.repeat(25) + 'f', content: 'x' }],
  };
  return tarBuffer(e[kind]);
}

/** A ustar header for a regular file `name` of `size` bytes (sizes up to 8 GiB). */
function ustarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => void h.write(value, offset, length, 'ascii');
  const octal = (offset: number, length: number, n: number): void => field(offset, length, `${n.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, Math.floor(FIXED_MTIME.getTime() / 1000));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/**
 * A gzip bomb: a tar holding one file of `size` zero bytes, gzipped as concatenated gzip
 * members (one per MiB of zeros, ~1 KiB each), so a 3 GiB file makes a ~3 MB layer and is
 * never held in memory. Its diff_id is not computed (that would mean hashing `size` bytes).
 */
export function gzipBomb(size: number, name = 'zeros'): Buffer {
  const mib = 1024 * 1024;
  const zeroMiB = gzipSync(Buffer.alloc(mib), { level: 9 });
  const members = [gzipSync(ustarHeader(name, size))];
  for (let i = 0; i < Math.floor(size / mib); i++) members.push(zeroMiB);
  // The rest of the file, its padding to a 512-byte block, and the two zero blocks that end a tar.
  members.push(gzipSync(Buffer.alloc((size % mib) + ((512 - (size % 512)) % 512) + 1024)));
  return Buffer.concat(members);
}
