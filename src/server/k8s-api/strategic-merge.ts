/**
 * Strategic merge patch, what `kubectl patch` sends by default and what client-side `kubectl
 * apply`, `edit`, `set image`, `label` and `annotate` send: a merge patch in which the lists the
 * schema marks as merged (x-kubernetes-list-type map/set, kit.ts) merge by their key instead of
 * being replaced (containers, volumes, env by name; volumeMounts by mountPath; ports by
 * containerPort; ownerReferences by uid; conditions by type), with the directives kubectl writes:
 *
 *   `$patch: replace|delete|merge`      in a map: replace it whole / delete it (a list item by key)
 *   `{$patch: replace}` list item       replace the whole list with the other items
 *   `$retainKeys: [..]`                 keep only these keys of the map (union members)
 *   `$setElementOrder/<list>: [..]`     the order of the merged list's items
 *   `$deleteFromPrimitiveList/<list>`   remove these values from a merged list of scalars
 *
 * Lists without a merge strategy are replaced whole, maps merge key by key, `null` deletes.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { SchemaCursor } from '../../core/objects/schema-cursor.js';
import { isDeepStrictEqual } from 'node:util';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

type Json = unknown;
type Obj = Record<string, Json>;

function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

/** `original` with the strategic merge `patch` applied, read against `schema`; neither input is changed. */
export function applyStrategicMergePatch(original: Json, patch: Json, schema: SchemaCursor): Json {
  if (!isRecord(patch)) throw bad('a strategic merge patch must be a JSON object');
  const merged = mergeMap(isRecord(original) ? original : {}, patch, schema, '');
  if (merged === undefined) throw bad('$patch: delete of the whole object is not supported: use DELETE');
  return merged;
}

/** The merged map, or undefined when the patch deletes it (`$patch: delete`). */
function mergeMap(original: Obj, patch: Obj, schema: SchemaCursor, at: string): Obj | undefined {
  const directive = patch[PATCH];
  if (directive !== undefined && directive !== 'replace' && directive !== 'delete' && directive !== 'merge') {
    throw bad(`${at || 'the patch'}: unknown $patch directive ${JSON.stringify(directive)}`);
  }
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(withoutKey(patch, PATCH)) as Obj;
  const out: Obj = { ...original };
  const orders = new Map<string, Json[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key === PATCH || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER)) {
      if (!Array.isArray(value)) throw bad(`${at}${key} must be a list`);
      orders.set(key.slice(SET_ORDER.length), value);
      continue;
    }
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      if (!Array.isArray(value)) throw bad(`${at}${key} must be a list`);
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((v) => !value.some((d) => isDeepStrictEqual(d, v)));
      continue;
    }
    const path = at ? `${at}.${key}` : key;
    if (value === null) {
      delete out[key];
      continue;
    }
    const sub = schema.field(key);
    if (isRecord(value)) {
      const merged = mergeMap(isRecord(out[key]) ? (out[key] as Obj) : {}, value, sub, path);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(Array.isArray(out[key]) ? (out[key] as Json[]) : [], value, sub, path);
    } else {
      out[key] = value;
    }
  }
  for (const [field, order] of orders) if (Array.isArray(out[field])) out[field] = ordered(out[field] as Json[], order, schema.field(field));
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || retain.some((k) => typeof k !== 'string')) throw bad(`${at || 'the patch'}: $retainKeys must be a list of field names`);
    for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  }
  return out;
}

function mergeList(original: Json[], patch: Json[], schema: SchemaCursor, at: string): Json[] {
  const semantics = schema.list();
  if (semantics.type === 'atomic') return stripDirectives(patch) as Json[];
  if (semantics.type === 'set') {
    const out = [...original];
    for (const v of patch) if (!out.some((o) => isDeepStrictEqual(o, v))) out.push(v);
    return out;
  }
  const key = semantics.keys[0]!;
  if (patch.some((item) => isRecord(item) && item[PATCH] === 'replace')) {
    return patch.filter((item) => !(isRecord(item) && item[PATCH] === 'replace')).map(stripDirectives);
  }
  const out = [...original];
  const item = schema.item();
  for (const element of patch) {
    if (!isRecord(element)) throw bad(`${at}: items must be objects merged by ${key}`);
    if (!Object.hasOwn(element, key)) throw bad(`${at}: an item has no ${JSON.stringify(key)}, the key this list merges by`);
    const index = out.findIndex((o) => isRecord(o) && isDeepStrictEqual(o[key], element[key]));
    if (element[PATCH] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index < 0) {
      out.push(stripDirectives(element));
      continue;
    }
    const merged = mergeMap(out[index] as Obj, element, item, `${at}[${key}=${JSON.stringify(element[key])}]`);
    if (merged === undefined) out.splice(index, 1);
    else out[index] = merged;
  }
  return out;
}

/**
 * `items` in the order of `$setElementOrder` (items by merge key, or scalars); items the order
 * does not name keep their relative place after the named ones.
 */
function ordered(items: Json[], order: Json[], schema: SchemaCursor): Json[] {
  const key = schema.list().keys[0];
  const rank = (item: Json): number => {
    const i = order.findIndex((o) => (key !== undefined && isRecord(o) && isRecord(item) ? isDeepStrictEqual(o[key], item[key]) : isDeepStrictEqual(o, item)));
    return i < 0 ? order.length : i;
  };
  return items.map((item, index) => ({ item, index, rank: rank(item) })).sort((a, b) => a.rank - b.rank || a.index - b.index).map((e) => e.item);
}

function withoutKey(o: Obj, key: string): Obj {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

/** A value from a patch stored as is: directives (keys starting with `$`) removed, recursively. */
function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isRecord(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_FROM)) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}
