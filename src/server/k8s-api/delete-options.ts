/**
 * DELETE on the Kubernetes paths with DeleteOptions (JSON body, as kubectl sends it, or query):
 *
 * - propagationPolicy Background (the default): the object goes now, the garbage collector
 *   takes its dependents afterwards.
 * - Foreground: the object is marked (deletionTimestamp, finalizer `foregroundDeletion`) and
 *   stays, readable, until the garbage collector has deleted its dependents; then it goes.
 * - Orphan (or orphanDependents: true): its dependents lose their ownerReference to it, in the
 *   same commit that deletes it, so nothing collects them.
 * - preconditions {uid, resourceVersion}: 409 Conflict when the object is no longer that one.
 * - gracePeriodSeconds: checked (a whole number ≥ 0). A Pod running on a node is marked
 *   (deletionTimestamp, deletionGracePeriodSeconds) and its node stops its containers with that
 *   grace instead of the pod's terminationGracePeriodSeconds (objects/pod-graceful-delete.ts);
 *   other kinds ignore it, as in Kubernetes.
 * - dryRun=All: decided, nothing written.
 *
 * DELETE on a collection deletes what `labelSelector` selects in ONE commit and answers the
 * List of what it deleted.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { refOf, type AnyObject, type DeletePropagation, type ObjectChange, type ObjectRef } from '../../core/objects/changes.js';
import { ALL_KINDS } from '../../core/objects/kinds.js';
import type { RequestContext } from '../http.js';
import { parseSelector } from '../objects/label-selector.js';
import type { ObjectStore } from '../objects/object-store.js';
import { decodeBody } from './field-validation.js';
import type { Scope } from './routes.js';
import { notFound } from './create-update.js';

export interface DeleteOptions {
  propagation: DeletePropagation;
  dryRun: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

const POLICIES: readonly DeletePropagation[] = ['Background', 'Foreground', 'Orphan'];
/** A grace period beyond a day is a typo (pods cap terminationGracePeriodSeconds lower still). */
const MAX_GRACE_SECONDS = 24 * 3600;
const OPTION_FIELDS = new Set(['apiVersion', 'kind', 'propagationPolicy', 'gracePeriodSeconds', 'preconditions', 'orphanDependents', 'dryRun']);

function bad(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** DeleteOptions from the body (if any) and the query; the body wins where both say something. */
export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = body === undefined ? {} : body;
  if (!isRecord(b)) throw bad('DeleteOptions must be a JSON object');
  const unknown = Object.keys(b).filter((k) => !OPTION_FIELDS.has(k));
  if (unknown.length) throw bad(`DeleteOptions: unknown field ${JSON.stringify(unknown[0]!.slice(0, 64))}`);
  if (b.kind !== undefined && b.kind !== 'DeleteOptions') throw bad(`expected kind DeleteOptions, got ${JSON.stringify(String(b.kind).slice(0, 64))}`);
  let policy = (b.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as unknown;
  const orphan = b.orphanDependents ?? (query.get('orphanDependents') === null ? undefined : query.get('orphanDependents') === 'true');
  if (policy === undefined && orphan === true) policy = 'Orphan';
  if (policy !== undefined && !POLICIES.includes(policy as DeletePropagation)) throw bad(`propagationPolicy must be one of ${POLICIES.join(', ')}`);
  const graceRaw = b.gracePeriodSeconds ?? query.get('gracePeriodSeconds') ?? undefined;
  const grace = graceRaw === undefined ? undefined : Number(graceRaw);
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS)) throw bad(`gracePeriodSeconds must be a whole number from 0 to ${MAX_GRACE_SECONDS}`);
  const dryRuns = [...(Array.isArray(b.dryRun) ? b.dryRun : []), ...query.getAll('dryRun')];
  for (const d of dryRuns) if (d !== 'All') throw bad(`dryRun ${JSON.stringify(String(d).slice(0, 64))} is not supported: only "All"`);
  let preconditions: DeleteOptions['preconditions'];
  if (b.preconditions !== undefined && b.preconditions !== null) {
    if (!isRecord(b.preconditions)) throw bad('preconditions must be an object');
    const { uid, resourceVersion } = b.preconditions;
    if ((uid !== undefined && typeof uid !== 'string') || (resourceVersion !== undefined && typeof resourceVersion !== 'string')) throw bad('preconditions.uid and preconditions.resourceVersion must be strings');
    preconditions = { ...(uid !== undefined ? { uid } : {}), ...(resourceVersion !== undefined ? { resourceVersion } : {}) };
  }
  return { propagation: (policy as DeletePropagation | undefined) ?? 'Background', dryRun: dryRuns.length > 0, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...(preconditions ? { preconditions } : {}) };
}

