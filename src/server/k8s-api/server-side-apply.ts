/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`, `kubectl apply --server-side`):
 * the body is the manager's whole intent for the object. Pure: live object + applied
 * configuration + manager → the object to store with its managedFields, or a 409 Conflict.
 *
 * 1. The fields the configuration sets (its FieldsV1 set, managed-fields.ts) become the manager's
 *    Apply entry; fields it set last time and sets no more are removed, unless another manager
 *    owns them too.
 * 2. The configuration merges into the live object as a strategic merge would (lists by the
 *    keys of the schema's x-kubernetes list annotations).
 * 3. A field another manager owns whose value the apply would change is a conflict: 409 naming
 *    each field and manager, unless `force` (then the field changes owner).
 */
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { ManagedFieldsEntry } from '../../core/objects/meta.js';
import type { SchemaCursor } from '../../core/objects/schema-cursor.js';
import { entry, entrySet, fieldsOf, intersect, isEmpty, leaves, pathString, removeFields, subtract, union, valueAt, type FieldSet } from './managed-fields.js';
import { applyStrategicMergePatch } from './strategic-merge.js';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface ApplyInput {
  /** The stored object (absent: the apply creates it). */
  live?: Obj;
  /** The applied configuration (apiVersion, kind and name already checked against the URL). */
  config: Obj;
  manager: string;
  force: boolean;
  schema: SchemaCursor;
  apiVersion: string;
  /** managedFields time (RFC 3339). */
  time: string;
}

export interface FieldConflict {
  manager: string;
  field: string;
}

function isApplyBy(e: ManagedFieldsEntry, manager: string): boolean {
  return e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === '';
}

/** The object server-side apply stores; throws Conflict (details.causes) on conflicts without force. */
export function serverSideApply(input: ApplyInput): Obj {
  const { config, schema, manager } = input;
  const { status: _status, ...intent } = config;
  const applied = fieldsOf(intent as Obj, schema);
  const live: Obj = input.live ? structuredClone(input.live) : { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: config.metadata.name, ...(config.metadata.namespace !== undefined ? { namespace: config.metadata.namespace } : {}) } };
  const entries = (live.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  const previous = entries.find((e) => isApplyBy(e, manager));
  const others = entries.filter((e) => !isApplyBy(e, manager));
  const ownedByOthers = others.reduce<FieldSet>((acc, e) => union(acc, entrySet(e)), {});

  // Fields this manager applied before and no longer does go, unless someone else owns them.
  const dropped = subtract(subtract(previous ? entrySet(previous) : {}, applied), ownedByOthers);
  const base = structuredClone(live);
  delete base.metadata.managedFields;
  removeFields(base, dropped);
  const { metadata: configMeta, ...configRest } = intent as Obj;
  const { managedFields: _mf, resourceVersion: _rv, uid: _uid, ...metaIntent } = configMeta;
  const merged = applyStrategicMergePatch(base, { ...configRest, metadata: metaIntent }, schema) as Obj;

  const conflicts: FieldConflict[] = [];
  const taken = new Map<ManagedFieldsEntry, FieldSet>();
  for (const e of others) {
    const overlap = intersect(entrySet(e), applied);
    for (const path of leaves(overlap)) {
      if (path.length === 0 || !path.at(-1)!.startsWith('f:')) continue;
      if (isDeepStrictEqual(valueAt(live, path), valueAt(merged, path))) continue;
      conflicts.push({ manager: e.manager ?? '', field: pathString(path) });
      taken.set(e, union(taken.get(e) ?? {}, pathSet(path)));
    }
  }
  if (conflicts.length && !input.force) throw conflictError(conflicts, input.apiVersion);

  const managed: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === previous) continue;
    const rest = taken.has(e) ? subtract(entrySet(e), taken.get(e)!) : entrySet(e);
    if (!isEmpty(rest)) managed.push({ ...e, fieldsV1: rest });
  }
  const mine = entry(manager, 'Apply', input.apiVersion, input.time, applied);
  const at = previous ? entries.indexOf(previous) : -1;
  if (at >= 0 && at <= managed.length) managed.splice(at, 0, mine);
  else managed.push(mine);
  return { ...merged, metadata: { ...merged.metadata, managedFields: managed } };
}

/** The FieldSet holding one leaf path. */
function pathSet(path: readonly string[]): FieldSet {
  let set: FieldSet = {};
  for (const key of [...path].reverse()) set = { [key]: set };
  return set;
}

/** Kubernetes' wording, which kubectl prints before its advice (--force-conflicts). */
function conflictError(conflicts: readonly FieldConflict[], apiVersion: string): GroveError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const parts = [...byManager].map(([m, fields]) => (fields.length === 1 ? `conflict with ${JSON.stringify(m)} using ${apiVersion}: ${fields[0]}` : `conflicts with ${JSON.stringify(m)} using ${apiVersion}:\n${fields.map((f) => `- ${f}`).join('\n')}`));
  const n = conflicts.length;
  return new GroveError(ErrorCode.Conflict, `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`, {
    details: { reason: 'Conflict', causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${JSON.stringify(c.manager)} using ${apiVersion}`, field: c.field })) },
  });
}
