/**
 * Apply and delete of user resources against the store. An apply is one store commit: every
 * resource is validated and compared before anything is written, so a bad resource leaves the
 * store untouched, and re-applying the same files writes nothing at all (no flash wear, no
 * revision bump, no re-publish to nodes).
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { App, AppliedResource, ConfigMap, ResourceMeta, Secret } from '../core/model.js';
import type { Store, StoreEntry, StoreOp } from '../store/store.js';
import { canonicalJson } from './targets.js';
import { name as validName, validateResources } from './validate.js';
import { checkHostPathRoots } from './validate-volumes.js';
import { checkImmutable } from './validate-config.js';

export type ResourceKind = 'App' | 'ConfigMap' | 'Secret' | 'Node' | 'Pod';

export const PREFIX = {
  App: 'apps/',
  ConfigMap: 'configmaps/',
  Secret: 'secrets/',
  Node: 'nodes/',
  Pod: 'pods/',
  Token: 'tokens/',
  Target: 'targets/',
} as const;

export function keyFor(kind: keyof typeof PREFIX, name: string): string {
  return PREFIX[kind] + name;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  results: { kind: AppliedResource['kind']; name: string; action: ApplyAction }[];
  revision: number;
}

/** The part of a resource a user controls; what "changed" is judged on. */
function userContent(r: AppliedResource): unknown {
  const base = { labels: r.meta.labels, annotations: r.meta.annotations };
  if (r.kind === 'App') return { ...base, spec: r.spec };
  // type and immutable only when set, so objects stored before they existed compare as before.
  return { ...base, data: r.data, ...(r.kind === 'Secret' && r.type ? { type: r.type } : {}), ...(r.immutable ? { immutable: true } : {}) };
}

/** Meta of a created or changed resource: createdAt survives updates, updatedAt moves. */
function storedMeta(incoming: ResourceMeta, existing: ResourceMeta | undefined, now: string): ResourceMeta {
  const meta: ResourceMeta = {
    name: incoming.name,
    labels: incoming.labels,
    annotations: incoming.annotations,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  const src = incoming.source ?? existing?.source;
  if (src) meta.source = src;
  return meta;
}

/**
 * Validates `input` (untrusted), then writes every created or changed resource in one commit.
 * An App's generation starts at 1 and is bumped only when its spec changes.
 */
export async function applyResources(store: Store, input: unknown, now: Date, policy: { hostPathRoots?: readonly string[] } = {}): Promise<ApplyResult> {
  const resources = validateResources(input);
  checkHostPathRoots(resources, policy.hostPathRoots);
  const stamp = now.toISOString();
  const ops: StoreOp[] = [];
  const results: ApplyResult['results'] = [];
  for (const r of resources) {
    const key = keyFor(r.kind, r.meta.name);
    const existing = (await store.get<AppliedResource>(key))?.value;
    const changed = !existing || canonicalJson(userContent(existing)) !== canonicalJson(userContent(r));
    if (existing && existing.kind !== 'App' && r.kind !== 'App') checkImmutable(existing, r, changed);
    results.push({ kind: r.kind, name: r.meta.name, action: !existing ? 'created' : changed ? 'configured' : 'unchanged' });
    // Unchanged (a different source file only) → no op: the store must not be written.
    if (!changed) continue;
    const meta = storedMeta(r.meta, existing?.meta, stamp);
    let value: AppliedResource;
    if (r.kind === 'App') {
      const prev = existing as App | undefined;
      const specChanged = !prev || canonicalJson(prev.spec) !== canonicalJson(r.spec);
      const generation = !prev ? 1 : (prev.generation ?? 1) + (specChanged ? 1 : 0);
      value = { kind: 'App', meta, spec: r.spec, generation };
    } else {
      value = { kind: r.kind, meta, data: r.data, ...(r.kind === 'Secret' && r.type ? { type: r.type } : {}), ...(r.immutable ? { immutable: true } : {}) } as ConfigMap | Secret;
    }
    ops.push({ type: 'put', key, value });
  }
  const revision = ops.length > 0 ? await store.commit(ops) : store.revision();
  return { results, revision };
}

export type DeletableKind = 'App' | 'ConfigMap' | 'Secret';

/** Deletes one resource; NotFound when it does not exist. Pods of a deleted app are removed by the controller. */
export async function deleteResource(store: Store, kind: DeletableKind, name: string): Promise<number> {
  validName(name, `${kind.toLowerCase()} name`);
  const key = keyFor(kind, name);
  if (!(await store.get(key))) throw new GroveError(ErrorCode.NotFound, `${kind.toLowerCase()} "${name}" not found`, { details: { kind, name } });
  return store.commit([{ type: 'delete', key }]);
}

/** Reads a resource with meta.revision filled from the store entry (it is not stored in the value). */
export function withRevision<T extends { meta: ResourceMeta }>(entry: StoreEntry<T>): T {
  return { ...entry.value, meta: { ...entry.value.meta, revision: entry.revision } };
}

export async function getResource<T extends { meta: ResourceMeta }>(store: Store, kind: keyof typeof PREFIX, name: string): Promise<T> {
  validName(name, `${kind.toLowerCase()} name`);
  const entry = await store.get<T>(keyFor(kind, name));
  if (!entry) throw new GroveError(ErrorCode.NotFound, `${kind.toLowerCase()} "${name}" not found`, { details: { kind, name } });
  return withRevision(entry);
}

export async function listResources<T extends { meta: ResourceMeta }>(store: Store, kind: keyof typeof PREFIX): Promise<T[]> {
  return (await store.list<T>(PREFIX[kind])).map(withRevision);
}