async function optionsOf(ctx: RequestContext): Promise<DeleteOptions> {
  const { bytes } = await ctx.rawBody();
  const body = bytes.toString('utf8').trim() === '' ? undefined : (await decodeBody(bytes)).value;
  return parseDeleteOptions(body, ctx.query);
}

/** The objects in `ref`'s namespace that name `uid` as an owner. */
async function dependentsOf(objects: ObjectStore, ref: ObjectRef, uid: string): Promise<AnyObject[]> {
  if (ref.namespace === undefined) return [];
  const out: AnyObject[] = [];
  for (const info of ALL_KINDS) {
    if (!info.namespaced) continue;
    for (const o of (await objects.list(info.kind, { namespace: ref.namespace })).items as AnyObject[]) {
      if ((o.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push(o);
    }
  }
  return out;
}

/** The changes that delete `object` under `options` (an Orphan delete releases dependents first). */
async function deleteChanges(objects: ObjectStore, object: AnyObject, options: DeleteOptions): Promise<ObjectChange[]> {
  const ref = refOf(object);
  const changes: ObjectChange[] = [];
  if (options.propagation === 'Orphan' && object.metadata.uid !== undefined) {
    for (const d of await dependentsOf(objects, ref, object.metadata.uid)) {
      const owners = (d.metadata.ownerReferences ?? []).filter((r) => r.uid !== object.metadata.uid);
      const { ownerReferences: _o, ...meta } = d.metadata;
      // The dependent's resourceVersion rides along: a concurrent change to it is a Conflict, not lost.
      changes.push({ op: 'put', object: { ...d, metadata: { ...meta, ...(owners.length ? { ownerReferences: owners } : {}) } } as AnyObject });
    }
  }
  const grace = ref.kind === 'Pod' && options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {};
  changes.push({ op: 'delete', ref, ...(options.propagation !== 'Orphan' ? { propagation: options.propagation } : {}), ...(options.preconditions ? { preconditions: options.preconditions } : {}), ...grace });
  return changes;
}

/** DELETE /…/{plural}/{name}: the object as it was (or, marked, as it now is). */
export async function deleteObject(objects: ObjectStore, ctx: RequestContext, ref: ObjectRef): Promise<AnyObject> {
  const options = await optionsOf(ctx);
  const existing = (await objects.get(ref)) as AnyObject | undefined;
  if (existing === undefined) throw notFound(ref);
  const changes = await deleteChanges(objects, existing, options);
  const { results } = await objects.commit(changes, { dryRun: options.dryRun });
  const result = results.at(-1)!;
  if (result.outcome === 'absent') throw notFound(ref);
  return result.object ?? existing;
}

/** DELETE /…/{plural}?labelSelector=…: everything selected, in one commit. */
export async function deleteCollection(objects: ObjectStore, ctx: RequestContext, scope: Scope): Promise<unknown> {
  const options = await optionsOf(ctx);
  if (ctx.query.get('fieldSelector')) throw bad('fieldSelector is not supported on a collection delete: use labelSelector');
  const selector = parseSelector(ctx.query.get('labelSelector'));
  const found = await objects.list(scope.info.kind, { ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}), selector });
  const items = found.items as AnyObject[];
  const changes: ObjectChange[] = [];
  for (const o of items) changes.push(...(await deleteChanges(objects, o, options)));
  const { revision } = await objects.commit(changes, { dryRun: options.dryRun });
  return { apiVersion: scope.info.apiVersion, kind: `${scope.info.kind}List`, metadata: { resourceVersion: String(revision) }, items };
}
