/**
 * Validation of volumes, volume mounts, env valueFrom and envFrom of a schema-1 target (Grove
 * 0.1's wire, decoded by wire.ts only to be converted to schema 2; objects are checked by their
 * schemas, src/core/objects). Each decoder returns a fresh value holding only known fields;
 * `checkVolumeRefs` adds the rules across a pod. `absolutePath`/`relativePath` are also the path
 * rules of compose binds and --host-path-root.
 */
import type { EnvFromSource, EnvVarSource, HostPathType, KeyToPath, Volume, VolumeMount } from './resolved-pod.js';
import { at, int, list, obj, present, str, type FailField, type Obj } from './wire-probes.js';
import { quoteValue } from './quote.js';
import { VOLUME_LIMITS } from './objects/limits.js';

export { VOLUME_LIMITS };

export const HOST_PATH_TYPES: readonly HostPathType[] = ['DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice', 'ComposeBind'];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** Container paths the runtime owns: nothing may be mounted over them. */
const RESERVED_MOUNT_PATHS = new Set(['/', '/proc', '/sys', '/dev']);

function only(o: Obj, p: string, fail: FailField, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(at(p, k), 'unknown field');
}

function bool(v: unknown, p: string, fail: FailField): boolean {
  return typeof v === 'boolean' ? v : fail(p, 'expected a boolean');
}

function label(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, 63, 1);
  return DNS_LABEL.test(s) ? s : fail(p, `${quoteValue(s)} must be a DNS label (lowercase letters, digits and '-')`);
}

function objectName(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, 253, 1);
  return DNS_SUBDOMAIN.test(s) ? s : fail(p, `${quoteValue(s)} must be a DNS subdomain (lowercase letters, digits, '-' and '.')`);
}

function configKey(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, 253, 1);
  return CONFIG_KEY.test(s) ? s : fail(p, `${quoteValue(s)} must be letters, digits, -, _ or .`);
}

/** An absolute path without ".." or NUL, normalised (no "//", no trailing "/"). */
export function absolutePath(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, VOLUME_LIMITS.path, 1);
  if (!s.startsWith('/')) return fail(p, `${quoteValue(s)} must be an absolute path`);
  if (s.includes('\0')) return fail(p, 'contains a NUL character');
  const parts = s.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) return fail(p, `${quoteValue(s)} must not contain ".."`);
  return `/${parts.join('/')}`;
}

/** A relative path that stays inside its volume (subPath, items[].path). */
export function relativePath(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, VOLUME_LIMITS.path, 1);
  if (s.startsWith('/')) return fail(p, `${quoteValue(s)} must be a relative path`);
  if (s.includes('\0')) return fail(p, 'contains a NUL character');
  const parts = s.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.length === 0) return fail(p, `${quoteValue(s)} names no file`);
  if (parts.includes('..')) return fail(p, `${quoteValue(s)} must not contain ".."`);
  // The atomic writer keeps its own entries under names starting with "..".
  if (parts[0]!.startsWith('..')) return fail(p, `${quoteValue(s)} must not start with ".."`);
  return parts.join('/');
}

function mode(v: unknown, p: string, fail: FailField): number {
  return int(v, p, fail, 0, 0o777);
}

function keyToPath(v: unknown, p: string, fail: FailField): KeyToPath {
  const o = obj(v, p, fail);
  only(o, p, fail, ['key', 'path', 'mode']);
  const out: KeyToPath = { key: configKey(o.key, at(p, 'key'), fail), path: relativePath(o.path, at(p, 'path'), fail) };
  if (present(o, 'mode')) out.mode = mode(o.mode, at(p, 'mode'), fail);
  return out;
}

/** The fields of a configMap / secret volume after its name field. */
function projection(o: Obj, p: string, fail: FailField): { items?: KeyToPath[]; defaultMode?: number; optional?: boolean } {
  const out: { items?: KeyToPath[]; defaultMode?: number; optional?: boolean } = {};
  if (present(o, 'items')) {
    out.items = list(o.items, at(p, 'items'), fail, VOLUME_LIMITS.items, (x, ip) => keyToPath(x, ip, fail));
    const paths = new Set<string>();
    out.items.forEach((item, i) => {
      if (paths.has(item.path)) fail(`${p}.items[${i}].path`, `${quoteValue(item.path)} is used by another item`);
      paths.add(item.path);
    });
  }
  if (present(o, 'defaultMode')) out.defaultMode = mode(o.defaultMode, at(p, 'defaultMode'), fail);
  if (present(o, 'optional')) out.optional = bool(o.optional, at(p, 'optional'), fail);
  return out;
}

