/**
 * `POST /v1/apply` (docs/api.md): every
 * object of one `grove apply` in ONE commit, or none. Each object is checked against its kind's
 * schema and rules and every problem of every object is answered together (one Status 422 with
 * causes); namespaced objects without a namespace go to `default`; Namespaces are applied first
 * so an apply may create a namespace and fill it; each object is reported created, configured or
 * unchanged (unchanged = metadata and spec equal after defaulting, server-owned fields ignored,
 * so `grove get -o yaml` output applies back unchanged).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import { describeRef, type AnyObject, type ObjectChange, type ObjectRef } from '../../core/objects/changes.js';
import { kindOf, type KindInfo } from '../../core/objects/kinds.js';
import { checkObject } from '../../core/objects/validate.js';
import { pathText } from '../../core/objects/explain.js';
import { hostPathsOutside } from '../../core/host-path-roots.js';
import { DEPENDS_ON_ANNOTATION, readGroveAnnotations } from '../../core/objects/annotations.js';
import { dependencyCycle } from '../../core/wire-init.js';
import { quoteValue } from '../../core/quote.js';
import { podSpecOf } from '../objects/admit.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { StatusCause } from './status.js';

/** Objects in one apply: a large home-lab stack is tens; thousands is a mistake. */
export const MAX_APPLY_OBJECTS = 1000;

/** Kinds the server makes itself: a user applying one is refused by name. */
const SERVER_MADE: Partial<Record<string, string>> = {
  Node: 'Node objects are created when a node joins (grove join): they cannot be applied',
  ControllerRevision: 'ControllerRevisions are written by the DaemonSet controller: they cannot be applied',
};

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyReply {
  results: { kind: string; namespace?: string; name: string; action: ApplyAction }[];
  dryRun?: true;
}

