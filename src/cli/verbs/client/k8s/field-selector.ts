/**
 * `--field-selector`, evaluated here on what the server listed: the server refuses fieldSelector
 * until issue 14, and `get pods -A --field-selector spec.nodeName=pi-1` is how a kubectl user
 * asks what runs on a board (0.1's `get pods --node`). Kubernetes' grammar: `field=value`,
 * `field==value`, `field!=value`, joined by commas (all must hold); the fields each kind supports
 * in Kubernetes.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { KindName } from '../../../../core/objects/validate.js';

const COMMON = ['metadata.name', 'metadata.namespace'];

/** The fields Kubernetes selects each kind by (beyond name and namespace). */
const FIELDS: Partial<Record<KindName, readonly string[]>> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.hostNetwork', 'status.phase', 'status.podIP'],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
  Namespace: ['status.phase'],
  ReplicaSet: ['status.replicas'],
};

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  return text
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const m = /^\s*([A-Za-z0-9.]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw new GroveError(ErrorCode.InvalidArgument, `invalid field selector "${part}": use field=value or field!=value`);
      return { field: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
    });
}

/** The field's value as Kubernetes compares it: text; absent is "" (and false for the boolean fields). */
function valueOf(object: AnyObject, field: string): string {
  let v: unknown = object;
  for (const key of field.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  if (v === undefined || v === null) return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  return String(v);
}

/** Keeps the objects of `kind` that meet every requirement; a field the kind cannot be selected by is an error, as in Kubernetes. */
export function selectByFields<T extends AnyObject>(kind: KindName, objects: readonly T[], requirements: readonly FieldRequirement[]): T[] {
  const allowed = [...COMMON, ...(FIELDS[kind] ?? [])];
  for (const r of requirements) {
    if (!allowed.includes(r.field)) throw new GroveError(ErrorCode.InvalidArgument, `field label not supported: ${r.field} (${kind}: ${allowed.join(', ')})`);
  }
  return objects.filter((o) => requirements.every((r) => (valueOf(o, r.field) === r.value) === (r.op === '=')));
}
