/**
 * Field ownership (`metadata.managedFields`), as Kubernetes records it: per manager and
 * operation (Apply = server-side apply, Update = any other write), a FieldsV1 set naming the
 * fields it set. Keys: `f:<field>` for a field, `k:{"name":"main"}` for the item of a list
 * merged by key, `v:<json>` for a member of a set list, `.` for the item itself; `{}` is a leaf.
 *
 * Pure functions over plain objects and the kind schema (schema-cursor.ts, whose x-kubernetes
 * list annotations say how lists are keyed). Used by server-side-apply.ts and by every other write.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ManagedFieldsEntry } from '../../core/objects/meta.js';
import type { SchemaCursor } from '../../core/objects/schema-cursor.js';

export interface FieldSet {
  [key: string]: FieldSet;
}

type Obj = Record<string, unknown>;

function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Metadata fields nobody "manages": identity and what the server sets. */
const UNMANAGED_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** `k:{"name":"main"}`: the key of a list item by the list's key fields (those it has). */
function itemKey(item: Obj, keys: readonly string[]): string {
  const picked: Obj = {};
  for (const k of keys) if (item[k] !== undefined) picked[k] = item[k];
  return `k:${JSON.stringify(picked)}`;
}

function sameItem(a: unknown, b: Obj, keys: readonly string[]): boolean {
  return isRecord(a) && keys.every((k) => b[k] === undefined || isDeepStrictEqual(a[k], b[k]));
}

/** The fields `value` sets (its leaves), read against `schema`. */
function valueSet(value: unknown, schema: SchemaCursor): FieldSet {
  if (isRecord(value)) return mapSet(value, schema);
  if (!Array.isArray(value)) return {};
  const list = schema.list();
  if (list.type === 'atomic') return {};
  const out: FieldSet = {};
  for (const item of value) {
    if (list.type === 'set') out[`v:${JSON.stringify(item)}`] = {};
    else if (isRecord(item)) out[itemKey(item, list.keys)] = { '.': {}, ...mapSet(item, schema.item()) };
  }
  return out;
}

function mapSet(value: Obj, schema: SchemaCursor): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[`f:${k}`] = valueSet(v, schema.field(k));
  return out;
}

/**
 * The fields an object (or an applied configuration) sets, without what nobody manages
 * (apiVersion, kind, identity metadata) and, when `withStatus` is false, without the status.
 */
export function fieldsOf(object: Obj, schema: SchemaCursor, withStatus = false): FieldSet {
  const { apiVersion: _a, kind: _k, metadata, status, ...rest } = object;
  const out = mapSet(rest, schema);
  if (isRecord(metadata)) {
    const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => !UNMANAGED_META.has(k)));
    const set = mapSet(meta, schema.field('metadata'));
    if (Object.keys(set).length) out['f:metadata'] = set;
  }
  if (withStatus && status !== undefined && status !== null) out['f:status'] = valueSet(status, schema.field('status'));
  return out;
}

/** Fields whose value differs between `before` and `after` (added, changed or removed). */
export function changedFields(before: Obj, after: Obj, schema: SchemaCursor, withStatus = false): FieldSet {
  return diffMaps(stripUnmanaged(before, withStatus), stripUnmanaged(after, withStatus), schema);
}

function stripUnmanaged(o: Obj, withStatus: boolean): Obj {
  const { apiVersion: _a, kind: _k, metadata, status, ...rest } = o;
  const out: Obj = { ...rest };
  if (isRecord(metadata)) out.metadata = Object.fromEntries(Object.entries(metadata).filter(([k]) => !UNMANAGED_META.has(k)));
  if (withStatus && status !== undefined) out.status = status;
  return out;
}

function diffMaps(a: Obj, b: Obj, schema: SchemaCursor): FieldSet {
  const out: FieldSet = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = diffValues(a[key], b[key], schema.field(key));
    if (d) out[`f:${key}`] = d;
  }
  return out;
}

/** The changed fields below one value, or undefined when equal. */
function diffValues(a: unknown, b: unknown, schema: SchemaCursor): FieldSet | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a === undefined || a === null) return valueSet(b, schema);
  if (b === undefined || b === null) return valueSet(a, schema);
  if (isRecord(a) && isRecord(b)) {
    const d = diffMaps(a, b, schema);
    return Object.keys(d).length ? d : {};
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const list = schema.list();
    if (list.type === 'set') {
      const out: FieldSet = {};
      for (const v of a) if (!b.some((w) => isDeepStrictEqual(v, w))) out[`v:${JSON.stringify(v)}`] = {};
      for (const v of b) if (!a.some((w) => isDeepStrictEqual(v, w))) out[`v:${JSON.stringify(v)}`] = {};
      return out;
    }
    if (list.type === 'map') {
      const out: FieldSet = {};
      const item = schema.item();
      for (const x of b) {
        if (!isRecord(x)) continue;
        const old = a.find((y) => sameItem(y, x, list.keys));
        if (old === undefined) out[itemKey(x, list.keys)] = { '.': {}, ...mapSet(x, item) };
        else {
          const d = diffValues(old, x, item);
          if (d) out[itemKey(x, list.keys)] = d;
        }
      }
      for (const y of a) if (isRecord(y) && !b.some((x) => isRecord(x) && sameItem(y, x, list.keys))) out[itemKey(y, list.keys)] = { '.': {}, ...mapSet(y, item) };
      return out;
    }
  }
  return {};
}

