/**
 * Objects as `grove get -o yaml|json` prints them, so that what is printed applies back
 * unchanged: Kubernetes' top-level order (apiVersion, kind, metadata, spec, the kind's other
 * fields, status), nested fields sorted by name as kubectl prints them, and nothing empty
 * (absent and null values; empty maps and lists in metadata and status). Empty maps in the rest
 * stay: `emptyDir: {}` and `data: {}` mean something.
 *
 * Statically imports the YAML library: load this module only where objects are printed
 * (output.ts does, lazily).
 */
import { stringify } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const FIRST = ['apiVersion', 'kind', 'metadata', 'spec'];
const LAST = ['status'];

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);
}

/** `value` with sorted keys and no absent or null fields; empty containers dropped when `pruneEmpty`. */
function clean(value: unknown, pruneEmpty: boolean): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => clean(v, pruneEmpty)).filter((v): v is Json => v !== undefined);
    return pruneEmpty && items.length === 0 ? undefined : items;
  }
  if (isMap(value)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      const v = clean(value[key], pruneEmpty);
      if (v !== undefined && !(pruneEmpty && isEmpty(v))) out[key] = v;
    }
    return pruneEmpty && Object.keys(out).length === 0 ? undefined : out;
  }
  return value as Json;
}

/** The object as printed: Kubernetes' field order, nothing empty. A pure function of `object`. */
export function printableObject(object: Readonly<Record<string, unknown>>): Record<string, Json> {
  const keys = Object.keys(object);
  const middle = keys.filter((k) => !FIRST.includes(k) && !LAST.includes(k)).sort();
  const out: Record<string, Json> = {};
  for (const key of [...FIRST, ...middle, ...LAST]) {
    if (!keys.includes(key)) continue;
    const v = clean(object[key], key === 'metadata' || key === 'status');
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The YAML `get -o yaml` prints for one object (a List for several, as kubectl does). */
export function objectToYaml(object: Readonly<Record<string, unknown>>): string {
  return stringify(printableObject(object), { lineWidth: 0 });
}

/** `{apiVersion: v1, kind: List, items}` of the printable objects. */
export function objectList(objects: readonly Readonly<Record<string, unknown>>[]): Record<string, Json> {
  return { apiVersion: 'v1', kind: 'List', items: objects.map(printableObject), metadata: { resourceVersion: '' } };
}
