/**
 * Compose's top-level `secrets:` and `configs:` → a Secret / ConfigMap each (content read at
 * apply time from `file:` relative to the project directory, from the project's variables with
 * `environment:`, or written inline with `content:`), and a service's `secrets:` / `configs:` →
 * that object mounted as one file where compose puts it: /run/secrets/<name> for a secret,
 * /<name> for a config (or the long syntax's `target`, with its `mode`).
 */
import { Buffer } from 'node:buffer';
import { isAbsolute, posix } from 'node:path';
import type { AnyObject } from '../objects/changes.js';
import { COMPOSE_PROJECT_LABEL } from '../objects/annotations.js';
import type { Volume, VolumeMount } from '../objects/pod-volumes.js';
import type { Variables } from './compose-text.js';
import { isObject, serviceObjectName } from './compose-service.js';
import type { ComposeHost } from './compose-prepare.js';
import type { LocatedObject } from './kubernetes-objects.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

/** The key each Secret / ConfigMap keeps its one file under. */
const KEY = 'content';
/** Kubernetes' limit on one Secret or ConfigMap. */
const MAX_BYTES = 1024 * 1024;

type StoreKind = 'secrets' | 'configs';

/** The object each declared secret / config became, by its compose name. */
export interface StoreMounts {
  secrets: ReadonlyMap<string, string>;
  configs: ReadonlyMap<string, string>;
}

interface StoresInput {
  ctx: DocContext;
  project: string;
  namespace: string;
  value: Record<string, unknown>;
  dir: string | undefined;
  host: ComposeHost;
  vars: Variables;
}

/** The content of one declared secret / config, as text. */
function content(input: StoresInput, at: FieldPath, def: Record<string, unknown>): string {
  const { ctx, dir, host, vars } = input;
  const sources = ['file', 'environment', 'content'].filter((k) => def[k] !== undefined);
  if (def.external === true) throw manifestError(ctx, [...at, 'external'], 'not supported: Grove has no store of its own outside the project; use file:, environment: or content:');
  if (sources.length !== 1) throw manifestError(ctx, at, 'needs exactly one of file:, environment: or content:', { at: 'key' });
  const source = sources[0]!;
  const v = def[source];
  if (typeof v !== 'string') throw manifestError(ctx, [...at, source], 'must be a string');
  if (source === 'content') return v;
  if (source === 'environment') {
    const value = vars.get(v);
    if (value === undefined) throw manifestError(ctx, [...at, source], `variable ${v} is not set (the shell's environment or the project's .env)`);
    return value;
  }
  if (!isAbsolute(v) && dir === undefined) throw manifestError(ctx, [...at, source], `${quote(v)} is relative and the compose file's directory is unknown (stdin)`);
  const text = host.readText(isAbsolute(v) ? v : posix.resolve(dir!, v));
  if (text === undefined) throw manifestError(ctx, [...at, source], `${quote(v)}: no such file (read from the machine that applies)`);
  return text;
}

/** One Secret or ConfigMap per declared secret / config. */
export function projectStores(input: StoresInput): { objects: LocatedObject[]; mounts: StoreMounts } {
  const objects: LocatedObject[] = [];
  const mounts = { secrets: new Map<string, string>(), configs: new Map<string, string>() };
  for (const kind of ['secrets', 'configs'] as const) {
    const declared = input.value[kind];
    if (!isObject(declared)) continue;
    for (const [name, def] of Object.entries(declared)) {
      const at: FieldPath = [kind, name];
      if (!isObject(def)) throw manifestError(input.ctx, at, 'must be a mapping (file:, environment: or content:)');
      const text = content(input, at, def);
      if (Buffer.byteLength(text, 'utf8') > MAX_BYTES) throw manifestError(input.ctx, at, 'is larger than 1 MiB', { at: 'key' });
      const objectName = serviceObjectName(name);
      const metadata = { name: objectName, namespace: input.namespace, labels: { [COMPOSE_PROJECT_LABEL]: input.project } };
      const object =
        kind === 'secrets'
          ? { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data: { [KEY]: Buffer.from(text, 'utf8').toString('base64') } }
          : { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { [KEY]: text } };
      objects.push({ object: object as unknown as AnyObject, ctx: input.ctx, namePath: at, nameIsKey: true });
      mounts[kind].set(name, objectName);
    }
  }
  return { objects, mounts };
}

interface ServiceStoreEntry {
  source: string;
  target?: string;
  mode?: number;
}

function entries(ctx: DocContext, at: FieldPath, value: unknown): { entry: ServiceStoreEntry; at: FieldPath }[] {
  if (!Array.isArray(value)) throw manifestError(ctx, at, 'must be a list of names or {source, target, mode}');
  return value.map((e, i) => {
    const where = [...at, i];
    if (typeof e === 'string') return { entry: { source: e }, at: where };
    if (!isObject(e) || typeof e.source !== 'string') throw manifestError(ctx, where, 'must be a name or {source, target, mode}');
    for (const k of Object.keys(e)) {
      if (k === 'uid' || k === 'gid') throw manifestError(ctx, [...where, k], 'not supported yet: the file belongs to root; make it readable with mode:');
      if (!['source', 'target', 'mode'].includes(k) && !k.startsWith('x-')) throw manifestError(ctx, [...where, k], 'unknown field (source, target, mode)', { at: 'key' });
    }
    if (e.target !== undefined && typeof e.target !== 'string') throw manifestError(ctx, [...where, 'target'], 'must be a path');
    if (e.mode !== undefined && (typeof e.mode !== 'number' || !Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o777)) {
      throw manifestError(ctx, [...where, 'mode'], 'must be a file mode such as 0440');
    }
    return { entry: { source: e.source, ...(e.target ? { target: e.target } : {}), ...(e.mode !== undefined ? { mode: e.mode } : {}) }, at: where };
  });
}

/** A service's secrets and configs as volumes and the mounts of its container. */
export function serviceStoreMounts(ctx: DocContext, base: FieldPath, s: { secrets?: unknown; configs?: unknown }, stores: StoreMounts | undefined): { volumes: Volume[]; mounts: VolumeMount[] } {
  const volumes: Volume[] = [];
  const mounts: VolumeMount[] = [];
  for (const kind of ['secrets', 'configs'] as StoreKind[]) {
    if (s[kind] === undefined) continue;
    entries(ctx, [...base, kind], s[kind]).forEach(({ entry, at }, i) => {
      const objectName = stores?.[kind].get(entry.source);
      if (objectName === undefined) throw manifestError(ctx, at, `${kind === 'secrets' ? 'secret' : 'config'} ${quote(entry.source)} is not declared under the top-level ${kind}:`);
      const target = entry.target ?? entry.source;
      const mountPath = isAbsolute(target) ? target : kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
      const name = `${kind === 'secrets' ? 'secret' : 'config'}-${i}`;
      const items = [{ key: KEY, path: KEY, ...(entry.mode !== undefined ? { mode: entry.mode } : {}) }];
      volumes.push(kind === 'secrets' ? { name, secret: { secretName: objectName, items } } : { name, configMap: { name: objectName, items } });
      mounts.push({ name, mountPath: posix.normalize(mountPath), subPath: KEY, readOnly: true });
    });
  }
  return { volumes, mounts };
}
