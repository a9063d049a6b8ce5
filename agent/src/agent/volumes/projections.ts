/**
 * ConfigMap and Secret volumes: the object's keys (or the listed items) as files, written with
 * the atomic writer so running containers see changes in place. Secret volumes sit on a tmpfs.
 */
import type { KeyToPath, Volume } from '../../../../src/core/resolved-pod.js';
import type { ConfigKind, ConfigObject, ConfigSource } from '../config-source.js';
import { missingConfig } from './config-env.js';
import type { ProjectedFile } from './atomic-writer.js';

export const DEFAULT_FILE_MODE = 0o644;

export interface ProjectionSource {
  kind: ConfigKind;
  name: string;
  /** The pod's namespace: the object is looked up there. */
  namespace: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
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

/**
 * The files of one projection (none when the object is missing and optional). A missing
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
  if (source.items) {
    for (const item of source.items) {
      const content = obj.data[item.key];
      if (content === undefined) {
        if (source.optional) continue;
        throw missingConfig(source.kind, source.name, item.key, source.namespace);
      }
      files.push({ path: item.path, content, mode: item.mode ?? mode });
    }
  } else {
    for (const [key, content] of Object.entries(obj.data)) files.push({ path: key, content, mode });
  }
  return { files, version: obj.version };
}

/** Room for two versions side by side (the atomic swap) and some slack. */
export function secretTmpfsBytes(files: readonly ProjectedFile[]): number {
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content) + 4096, 0);
  return Math.max(4 * 1024 * 1024, bytes * 4);
}
