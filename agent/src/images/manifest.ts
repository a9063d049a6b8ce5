import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { isDigest } from './digest.js';
import type { ImageRunConfig, Platform } from './types.js';

export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

/** What the manifest GET asks for, best first. */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageManifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndexManifest {
  mediaType: string;
  manifests: Descriptor[];
}

export type ParsedManifest = { kind: 'index'; index: ImageIndexManifest } | { kind: 'manifest'; manifest: ImageManifest };

function invalid(what: string, why: string): GroveError {
  return new GroveError(ErrorCode.ManifestInvalid, `${what}: ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new GroveError(ErrorCode.ManifestInvalid, `${what}: not valid JSON`, { cause: err });
  }
  if (!isObject(value)) throw invalid(what, 'not a JSON object');
  return value;
}

export function parseDescriptor(raw: unknown, what: string): Descriptor {
  if (!isObject(raw)) throw invalid(what, 'descriptor is not an object');
  const { mediaType, digest, size } = raw;
  if (typeof mediaType !== 'string' || mediaType.length === 0) throw invalid(what, 'descriptor has no mediaType');
  if (!isDigest(digest)) throw invalid(what, `descriptor digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(what, 'descriptor size is not a non-negative integer');
  const desc: Descriptor = { mediaType, digest, size };
  if (isObject(raw.platform)) {
    const p = raw.platform;
    desc.platform = {
      ...(typeof p.os === 'string' ? { os: p.os } : {}),
      ...(typeof p.architecture === 'string' ? { architecture: p.architecture } : {}),
      ...(typeof p.variant === 'string' ? { variant: p.variant } : {}),
    };
  }
  if (isObject(raw.annotations)) {
    desc.annotations = Object.fromEntries(Object.entries(raw.annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  if (Array.isArray(raw.urls)) desc.urls = raw.urls.filter((u): u is string => typeof u === 'string');
  return desc;
}

function stripParams(contentType: string | undefined | null): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

/**
 * Parses an image index / manifest list or an image manifest. The media type comes from the
 * body when present, else from Content-Type, else from the shape (OCI allows omitting it).
 */
export function parseManifest(bytes: Buffer, contentType?: string | null, what = 'manifest'): ParsedManifest {
  const body = parseJson(bytes, what);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : stripParams(contentType);
  if (declared === MediaType.DockerManifestV1 || declared === MediaType.DockerManifestV1Signed || body.schemaVersion === 1) {
    throw new GroveError(ErrorCode.UnsupportedMediaType, `${what}: Docker schema 1 manifests are not supported (re-push the image with a current client)`);
  }
  if (body.schemaVersion !== 2) throw invalid(what, `unsupported schemaVersion ${JSON.stringify(body.schemaVersion)}`);
  const isIndex =
    declared === MediaType.OciIndex || declared === MediaType.DockerManifestList || (declared === undefined && Array.isArray(body.manifests));
  if (isIndex) {
    if (!Array.isArray(body.manifests)) throw invalid(what, 'index has no manifests list');
    const manifests = body.manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`));
    return { kind: 'index', index: { mediaType: declared ?? MediaType.OciIndex, manifests } };
  }
  const isManifest =
    declared === MediaType.OciManifest || declared === MediaType.DockerManifest || (declared === undefined && isObject(body.config));
  if (!isManifest) throw new GroveError(ErrorCode.UnsupportedMediaType, `${what}: unsupported media type ${declared ?? '(none)'}`);
  if (!Array.isArray(body.layers)) throw invalid(what, 'manifest has no layers list');
  const config = parseDescriptor(body.config, `${what} config`);
  const layers = body.layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`));
  return { kind: 'manifest', manifest: { mediaType: declared ?? MediaType.OciManifest, config, layers } };
}

export type LayerCompression = 'gzip' | 'none';

/** Checks that an image manifest is a runnable container image; returns each layer's compression. */
export function checkImageManifest(m: ImageManifest, what: string): LayerCompression[] {
  if (m.config.mediaType !== MediaType.OciConfig && m.config.mediaType !== MediaType.DockerConfig) {
    throw new GroveError(ErrorCode.UnsupportedMediaType, `${what} is not a container image (config media type ${m.config.mediaType})`);
  }
  return m.layers.map((l) => {
    switch (l.mediaType) {
      case MediaType.OciLayerGzip:
      case MediaType.DockerLayerGzip:
        return 'gzip';
      case MediaType.OciLayer:
      case MediaType.DockerLayer:
        return 'none';
      case MediaType.OciLayerZstd:
        throw new GroveError(ErrorCode.UnsupportedMediaType, `${what}: zstd-compressed layers are not supported (layer ${l.digest})`);
      default:
        throw new GroveError(ErrorCode.UnsupportedMediaType, `${what}: unsupported layer media type ${l.mediaType}`);
    }
  });
}

export interface ParsedImageConfig {
  platform: Platform;
  runConfig: ImageRunConfig;
  diffIds: string[];
  /** When the image was built (the config's `created`, RFC 3339), if it says so. */
  created?: string;
}

/** A `created` worth showing: an RFC 3339 date-time that parses. Absent or odd → undefined. */
function createdOf(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 64 || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) return undefined;
  return Number.isFinite(Date.parse(v)) ? v : undefined;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function parseImageConfig(bytes: Buffer, what = 'image config'): ParsedImageConfig {
  const body = parseJson(bytes, what);
  if (typeof body.architecture !== 'string' || typeof body.os !== 'string') throw invalid(what, 'missing os or architecture');
  const rootfs = body.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) throw invalid(what, 'rootfs.diff_ids missing');
  const diffIds = rootfs.diff_ids.map((d, i) => {
    if (!isDigest(d)) throw invalid(what, `rootfs.diff_ids[${i}] is not sha256:<64 hex>`);
    return d;
  });
  const c = isObject(body.config) ? body.config : {};
  const labels = isObject(c.Labels)
    ? Object.fromEntries(Object.entries(c.Labels).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const runConfig: ImageRunConfig = {
    env: stringList(c.Env),
    entrypoint: stringList(c.Entrypoint),
    cmd: stringList(c.Cmd),
    workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
    user: typeof c.User === 'string' ? c.User : '',
    labels,
    ...(typeof c.StopSignal === 'string' && c.StopSignal ? { stopSignal: c.StopSignal } : {}),
  };
  const platform: Platform = {
    os: body.os,
    architecture: body.architecture,
    ...(typeof body.variant === 'string' && body.variant ? { variant: body.variant } : {}),
  };
  const created = createdOf(body.created);
  return { platform, runConfig, diffIds, ...(created !== undefined ? { created } : {}) };
}