function volume(v: unknown, p: string, fail: FailField): Volume {
  const o = obj(v, p, fail);
  const sources = ['emptyDir', 'hostPath', 'persistentVolumeClaim', 'configMap', 'secret'].filter((k) => present(o, k));
  only(o, p, fail, ['name', 'emptyDir', 'hostPath', 'persistentVolumeClaim', 'configMap', 'secret']);
  if (sources.length !== 1) return fail(p, 'expected exactly one of emptyDir, hostPath, persistentVolumeClaim, configMap, secret');
  const name = label(o.name, at(p, 'name'), fail);
  const kind = sources[0]!;
  const sp = at(p, kind);
  const s = obj(o[kind], sp, fail);
  switch (kind) {
    case 'emptyDir': {
      only(s, sp, fail, ['medium', 'sizeLimitBytes']);
      const e: { medium?: 'Memory'; sizeLimitBytes?: number } = {};
      if (present(s, 'medium')) e.medium = s.medium === 'Memory' ? 'Memory' : fail(at(sp, 'medium'), 'expected "Memory" (or no medium: the node\'s disk)');
      if (present(s, 'sizeLimitBytes')) e.sizeLimitBytes = int(s.sizeLimitBytes, at(sp, 'sizeLimitBytes'), fail, 4096, VOLUME_LIMITS.sizeBytes);
      return { name, emptyDir: e };
    }
    case 'hostPath': {
      only(s, sp, fail, ['path', 'type']);
      const h: { path: string; type?: HostPathType } = { path: absolutePath(s.path, at(sp, 'path'), fail) };
      if (present(s, 'type')) {
        if (!HOST_PATH_TYPES.includes(s.type as HostPathType)) fail(at(sp, 'type'), `expected one of ${HOST_PATH_TYPES.join(', ')}`);
        h.type = s.type as HostPathType;
      }
      return { name, hostPath: h };
    }
    case 'persistentVolumeClaim': {
      only(s, sp, fail, ['claimName', 'readOnly']);
      const c: { claimName: string; readOnly?: boolean } = { claimName: label(s.claimName, at(sp, 'claimName'), fail) };
      if (present(s, 'readOnly')) c.readOnly = bool(s.readOnly, at(sp, 'readOnly'), fail);
      return { name, persistentVolumeClaim: c };
    }
    case 'configMap':
      only(s, sp, fail, ['name', 'items', 'defaultMode', 'optional']);
      return { name, configMap: { name: objectName(s.name, at(sp, 'name'), fail), ...projection(s, sp, fail) } };
    default:
      only(s, sp, fail, ['secretName', 'items', 'defaultMode', 'optional']);
      return { name, secret: { secretName: objectName(s.secretName, at(sp, 'secretName'), fail), ...projection(s, sp, fail) } };
  }
}

export function decodeVolumes(v: unknown, p: string, fail: FailField): Volume[] {
  const out = list(v, p, fail, VOLUME_LIMITS.volumes, (x, vp) => volume(x, vp, fail));
  const names = new Set<string>();
  out.forEach((vol, i) => {
    if (names.has(vol.name)) fail(`${p}[${i}].name`, `${quoteValue(vol.name)} is used by another volume of this pod`);
    names.add(vol.name);
  });
  return out;
}

function volumeMount(v: unknown, p: string, fail: FailField): VolumeMount {
  const o = obj(v, p, fail);
  only(o, p, fail, ['name', 'mountPath', 'readOnly', 'subPath']);
  const mountPath = absolutePath(o.mountPath, at(p, 'mountPath'), fail);
  if (RESERVED_MOUNT_PATHS.has(mountPath)) fail(at(p, 'mountPath'), `${quoteValue(mountPath)} is managed by the runtime and cannot be a mount target`);
  const out: VolumeMount = { name: label(o.name, at(p, 'name'), fail), mountPath };
  if (present(o, 'readOnly')) out.readOnly = bool(o.readOnly, at(p, 'readOnly'), fail);
  if (present(o, 'subPath')) out.subPath = relativePath(o.subPath, at(p, 'subPath'), fail);
  return out;
}

