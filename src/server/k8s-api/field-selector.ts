/**
 * Kubernetes field selectors (`?fieldSelector=`, `kubectl get --field-selector`): `field=value`,
 * `field==value`, `field!=value`, joined by commas (AND); `\` escapes `\`, `,` and `=` in a value.
 * Every kind selects by metadata.name and metadata.namespace; a few kinds by the fields kubectl and
 * controllers use (FIELD_GETTERS). Another field is refused with the API server's own words
 * (400 BadRequest), so a typo never silently selects everything.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { MAX_SELECTOR_LENGTH } from '../objects/label-selector.js';
import type { ApiObject } from './watch-source.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** A field's value as a selector compares it: a string ("" when absent, "true"/"false" for booleans). */
export type FieldGetter = (object: ApiObject) => string;
/** The fields one kind selects by, beyond metadata.name and metadata.namespace. */
export type FieldTable = Readonly<Record<string, FieldGetter>>;

type Loose = Record<string, unknown> | undefined;

function at(object: unknown, ...path: string[]): unknown {
  let value: unknown = object;
  for (const step of path) value = (value as Loose)?.[step];
  return value;
}

/** A getter for a string/number/boolean field by its dotted path ("" when absent). */
function field(path: string, absent = ''): FieldGetter {
  const steps = path.split('.');
  return (object) => {
    const value = at(object, ...steps);
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : absent;
  };
}

const METADATA_FIELDS: FieldTable = {
  'metadata.name': field('metadata.name'),
  'metadata.namespace': field('metadata.namespace'),
};

/**
 * The fields selectable per kind, as the API server's field label conversions allow them (the
 * kinds' own, plus metadata.name and metadata.namespace). Part of the Events work adds its kind here.
 */
export const FIELD_GETTERS: Readonly<Record<string, FieldTable>> = {
  Pod: {
    'spec.nodeName': field('spec.nodeName'),
    'spec.restartPolicy': field('spec.restartPolicy'),
    'spec.schedulerName': field('spec.schedulerName'),
    'spec.serviceAccountName': field('spec.serviceAccountName'),
    'spec.hostNetwork': field('spec.hostNetwork', 'false'),
    'status.phase': field('status.phase'),
    'status.podIP': field('status.podIP'),
    'status.nominatedNodeName': field('status.nominatedNodeName'),
  },
  Node: { 'spec.unschedulable': field('spec.unschedulable', 'false') },
  Namespace: { 'status.phase': field('status.phase') },
  Secret: { type: field('type') },
  ReplicaSet: { 'status.replicas': field('status.replicas', '0') },
  Job: { 'status.successful': field('status.successful', '0') },
  Event: {
    'involvedObject.kind': field('involvedObject.kind'),
    'involvedObject.namespace': field('involvedObject.namespace'),
    'involvedObject.name': field('involvedObject.name'),
    'involvedObject.uid': field('involvedObject.uid'),
    'involvedObject.apiVersion': field('involvedObject.apiVersion'),
    'involvedObject.resourceVersion': field('involvedObject.resourceVersion'),
    'involvedObject.fieldPath': field('involvedObject.fieldPath'),
    reason: field('reason'),
    reportingComponent: field('reportingComponent'),
    source: field('source.component'),
    type: field('type'),
  },
};

function bad(text: string, why: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `invalid field selector ${JSON.stringify(text)}: ${why}`);
}

/** Splits on the commas that are not escaped. */
function terms(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ',') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The value with its escapes resolved; an unknown escape or an unescaped `=`/`,` is refused. */
function unescape(raw: string, whole: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next !== '\\' && next !== ',' && next !== '=') throw bad(whole, `invalid escape sequence in ${JSON.stringify(raw)}`);
      out += next;
      i++;
    } else if (c === '=' || c === ',') {
      throw bad(whole, `unescaped ${JSON.stringify(c)} in value ${JSON.stringify(raw)}`);
    } else {
      out += c;
    }
  }
  return out;
}

const OPERATORS = ['!=', '==', '='] as const;

/** The leftmost operator splits the term, as the API server does. */
function requirement(term: string, whole: string): FieldRequirement {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) {
        return { field: term.slice(0, i).trim(), op: op === '!=' ? '!=' : '=', value: unescape(term.slice(i + op.length), whole) };
      }
    }
  }
  throw new GroveError(ErrorCode.InvalidArgument, `invalid selector: '${whole}'; can't understand '${term}'`);
}

/** Parses a field selector; an empty or absent one selects everything. Throws InvalidArgument. */
export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  if (text === null || text === undefined || text.trim() === '') return [];
  if (text.length > MAX_SELECTOR_LENGTH) throw bad(text.slice(0, 40) + '…', `longer than ${MAX_SELECTOR_LENGTH} characters`);
  return terms(text)
    .filter((t) => t !== '')
    .map((t) => requirement(t, text));
}

/**
 * The predicate of `requirements` for objects of `kind`. A field the kind does not select by is
 * refused as the API server refuses it (kinds with their own fields name the field; the others
 * say which two fields they have).
 */
export function fieldFilter(kind: string, requirements: readonly FieldRequirement[], tables: Readonly<Record<string, FieldTable>> = FIELD_GETTERS): (object: ApiObject) => boolean {
  const own = tables[kind];
  const getters = requirements.map((r) => {
    const get = METADATA_FIELDS[r.field] ?? own?.[r.field];
    if (get === undefined) {
      throw new GroveError(ErrorCode.InvalidArgument, own ? `field label not supported: ${r.field}` : `${JSON.stringify(r.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    return { get, ...r };
  });
  return (object) => getters.every((r) => (r.get(object) === r.value) === (r.op === '='));
}

