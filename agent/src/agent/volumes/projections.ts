/**
 * Volumes whose files the agent writes: ConfigMap and Secret volumes (the object's keys, or the
 * listed items), downwardAPI volumes (the pod's fields and its containers' resources) and
 * projected volumes (several of those sources in one directory). Written with the atomic writer
 * so running containers see changes in place; a volume with any Secret in it sits on a tmpfs.
 */
import { createHash } from 'node:crypto';
import type { DownwardFile, KeyToPath, Volume } from '../../../../src/core/resolved-pod.js';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { ConfigKind, ConfigObject, ConfigSource } from '../config-source.js';
import { missingConfig } from './config-env.js';
import type { ProjectedFile } from './atomic-writer.js';
import { downwardFiles, type DownwardContext } from './downward.js';

export const DEFAULT_FILE_MODE = 0o644;

/** One ConfigMap or Secret a volume projects. */
export interface ProjectionSource {
  kind: ConfigKind;
  name: string;
  /** The pod's namespace: the object is looked up there. */
  namespace: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

/** Everything one volume projects: its ConfigMaps and Secrets, and its downward API files. */
export interface VolumeProjection {
  config: ProjectionSource[];
  downward: DownwardFile[];
  defaultMode: number;
  /** On a tmpfs: it holds a Secret. */
  secret: boolean;
}

/** A ConfigMap or Secret volume of a pod in `namespace` as what it projects; undefined for other volumes. */
export function projectionOf(v: Volume, namespace: string): ProjectionSource | undefined {
  if ('configMap' in v) return { kind: 'ConfigMap', namespace, ...v.configMap };
  if ('secret' in v) {
    const { secretName, ...rest } = v.secret;
    return { kind: 'Secret', name: secretName, namespace, ...rest };
  }
  return undefined;
}

/** What a volume projects; undefined for volumes that are directories (emptyDir, hostPath, claims). */
export function volumeProjectionOf(v: Volume, namespace: string): VolumeProjection | undefined {
  const single = projectionOf(v, namespace);
  if (single) return { config: [single], downward: [], defaultMode: single.defaultMode ?? DEFAULT_FILE_MODE, secret: single.kind === 'Secret' };
  if ('downwardAPI' in v) return { config: [], downward: v.downwardAPI.items, defaultMode: v.downwardAPI.defaultMode ?? DEFAULT_FILE_MODE, secret: false };
  if (!('projected' in v)) return undefined;
  const defaultMode = v.projected.defaultMode ?? DEFAULT_FILE_MODE;
  const config: ProjectionSource[] = [];
  const downward: DownwardFile[] = [];
  for (const s of v.projected.sources) {
    // A source's own items keep their modes; the rest take the volume's defaultMode.
    if ('configMap' in s) config.push({ kind: 'ConfigMap', namespace, ...s.configMap, defaultMode });
    else if ('secret' in s) config.push({ kind: 'Secret', namespace, ...s.secret, defaultMode });
    else downward.push(...s.downwardAPI.items);
  }
  return { config, downward, defaultMode, secret: config.some((c) => c.kind === 'Secret') };
}

/**
 * The files of one ConfigMap or Secret (none when the object is missing and optional). A missing
 * object or listed key fails naming it (never its values).
 */
export function projectedFiles(source: ProjectionSource, config: ConfigSource | undefined): { files: ProjectedFile[]; version: string } {
  const obj: ConfigObject | undefined = config?.get(source.kind, source.name, source.namespace);
  if (!obj) {
    if (source.optional) return { files: [], version: 'absent' };
    throw missingConfig(source.kind, source.name, undefined, source.namespace);
  }
  const mode = source.defaultMode ?? DEFAULT_FILE_MODE;
  const files: ProjectedFile[] = [];
  // binaryData (a ConfigMap's) is mounted as the bytes it holds; env never reads it, as in Kubernetes.
  const bytes = (key: string): Uint8Array | undefined => (obj.binaryData?.[key] !== undefined ? Buffer.from(obj.binaryData[key]!, 'base64') : undefined);
  if (source.items) {
    for (const item of source.items) {
      const content = obj.data[item.key] ?? bytes(item.key);
      if (content === undefined) {
        if (source.optional) continue;
        throw missingConfig(source.kind, source.name, item.key, source.namespace);
      }
      files.push({ path: item.path, content, mode: item.mode ?? mode });
    }
  } else {
    for (const [key, content] of Object.entries(obj.data)) files.push({ path: key, content, mode });
    for (const key of Object.keys(obj.binaryData ?? {})) files.push({ path: key, content: bytes(key)!, mode });
  }
  return { files, version: obj.version };
}

/**
 * Every file of a volume and a version that changes when any of them does: the objects'
 * versions, and a digest of the downward files (labels and annotations change in place). Two
 * sources writing one path fail, naming it, as Kubernetes refuses such a projection.
 */
export function volumeFiles(p: VolumeProjection, config: ConfigSource | undefined, context: DownwardContext | undefined): { files: ProjectedFile[]; version: string } {
  const files: ProjectedFile[] = [];
  const versions: string[] = [];
  for (const source of p.config) {
    const one = projectedFiles(source, config);
    files.push(...one.files);
    versions.push(`${source.kind}/${source.name}@${one.version}`);
  }
  if (p.downward.length > 0) {
    if (!context) throw new GroveError(ErrorCode.InvalidArgument, 'downwardAPI files: the pod\'s fields are not available here');
    const own = downwardFiles(p.downward, context, p.defaultMode);
    files.push(...own);
    const digest = createHash('sha256');
    for (const f of own) digest.update(`${f.path}\0${f.mode}\0${f.content}\0`);
    versions.push(`downward@${digest.digest('hex').slice(0, 16)}`);
  }
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new GroveError(ErrorCode.InvalidArgument, `two sources of the volume write "${f.path}"`);
    seen.add(f.path);
  }
  return { files, version: versions.join(' ') };
}

/** Room for two versions side by side (the atomic swap) and some slack. */
export function secretTmpfsBytes(files: readonly ProjectedFile[]): number {
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content) + 4096, 0);
  return Math.max(4 * 1024 * 1024, bytes * 4);
}
