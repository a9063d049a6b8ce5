/**
 * Kubernetes documents → the objects Grove stores, checked by the kind's precompiled validator
 * and rules (objects/validate.ts, objects/rules.ts) and every problem kept, located in the file
 * (object-errors.ts). The object sent is the one written: defaults and the namespace are the
 * server's; only what kubectl or Grove's client does before sending is done here (a Secret's
 * stringData folded into data, a CronJob schedule macro written out).
 */
import type { AnyObject } from '../objects/changes.js';
import { closestName } from '../objects/explain.js';
import { APPLIED_KINDS, KIND_TABLE, type KindName } from '../objects/kind-table.js';
import { objectProblems } from '../objects/rules.js';
import { validate } from '../objects/validate.js';
import { normalizeSchedule } from '../objects/cron-schedule.js';
import { manifestError, quote, type DocContext, type FieldPath, type ManifestDocument } from './location.js';
import { ruleProblems, schemaProblems } from './object-errors.js';
import { problemOf, type ManifestProblem } from './problems.js';

export { APPLIED_KINDS };

/** Kinds Grove stores but does not take from manifests, and why. */
const NOT_APPLIED: Partial<Record<KindName, string>> = {
  Node: 'Node objects are made when a node joins (grove agent --join): label or cordon them with grove node',
  ControllerRevision: 'ControllerRevisions are written by the DaemonSet and StatefulSet controllers: apply the DaemonSet or StatefulSet',
};

/** Kinds people will try: said to be "not supported yet" rather than unknown. */
const KNOWN_KINDS = new Set([
  'Role',
  'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'HorizontalPodAutoscaler', 'NetworkPolicy',
  'PodDisruptionBudget', 'ReplicationController', 'Endpoints', 'LimitRange',
  'ResourceQuota', 'PriorityClass', 'CustomResourceDefinition', 'Event',
]);

/** Known kinds refused with their reason, so nobody believes they are enforced. */
const NOT_SUPPORTED_BECAUSE: Record<string, string> = {
  LimitRange: 'Grove does not enforce limit ranges: set each container\'s resources (docs/manifests.md#service-accounts)',
  ResourceQuota: 'Grove does not enforce resource quotas: a node refuses pods that do not fit its memory (docs/manifests.md#service-accounts)',
  NetworkPolicy: 'Grove does not enforce network policies: every pod can reach every pod and Service (docs/networking.md "NetworkPolicy")',
};

/** An object and where it was written, for the duplicate check and its message. */
export interface LocatedObject {
  object: AnyObject;
  ctx: DocContext;
  namePath: FieldPath;
  /** The name is a mapping key (compose service names), not a value. */
  nameIsKey?: boolean;
}

export interface DocumentObjects {
  objects: LocatedObject[];
  problems: ManifestProblem[];
  /** What the user should know and that stops nothing (compose: an unset variable read as empty). */
  warnings?: string[];
  /** Server-set fields of `kubectl get -o yaml` dumps that were dropped ("status", "metadata.uid"), for one warning per apply. */
  ignored?: string[];
}

/** What the server sets and a dump carries: dropped before anything is checked, so a dump applies as it is. */
const SERVER_SET_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink'] as const;