interface Prepared {
  index: number;
  ref: ObjectRef;
  object: Record<string, unknown> & { metadata: Record<string, unknown> };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBody(body: unknown): { objects: unknown[]; dryRun: boolean } {
  if (!isRecord(body) || !Array.isArray(body.objects)) throw new GroveError(ErrorCode.InvalidArgument, 'expected a body {"objects": [...], "dryRun"?: boolean}');
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new GroveError(ErrorCode.InvalidArgument, 'dryRun must be true or false');
  const extra = Object.keys(body).filter((k) => k !== 'objects' && k !== 'dryRun');
  if (extra.length) throw new GroveError(ErrorCode.InvalidArgument, `unknown field ${JSON.stringify(extra[0])} in the apply body`);
  if (body.objects.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'nothing to apply: "objects" is empty');
  if (body.objects.length > MAX_APPLY_OBJECTS) throw new GroveError(ErrorCode.SizeLimit, `${body.objects.length} objects in one apply: at most ${MAX_APPLY_OBJECTS}`);
  return { objects: body.objects, dryRun: body.dryRun === true };
}

/** The kind of one input object, or the cause that refuses it. */
function kindFor(value: unknown, at: string): KindInfo | StatusCause {
  if (!isRecord(value)) return { field: at, message: 'must be an object' };
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return { field: at, message: 'apiVersion and kind are required' };
  const info = kindOf(apiVersion, kind);
  if (!info) return { field: `${at}.kind`, message: `no kind ${JSON.stringify(kind)} in ${JSON.stringify(apiVersion)}` };
  const refused = SERVER_MADE[info.kind];
  return refused ? { field: `${at}.kind`, message: refused } : info;
}

/**
 * Checks and normalises every object: the namespace defaulted (dropped on cluster-scoped kinds,
 * as kubectl does), status dropped (the server's), each object named once. Returns all causes.
 */
function prepare(values: unknown[], options: ApplyOptions): { prepared: Prepared[]; causes: StatusCause[] } {
  const prepared: Prepared[] = [];
  const causes: StatusCause[] = [];
  const seen = new Map<string, number>();
  values.forEach((value, index) => {
    const at = `objects[${index}]`;
    const info = kindFor(value, at);
    if (!('kind' in info) || typeof info.kind !== 'string' || !('plural' in info)) {
      causes.push(info as StatusCause);
      return;
    }
    const input = value as Record<string, unknown>;
    const metadata = isRecord(input.metadata) ? { ...input.metadata } : input.metadata;
    if (isRecord(metadata)) {
      if (info.namespaced && (metadata.namespace === undefined || metadata.namespace === '')) metadata.namespace = DEFAULT_NAMESPACE;
      if (!info.namespaced) delete metadata.namespace;
    }
    const { status: _status, ...object }: Record<string, unknown> = { ...input, metadata };
    const checked = checkObject(info.kind, object);
    const name = isRecord(metadata) && typeof metadata.name === 'string' ? metadata.name : '';
    const ref: ObjectRef = { kind: info.kind, ...(info.namespaced && isRecord(metadata) ? { namespace: String(metadata.namespace) } : {}), name };
    if (!checked.ok) {
      for (const p of checked.problems) causes.push({ field: fieldAt(at, p.path), message: `${describeRef(ref)}: ${p.reason}` });
      return;
    }
    const id = describeRef(ref);
    const outside = hostPathCauses(info.kind, checked.value as unknown as Record<string, unknown>, options.hostPathRoots);
    if (outside.length) {
      for (const c of outside) causes.push({ field: fieldAt(at, c.path), message: `${id}: ${c.message}` });
      return;
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      causes.push({ field: at, message: `${id} is also objects[${earlier}]: name each object once per apply` });
      return;
    }
    seen.set(id, index);
    prepared.push({ index, ref, object: object as Prepared['object'] });
  });
  return { prepared, causes };
}

export interface ApplyOptions {
  /** `grove server --host-path-root` (docs/security.md): hostPath volumes must lie under one of these; absent/empty = any path. */
  hostPathRoots?: readonly string[];
}

/**
 * The server's hostPath policy, for what users write (the controllers only copy templates that
 * passed it, and objects stored before roots were set keep running, as in 0.1).
 */
function hostPathCauses(kind: KindInfo['kind'], object: Record<string, unknown>, roots: readonly string[] | undefined): { path: (string | number)[]; message: string }[] {
  const at = roots?.length ? podSpecOf(kind, object) : undefined;
  if (!at) return [];
  return hostPathsOutside(at.spec, roots).map((v) => ({
    path: [...at.path, 'volumes', v.index, 'hostPath', 'path'],
    message: `volume ${quoteValue(v.volume)} host path ${quoteValue(v.path)} is outside the allowed roots (${roots!.join(', ')})`,
  }));
}

/** The annotations of the pod template (or the Pod) at `specPath`, then the object's own. */
function podAnnotations(object: Record<string, unknown>, specPath: readonly string[]): Record<string, string>[] {
  let meta: unknown = object;
  for (const seg of [...specPath.slice(0, -1), 'metadata']) meta = isRecord(meta) ? meta[seg] : undefined;
  const own = (object.metadata as { annotations?: Record<string, string> }).annotations;
  return [isRecord(meta) ? ((meta.annotations as Record<string, string> | undefined) ?? {}) : {}, own ?? {}];
}

/**
 * Start order among the workloads of one apply (grove.io/depends-on, what compose depends_on
 * becomes): none may wait for itself, and no cycle within a namespace, or their pods would wait
 * for each other for ever on a node that runs them all. The client says the same at the compose
 * field; this holds for any client.
 */
function startOrderCauses(prepared: readonly Prepared[]): StatusCause[] {
  const causes: StatusCause[] = [];
  const graphs = new Map<string, Map<string, string[]>>();
  const where = new Map<string, { at: string; id: string }>();
  for (const p of prepared) {
    const at = podSpecOf(p.ref.kind as KindInfo['kind'], p.object);
    if (!at) continue;
    const deps = readGroveAnnotations(...podAnnotations(p.object, at.path)).dependsOn ?? [];
    if (deps.length === 0) continue;
    const field = `objects[${p.index}]${fieldAt('', [...at.path.slice(0, -1), 'metadata', 'annotations', DEPENDS_ON_ANNOTATION])}`;
    const id = describeRef(p.ref);
    if (deps.some((d) => d.app === p.ref.name)) causes.push({ field, message: `${id}: a workload cannot depend on itself` });
    const ns = p.ref.namespace ?? '';
    if (!graphs.has(ns)) graphs.set(ns, new Map());
    graphs.get(ns)!.set(p.ref.name, deps.map((d) => d.app).filter((app) => app !== p.ref.name));
    where.set(`${ns}/${p.ref.name}`, { at: field, id });
  }
  for (const [ns, graph] of graphs) {
    const cycle = dependencyCycle(graph);
    if (!cycle) continue;
    const first = where.get(`${ns}/${cycle[0]}`)!;
    causes.push({ field: first.at, message: `${first.id}: ${DEPENDS_ON_ANNOTATION} forms a cycle: ${cycle.join(' → ')}` });
  }
  return causes;
}

/** `objects[2].spec.replicas`: where in the request body a problem is. */
function fieldAt(at: string, path: readonly (string | number)[]): string {
  const text = pathText(path);
  return text === '' || text.startsWith('[') ? `${at}${text}` : `${at}.${text}`;
}

function invalidApply(causes: StatusCause[]): GroveError {
  const lines = causes.slice(0, 3).map((c) => `${c.field}: ${c.message}`);
  const more = causes.length > 3 ? ` (and ${causes.length - 3} more)` : '';
  return new GroveError(ErrorCode.InvalidArgument, `${causes.length === 1 ? 'the apply is' : `${causes.length} problems make the apply`} invalid: ${lines.join('; ')}${more}`, {
    details: { reason: 'Invalid', causes },
  });
}

/**
 * Applies the body's objects as one commit (or, with dryRun, decides without writing). A create
 * ignores the uid and resourceVersion of the input (a YAML saved from another cluster, or from
 * before a delete, still applies); an update checks them (Conflict when stale).
 */
export async function applyObjects(store: ObjectStore, body: unknown, options: ApplyOptions = {}): Promise<ApplyReply> {
  const { objects: values, dryRun } = parseBody(body);
  const { prepared, causes } = prepare(values, options);
  if (causes.length === 0) causes.push(...startOrderCauses(prepared));
  if (causes.length) throw invalidApply(causes);
  for (const p of prepared) {
    if ((await store.get(p.ref)) === undefined) {
      const { uid: _uid, resourceVersion: _rv, ...meta } = p.object.metadata;
      p.object.metadata = meta;
    }
  }
  // Namespaces first: an apply may create a namespace and what goes in it.
  const ordered = [...prepared.filter((p) => p.ref.kind === 'Namespace'), ...prepared.filter((p) => p.ref.kind !== 'Namespace')];
  const changes: ObjectChange[] = ordered.map((p) => ({ op: 'put', object: p.object as unknown as AnyObject }));
  const committed = await store.commit(changes, { dryRun });
  const actionOf = new Map<number, ApplyAction>();
  committed.results.forEach((r, i) => actionOf.set(ordered[i]!.index, r.outcome as ApplyAction));
  return {
    results: prepared.map((p) => ({ kind: p.ref.kind, ...(p.ref.namespace !== undefined ? { namespace: p.ref.namespace } : {}), name: p.ref.name, action: actionOf.get(p.index)! })),
    ...(dryRun ? { dryRun: true as const } : {}),
  };
}