export function isEmpty(set: FieldSet): boolean {
  return Object.keys(set).length === 0;
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? union(out[k]!, v) : v;
  return out;
}

/** Whether the node's own path is in the set: a leaf, or a node marked with `.`. */
function member(node: FieldSet): boolean {
  return isEmpty(node) || node['.'] !== undefined;
}

/** The paths of `a` not in `b` (path sets: owning `.spec` is not owning `.spec.replicas`). */
export function subtract(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(a)) {
    const other = b[k];
    if (other === undefined) out[k] = v;
    else if (isEmpty(v)) {
      if (!member(other)) out[k] = v;
    } else {
      const rest = subtract(v, isEmpty(other) ? { '.': {} } : other);
      if (!isEmpty(rest)) out[k] = rest;
    }
  }
  return out;
}

/** The paths in both `a` and `b`. */
export function intersect(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(a)) {
    const other = b[k];
    if (other === undefined) continue;
    if (isEmpty(v) || isEmpty(other)) {
      if (member(v) && member(other)) out[k] = {};
      continue;
    }
    const both = intersect(v, other);
    if (!isEmpty(both)) out[k] = both;
  }
  return out;
}

/** Every leaf of `set` as its path of keys (`['f:spec', 'f:replicas']`). */
export function leaves(set: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(set)) {
    if (k === '.') out.push(prefix);
    else if (isEmpty(v)) out.push([...prefix, k]);
    else out.push(...leaves(v, [...prefix, k]));
  }
  return out;
}

/** A leaf as Kubernetes prints it in a conflict: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(path: readonly string[]): string {
  return path
    .map((k) => {
      if (k.startsWith('f:')) return `.${k.slice(2)}`;
      if (k.startsWith('v:')) return `[${k.slice(2)}]`;
      if (k.startsWith('k:')) {
        const key = JSON.parse(k.slice(2)) as Obj;
        return `[${Object.entries(key).map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}]`;
      }
      return '';
    })
    .join('');
}

/** The value at a leaf path in `object`, or undefined. */
export function valueAt(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const k of path) {
    if (k.startsWith('f:')) node = isRecord(node) ? node[k.slice(2)] : undefined;
    else if (k.startsWith('k:')) {
      const key = JSON.parse(k.slice(2)) as Obj;
      node = Array.isArray(node) ? node.find((item) => sameItem(item, key, Object.keys(key))) : undefined;
    } else if (k.startsWith('v:')) {
      const v = JSON.parse(k.slice(2)) as unknown;
      node = Array.isArray(node) && node.some((x) => isDeepStrictEqual(x, v)) ? v : undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/** `object` without the fields of `set` (list items and set members too). Changes `object`. */
export function removeFields(object: Obj, set: FieldSet): void {
  for (const [k, sub] of Object.entries(set)) {
    if (!k.startsWith('f:')) continue;
    const name = k.slice(2);
    const value = object[name];
    if (value === undefined) continue;
    if (isEmpty(sub)) {
      delete object[name];
      continue;
    }
    if (isRecord(value)) removeFields(value, sub);
    else if (Array.isArray(value)) object[name] = removeItems(value, sub);
  }
}

function removeItems(list: unknown[], set: FieldSet): unknown[] {
  const out: unknown[] = [];
  for (const item of list) {
    const member = Object.entries(set).find(([k]) => k.startsWith('v:') && isDeepStrictEqual(JSON.parse(k.slice(2)), item));
    if (member) continue;
    const keyed = isRecord(item) ? Object.entries(set).find(([k]) => k.startsWith('k:') && sameItem(item, JSON.parse(k.slice(2)) as Obj, Object.keys(JSON.parse(k.slice(2)) as Obj))) : undefined;
    if (keyed && keyed[1]['.'] !== undefined) continue;
    if (keyed && isRecord(item)) removeFields(item, keyed[1]);
    out.push(item);
  }
  return out;
}

/** One managedFields entry. */
export function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, time: string, fields: FieldSet, subresource?: string): ManagedFieldsEntry {
  return { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: fields, ...(subresource ? { subresource } : {}) };
}

export function entrySet(e: ManagedFieldsEntry): FieldSet {
  return (e.fieldsV1 as FieldSet | undefined) ?? {};
}

/**
 * The managedFields after an Update by `manager` that changed `changed`: other managers lose
 * what changed, the manager's Update entry gains it (what was removed is owned by nobody).
 */
export function recordUpdate(entries: readonly ManagedFieldsEntry[], manager: string, apiVersion: string, time: string, changed: FieldSet, after: FieldSet, subresource?: string): ManagedFieldsEntry[] {
  if (isEmpty(changed)) return [...entries];
  const owned = intersect(changed, after);
  const out: ManagedFieldsEntry[] = [];
  let mine: FieldSet = owned;
  for (const e of entries) {
    const isMine = e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? '');
    if (isMine) {
      mine = union(subtract(entrySet(e), changed), owned);
      continue;
    }
    const rest = subtract(entrySet(e), changed);
    if (!isEmpty(rest)) out.push({ ...e, fieldsV1: rest });
  }
  if (!isEmpty(mine)) out.push(entry(manager, 'Update', apiVersion, time, mine, subresource));
  return out;
}

/** Kubernetes' default field manager: the User-Agent's program name (`kubectl/v1.32.0 (…)` → kubectl). */
export function defaultManager(userAgent: string | undefined): string {
  const name = (userAgent ?? '').split('/')[0]!.trim().slice(0, 128);
  return name === '' ? 'unknown' : name;
}