/** `value` without the server-set fields of a dump, and the names of those it had. */
function withoutServerFields(value: Obj): { input: Obj; ignored: string[] } {
  const ignored: string[] = [];
  let input = value;
  if ('status' in value) {
    const { status: _status, ...rest } = value;
    input = rest;
    ignored.push('status');
  }
  if (isObject(value.metadata)) {
    const metadata = { ...value.metadata };
    for (const key of SERVER_SET_METADATA) {
      // `creationTimestamp: null` is what `create --dry-run -o yaml` writes: nothing to report.
      if (!(key in metadata)) continue;
      if (metadata[key] !== null) ignored.push(`metadata.${key}`);
      delete metadata[key];
    }
    if (ignored.length > 0 || Object.keys(metadata).length !== Object.keys(value.metadata).length) input = { ...input, metadata };
  }
  return { input, ignored };
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `Deployment "web"`, from whatever the raw document says (it is not validated yet). */
function labelFor(kind: string, value: Obj): string {
  const name = isObject(value.metadata) ? value.metadata.name : undefined;
  return typeof name === 'string' && name ? `${kind} ${quote(name)}` : kind;
}

const problem = (ctx: DocContext, path: FieldPath, message: string, options: Parameters<typeof manifestError>[3] = {}) => problemOf(manifestError(ctx, path, message, options));

/** The kinds a `<Kind>List` may be: `List` (v1, any items) or one of ours (its group's version). */
function listKind(kind: string): { apiVersion: string; item?: KindName } | undefined {
  if (kind === 'List') return { apiVersion: 'v1' };
  if (!kind.endsWith('List')) return undefined;
  const item = kind.slice(0, -4) as KindName;
  return Object.prototype.hasOwnProperty.call(KIND_TABLE, item) ? { apiVersion: KIND_TABLE[item].apiVersion, item } : undefined;
}

/** What is done before sending, on a copy of a valid object. */
function prepared(kind: KindName, value: Obj): AnyObject {
  const out = structuredClone(value);
  if (kind === 'Secret' && isObject(out.stringData)) {
    // As the API server does (and Grove's 0.1 client did): stringData wins for the same key.
    const data: Record<string, string> = { ...(out.data as Record<string, string> | undefined) };
    for (const [key, text] of Object.entries(out.stringData as Record<string, string>)) data[key] = Buffer.from(text, 'utf8').toString('base64');
    out.data = data;
    delete out.stringData;
  }
  return out as AnyObject;
}

function one(doc: ManifestDocument, value: Obj, base: FieldPath, out: DocumentObjects, inList: boolean): void {
  const kind = value.kind;
  if (typeof kind !== 'string') {
    const missing = kind === undefined;
    out.problems.push(problem({ doc }, [...base, 'kind'], missing ? 'required field is missing (every Kubernetes object has apiVersion and kind)' : 'must be a string', { linePath: missing ? base : [...base, 'kind'] }));
    return;
  }
  const ctx: DocContext = { doc, label: labelFor(kind, value), sensitive: kind === 'Secret' };
  if (listKind(kind)) {
    if (inList) out.problems.push(problem(ctx, [...base, 'kind'], 'a List inside a List is not supported'));
    else list(doc, value, kind, out);
    return;
  }
  if (!Object.prototype.hasOwnProperty.call(KIND_TABLE, kind) || NOT_APPLIED[kind as KindName]) {
    const near = closestName(kind, APPLIED_KINDS);
    const unknown = `is not a kind Grove knows${near ? ` (did you mean ${near}?)` : ''}`;
    const why = NOT_APPLIED[kind as KindName] ? `cannot be applied: ${NOT_APPLIED[kind as KindName]}` : KNOWN_KINDS.has(kind) ? `is not supported yet${NOT_SUPPORTED_BECAUSE[kind] ? `: ${NOT_SUPPORTED_BECAUSE[kind]}` : ''}` : unknown;
    out.problems.push(problem(ctx, base, `kind ${kind} ${why} (supported: ${APPLIED_KINDS.join(', ')})`, { linePath: [...base, 'kind'] }));
    return;
  }
  const name = kind as KindName;
  const apiVersion = KIND_TABLE[name].apiVersion;
  if (value.apiVersion !== apiVersion) {
    const missing = value.apiVersion === undefined;
    const message = missing ? `required field is missing (${kind} is ${apiVersion})` : `${quote(value.apiVersion)} is not supported: ${kind} is ${apiVersion}`;
    out.problems.push(problem(ctx, [...base, 'apiVersion'], message, { linePath: missing ? base : [...base, 'apiVersion'] }));
    return;
  }
  // A `get -o yaml` dump: what the server set is dropped, and named once per apply (manifest-objects.ts).
  const stripped = withoutServerFields(value);
  if (stripped.ignored.length > 0) out.ignored = [...new Set([...(out.ignored ?? []), ...stripped.ignored])];
  // Written-out macros before the schema, whose syntax has no "@" (node-cron's has none either).
  let input = stripped.input;
  if (name === 'CronJob' && isObject(input.spec) && typeof input.spec.schedule === 'string') {
    input = { ...input, spec: { ...input.spec, schedule: normalizeSchedule(input.spec.schedule) } };
  }
  const result = validate(name, input);
  const problems = result.ok ? [] : schemaProblems(result.errors, input, ctx, base);
  problems.push(...rules(name, result.ok ? (result.value as Obj) : input, ctx, base, problems));
  if (problems.length > 0) {
    out.problems.push(...problems);
    return;
  }
  out.objects.push({ object: prepared(name, input), ctx, namePath: [...base, 'metadata', 'name'] });
}

/**
 * The rules' problems of `value`. They are written for objects that passed the schema; run on
 * one that did not (so that a file's quantities and selectors are reported in the same run as
 * its typos), a rule that trips over a wrong shape is skipped, and what it says about a field
 * the schema already faulted (or one inside it) is left out.
 */
function rules(kind: KindName, value: Obj, ctx: DocContext, base: FieldPath, schema: readonly ManifestProblem[]): ManifestProblem[] {
  let found: ManifestProblem[];
  try {
    found = ruleProblems(objectProblems(kind, value), ctx, base);
  } catch {
    return [];
  }
  if (schema.length === 0) return found;
  const faulted = schema.map((p) => p.path ?? '');
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
  return found.filter((p) => !faulted.some((f) => related(p.path ?? '', f)));
}

/** `kind: List` (any items) or `kind: DeploymentList` (as `get -o yaml` prints a collection). */
function list(doc: ManifestDocument, value: Obj, kind: string, out: DocumentObjects): void {
  const ctx: DocContext = { doc, label: kind };
  const shape = listKind(kind)!;
  if (value.apiVersion !== shape.apiVersion) {
    out.problems.push(problem(ctx, ['apiVersion'], `${quote(value.apiVersion)} is not supported: ${kind} is ${shape.apiVersion}`));
    return;
  }
  for (const key of Object.keys(value)) {
    if (!['apiVersion', 'kind', 'metadata', 'items'].includes(key)) out.problems.push(problem(ctx, [key], 'unknown field', { at: 'key' }));
  }
  if (!Array.isArray(value.items)) {
    out.problems.push(problem(ctx, ['items'], value.items === undefined ? 'required field is missing' : 'must be a list', value.items === undefined ? { at: 'key', linePath: [] } : {}));
    return;
  }
  value.items.forEach((item, i) => {
    if (!isObject(item)) {
      out.problems.push(problem(ctx, ['items', i], 'must be a mapping (a Kubernetes object)'));
      return;
    }
    // A typed List's items may leave out apiVersion and kind, as the API server's lists do.
    const typed = shape.item ? { apiVersion: shape.apiVersion, kind: shape.item, ...item } : item;
    one(doc, typed, ['items', i], out, true);
  });
}

/** The objects of one Kubernetes document (one object, or a List's items) and every problem found. */
export function kubernetesObjects(doc: ManifestDocument, value: Obj): DocumentObjects {
  const out: DocumentObjects = { objects: [], problems: [] };
  one(doc, value, [], out, false);
  return out;
}