export function decodeVolumeMounts(v: unknown, p: string, fail: FailField): VolumeMount[] {
  const out = list(v, p, fail, VOLUME_LIMITS.mounts, (x, mp) => volumeMount(x, mp, fail));
  const paths = new Set<string>();
  out.forEach((m, i) => {
    if (paths.has(m.mountPath)) fail(`${p}[${i}].mountPath`, `${quoteValue(m.mountPath)} is the mount path of another mount of this container`);
    paths.add(m.mountPath);
  });
  return out;
}

function keyRef(v: unknown, p: string, fail: FailField): { name: string; key: string; optional?: boolean } {
  const o = obj(v, p, fail);
  only(o, p, fail, ['name', 'key', 'optional']);
  const out: { name: string; key: string; optional?: boolean } = { name: objectName(o.name, at(p, 'name'), fail), key: configKey(o.key, at(p, 'key'), fail) };
  if (present(o, 'optional')) out.optional = bool(o.optional, at(p, 'optional'), fail);
  return out;
}

export function decodeEnvVarSource(v: unknown, p: string, fail: FailField): EnvVarSource {
  const o = obj(v, p, fail);
  only(o, p, fail, ['configMapKeyRef', 'secretKeyRef']);
  if (present(o, 'configMapKeyRef') === present(o, 'secretKeyRef')) return fail(p, 'expected exactly one of configMapKeyRef, secretKeyRef');
  if (present(o, 'configMapKeyRef')) return { configMapKeyRef: keyRef(o.configMapKeyRef, at(p, 'configMapKeyRef'), fail) };
  return { secretKeyRef: keyRef(o.secretKeyRef, at(p, 'secretKeyRef'), fail) };
}

function objectRef(v: unknown, p: string, fail: FailField): { name: string; optional?: boolean } {
  const o = obj(v, p, fail);
  only(o, p, fail, ['name', 'optional']);
  const out: { name: string; optional?: boolean } = { name: objectName(o.name, at(p, 'name'), fail) };
  if (present(o, 'optional')) out.optional = bool(o.optional, at(p, 'optional'), fail);
  return out;
}

function envFromSource(v: unknown, p: string, fail: FailField): EnvFromSource {
  const o = obj(v, p, fail);
  only(o, p, fail, ['configMapRef', 'secretRef', 'prefix']);
  if (present(o, 'configMapRef') === present(o, 'secretRef')) return fail(p, 'expected exactly one of configMapRef, secretRef');
  const prefix = present(o, 'prefix') ? str(o.prefix, at(p, 'prefix'), fail, VOLUME_LIMITS.prefix) : undefined;
  if (prefix?.includes('=')) fail(at(p, 'prefix'), 'must not contain "="');
  const withPrefix = prefix ? { prefix } : {};
  if (present(o, 'configMapRef')) return { configMapRef: objectRef(o.configMapRef, at(p, 'configMapRef'), fail), ...withPrefix };
  return { secretRef: objectRef(o.secretRef, at(p, 'secretRef'), fail), ...withPrefix };
}

export function decodeEnvFrom(v: unknown, p: string, fail: FailField): EnvFromSource[] {
  return list(v, p, fail, VOLUME_LIMITS.envFrom, (x, ep) => envFromSource(x, ep, fail));
}

/** What checkVolumeRefs needs of a pod (a template or a target). */
export interface PodVolumeView {
  volumes?: readonly Volume[];
  containers: readonly { volumeMounts?: readonly VolumeMount[] }[];
  initContainers?: readonly { volumeMounts?: readonly VolumeMount[] }[];
}

/** Every mount names a volume of the pod; `p` is the pod spec's path ("…spec.template"). */
export function checkVolumeRefs(pod: PodVolumeView, p: string, fail: FailField): void {
  const names = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const [field, containers] of [['initContainers', pod.initContainers ?? []], ['containers', pod.containers]] as const) {
    containers.forEach((c, i) =>
      (c.volumeMounts ?? []).forEach((m, j) => {
        if (!names.has(m.name)) fail(`${p}.${field}[${i}].volumeMounts[${j}].name`, `no volume named ${quoteValue(m.name)} in this pod's volumes`);
      }),
    );
  }
}
