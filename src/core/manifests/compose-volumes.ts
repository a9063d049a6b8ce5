/**
 * Compose service `volumes:` (short "SRC:TARGET[:ro]" and long syntax), `tmpfs:` and the file's
 * top-level `volumes:` → pod volumes and volume mounts:
 * - a named volume (declared at the top level, as compose requires) → persistentVolumeClaim,
 *   a volume kept on the node under that name (or the top-level `name:`);
 * - a bind of an absolute host path → hostPath of Grove's type ComposeBind: what exists there is
 *   mounted as it is (a file, a socket such as /var/run/docker.sock, a directory, a device) and
 *   only a missing path is created, as a directory, as docker does (long syntax creates nothing
 *   unless bind.create_host_path, and then the same way); "./rel" is resolved against the
 *   compose file's directory;
 * - tmpfs and a bare "/path" (an anonymous volume) → emptyDir, in memory for tmpfs.
 */
import { posix } from 'node:path';
import type { Volume, VolumeMount } from '../resolved-pod.js';
import { parseBytes } from '../quantity.js';
import { absolutePath, relativePath } from '../wire-volumes.js';
import { atField, manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { DNS_LABEL } from './schema-parts.js';

export interface ComposeVolumeLong {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: string | number };
}

export type ComposeTopVolumes = Record<string, { name?: string } | null> | undefined;

export interface ServiceVolumeInput {
  volumes?: (string | ComposeVolumeLong)[];
  tmpfs?: string | string[];
  shm_size?: string | number;
}

interface Builder {
  volumes: Volume[];
  mounts: VolumeMount[];
}

function addVolume(b: Builder, v: Volume): void {
  // One named volume mounted at two paths is one pod volume.
  if (!b.volumes.some((x) => x.name === v.name)) b.volumes.push(v);
}

function target(ctx: DocContext, at: FieldPath, value: string): string {
  return absolutePath(value, '', (_p, reason) => {
    throw manifestError(ctx, at, `container path ${reason}`);
  });
}

function namedVolume(ctx: DocContext, at: FieldPath, name: string, top: ComposeTopVolumes): Volume {
  if (!top || !Object.prototype.hasOwnProperty.call(top, name)) {
    throw manifestError(ctx, at, `volume ${quote(name)} is not declared under the top-level volumes: (as compose requires)`);
  }
  const claimName = top[name]?.name ?? name;
  if (!new RegExp(DNS_LABEL).test(claimName) || claimName.length > 63) {
    const suggestion = claimName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
    const hint = top[name]?.name === undefined && suggestion ? `; keep ${quote(name)} in the file and give the volume a valid name with volumes: {${name}: {name: ${suggestion}}}` : '';
    throw manifestError(ctx, at, `volume name ${quote(claimName)} must be a DNS label (lowercase letters, digits and '-'): it names a directory on the node${hint}`);
  }
  return { name: claimName, persistentVolumeClaim: { claimName } };
}

/** Docker's API socket: tools that drive docker through it (portainer, watchtower, traefik's docker provider) find none on a Grove node. */
const DOCKER_SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock']);

function hostSource(ctx: DocContext, at: FieldPath, source: string, dir: string | undefined): string {
  if (DOCKER_SOCKETS.has(posix.normalize(source))) {
    throw manifestError(ctx, at, `${quote(source)}: Grove nodes run no Docker daemon, so there is no Docker API socket to mount (tools that manage containers through it cannot work here)`);
  }
  if (source.startsWith('~')) throw manifestError(ctx, at, `${quote(source)}: "~" is not supported (there is no home directory on the node): write an absolute path`);
  if (!source.startsWith('/')) {
    if (dir === undefined) throw manifestError(ctx, at, `${quote(source)} is relative and the compose file's directory is unknown (stdin): write an absolute path`);
    source = posix.resolve(dir, source);
  }
  return absolutePath(source, '', (_p, reason) => {
    throw manifestError(ctx, at, `host path ${reason}`);
  });
}

/** ro/rw, and what docker takes as hints with no effect on Linux (cached, delegated, consistent) or for named volumes (nocopy). */
const BIND_OPTIONS = new Set(['ro', 'rw', 'cached', 'delegated', 'consistent', 'nocopy']);

function shortSyntax(ctx: DocContext, at: FieldPath, i: number, spec: string, top: ComposeTopVolumes, dir: string | undefined, b: Builder): void {
  const parts = spec.split(':');
  if (parts.length > 3) throw manifestError(ctx, at, `${quote(spec)} is not [SOURCE:]TARGET[:ro]`);
  if (parts.length === 1) {
    addVolume(b, { name: `anon-${i}`, emptyDir: {} });
    b.mounts.push({ name: `anon-${i}`, mountPath: target(ctx, at, spec) });
    return;
  }
  const [source = '', path = '', mode] = parts;
  const options = mode === undefined ? [] : mode.split(',');
  for (const o of options) {
    if (!BIND_OPTIONS.has(o)) throw manifestError(ctx, at, `${quote(o)} is not supported: only ro, rw (and the hints cached, delegated, consistent, nocopy) are`);
  }
  const readOnly = options.includes('ro') ? { readOnly: true } : {};
  if (source.startsWith('/') || source.startsWith('.') || source.startsWith('~')) {
    const name = `bind-${i}`;
    addVolume(b, { name, hostPath: { path: hostSource(ctx, at, source, dir), type: 'ComposeBind' } });
    b.mounts.push({ name, mountPath: target(ctx, at, path), ...readOnly });
    return;
  }
  const v = namedVolume(ctx, at, source, top);
  addVolume(b, v);
  b.mounts.push({ name: v.name, mountPath: target(ctx, at, path), ...readOnly });
}

function longSyntax(ctx: DocContext, at: FieldPath, i: number, l: ComposeVolumeLong, top: ComposeTopVolumes, dir: string | undefined, b: Builder): void {
  const mountPath = target(ctx, [...at, 'target'], l.target);
  const readOnly = l.read_only ? { readOnly: true } : {};
  if (l.type === 'tmpfs') {
    const name = `tmpfs-${i}`;
    const size = l.tmpfs?.size !== undefined ? atField(ctx, [...at, 'tmpfs', 'size'], (f) => parseBytes(l.tmpfs!.size!, f)) : undefined;
    addVolume(b, { name, emptyDir: { medium: 'Memory', ...(size !== undefined ? { sizeLimitBytes: size } : {}) } });
    b.mounts.push({ name, mountPath, ...readOnly });
    return;
  }
  if (l.source === undefined) {
    if (l.type === 'bind') throw manifestError(ctx, [...at, 'source'], 'a bind mount needs a source');
    addVolume(b, { name: `anon-${i}`, emptyDir: {} });
    b.mounts.push({ name: `anon-${i}`, mountPath, ...readOnly });
    return;
  }
  const subPath = l.volume?.subpath !== undefined
    ? { subPath: relativePath(l.volume.subpath, '', (_p, reason) => { throw manifestError(ctx, [...at, 'volume', 'subpath'], reason); }) }
    : {};
  if (l.type === 'bind') {
    const name = `bind-${i}`;
    // Without create_host_path the source must exist (type absent), whatever it is.
    const create = l.bind?.create_host_path ? { type: 'ComposeBind' as const } : {};
    addVolume(b, { name, hostPath: { path: hostSource(ctx, [...at, 'source'], l.source, dir), ...create } });
    b.mounts.push({ name, mountPath, ...readOnly });
    return;
  }
  const v = namedVolume(ctx, [...at, 'source'], l.source, top);
  addVolume(b, v);
  b.mounts.push({ name: v.name, mountPath, ...readOnly, ...subPath });
}

function tmpfsEntries(ctx: DocContext, base: FieldPath, value: string | string[], b: Builder): void {
  const list = typeof value === 'string' ? [value] : value;
  list.forEach((entry, i) => {
    const at = typeof value === 'string' ? [...base, 'tmpfs'] : [...base, 'tmpfs', i];
    const [path = '', options] = entry.split(/:(.*)/s);
    let size: number | undefined;
    for (const opt of options ? options.split(',') : []) {
      const [k, v = ''] = opt.split('=');
      if (k === 'size') size = atField(ctx, at, (f) => parseBytes(v, f));
      // An emptyDir is mode 0777; another mode would be silently different, so it is refused.
      else throw manifestError(ctx, at, `tmpfs option ${quote(k)} is not supported (only size is)`);
    }
    const name = `tmpfs-t${typeof value === 'string' ? 0 : i}`;
    addVolume(b, { name, emptyDir: { medium: 'Memory', ...(size !== undefined ? { sizeLimitBytes: size } : {}) } });
    b.mounts.push({ name, mountPath: target(ctx, at, path) });
  });
}

/**
 * The pod volumes and the container's mounts of one service; undefined when it has none.
 * `dir`: the compose file's directory (for ./relative binds), unknown for stdin.
 */
export function serviceVolumes(ctx: DocContext, base: FieldPath, s: ServiceVolumeInput, top: ComposeTopVolumes, dir: string | undefined): Builder | undefined {
  if (!s.volumes?.length && s.tmpfs === undefined && s.shm_size === undefined) return undefined;
  const b: Builder = { volumes: [], mounts: [] };
  (s.volumes ?? []).forEach((v, i) => {
    const at = [...base, 'volumes', i];
    if (typeof v === 'string') shortSyntax(ctx, at, i, v, top, dir, b);
    else longSyntax(ctx, at, i, v, top, dir, b);
  });
  if (s.tmpfs !== undefined) tmpfsEntries(ctx, base, s.tmpfs, b);
  // shm_size: /dev/shm as a memory emptyDir of that size (docker's default is 64m, the runtime's own /dev/shm).
  if (s.shm_size !== undefined) {
    const bytes = atField(ctx, [...base, 'shm_size'], (f) => parseBytes(s.shm_size!, f));
    addVolume(b, { name: 'shm', emptyDir: { medium: 'Memory', sizeLimitBytes: bytes } });
    b.mounts.push({ name: 'shm', mountPath: '/dev/shm' });
  }
  const seen = new Set<string>();
  for (const m of b.mounts) {
    if (seen.has(m.mountPath)) throw manifestError(ctx, base, `two volumes are mounted at ${quote(m.mountPath)}`);
    seen.add(m.mountPath);
  }
  // Sizes, reserved paths and counts are the PodSpec's rules: compose-objects.ts checks the
  // object this becomes and names the compose field a problem came from.
  return b;
}
