/**
 * `grove rollout status|history|undo|restart deploy/NAME|ds/NAME` on the objects (docs/api.md,
 * "Rollouts"): a Deployment's history is its ReplicaSets (revision annotation), a DaemonSet's
 * its ControllerRevisions; undo puts an older revision's template back into the workload's spec
 * (the controllers then roll to it, as for any template change); restart stamps
 * `grove.io/restartedAt` on the pod template. Status is kubectl's reading of the status the
 * controllers keep, in kubectl's words; the client polls it until done.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { CHANGE_CAUSE_ANNOTATION, RESTARTED_AT_ANNOTATION } from '../../core/objects/annotations.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { byResource } from '../../core/objects/kinds.js';
import type { PodTemplateSpec } from '../../core/objects/pod.js';
import { findTemplate } from '../../core/objects/template-equality.js';
import type { KindObject } from '../../core/objects/validate.js';
import { deploymentTemplateOf, LAST_ROLLBACK_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION, revisionOf } from '../controllers/deployment.js';
import { conditionOf, controllerOf, isoTime } from '../controllers/object-kit.js';
import { invalid } from '../request-fields.js';
import type { ObjectStore } from './object-store.js';

type Deployment = KindObject<'Deployment'>;
type DaemonSet = KindObject<'DaemonSet'>;
type ReplicaSet = KindObject<'ReplicaSet'>;
type ControllerRevision = KindObject<'ControllerRevision'>;

export type RolloutKind = 'Deployment' | 'DaemonSet';

export interface RolloutRef {
  kind: RolloutKind;
  namespace: string;
  name: string;
}

export interface RolloutStatusView extends RolloutRef {
  /** Rolled out completely. */
  done: boolean;
  /** The rollout stopped (progress deadline exceeded): waiting longer will not finish it. */
  failed: boolean;
  /** kubectl's line: "Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...". */
  message: string;
  /** Grove's automatic rollback, when one happened ("revision 3 → 2 at …: …"). */
  lastRollback?: string;
}

export interface RevisionView {
  revision: number;
  /** The ReplicaSet or ControllerRevision holding it. */
  object: string;
  changeCause?: string;
  /** The workload's template is this revision's now. */
  current: boolean;
  /** When its rollout completed (Deployments; Grove's auto-rollback goes to the newest such). */
  rolloutComplete?: string;
  template: PodTemplateSpec;
}

/** `deploy`, `deployments`, `ds`, `daemonset` … → the kind; anything else is refused. */
export function rolloutKind(resource: string): RolloutKind {
  const kind = byResource(resource)?.kind;
  if (kind !== 'Deployment' && kind !== 'DaemonSet') throw invalid('resource', `rollout works on deployments and daemonsets, not "${resource}"`);
  return kind;
}

function notFound(ref: RolloutRef): GroveError {
  const resource = ref.kind === 'Deployment' ? 'deployments.apps' : 'daemonsets.apps';
  return new GroveError(ErrorCode.NotFound, `${resource} "${ref.name}" not found`, { details: { kind: ref.kind, name: ref.name } });
}

/* ---------------------------------------------------------------- status */

const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** PURE: kubectl's reading of a Deployment's rollout. */
export function deploymentRolloutStatus(d: Deployment): Pick<RolloutStatusView, 'done' | 'failed' | 'message'> {
  const name = d.metadata.name;
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, failed: false, message: 'Waiting for deployment spec update to be observed...' };
  if (conditionOf(s.conditions, 'Progressing')?.reason === PROGRESS_DEADLINE_EXCEEDED) return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  const wanted = d.spec.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const waiting = (what: string) => ({ done: false, failed: false, message: `Waiting for deployment "${name}" rollout to finish: ${what}...` });
  if (updated < wanted) return waiting(`${updated} out of ${wanted} new replicas have been updated`);
  if ((s.replicas ?? 0) > updated) return waiting(`${(s.replicas ?? 0) - updated} old replicas are pending termination`);
  if ((s.availableReplicas ?? 0) < updated) return waiting(`${s.availableReplicas ?? 0} of ${updated} updated replicas are available`);
  return { done: true, failed: false, message: `deployment "${name}" successfully rolled out` };
}

/** PURE: kubectl's reading of a DaemonSet's rollout. */
export function daemonSetRolloutStatus(ds: DaemonSet): Pick<RolloutStatusView, 'done' | 'failed' | 'message'> {
  const name = ds.metadata.name;
  if ((ds.spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = ds.status;
  if (!s || (ds.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, failed: false, message: 'Waiting for daemon set spec update to be observed...' };
  const desired = s.desiredNumberScheduled ?? 0;
  const waiting = (what: string) => ({ done: false, failed: false, message: `Waiting for daemon set "${name}" rollout to finish: ${what}...` });
  if ((s.updatedNumberScheduled ?? 0) < desired) return waiting(`${s.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated`);
  if ((s.numberAvailable ?? 0) < desired) return waiting(`${s.numberAvailable ?? 0} of ${desired} updated pods are available`);
  return { done: true, failed: false, message: `daemon set "${name}" successfully rolled out` };
}

/* --------------------------------------------------------------- history */

function ownedBy<T extends AnyObject>(items: readonly T[], owner: AnyObject): T[] {
  return items.filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

/** PURE: a Deployment's revisions (its ReplicaSets), oldest first. */
export function deploymentRevisions(d: Deployment, replicaSets: readonly ReplicaSet[]): RevisionView[] {
  const owned = ownedBy(replicaSets as readonly AnyObject[], d as AnyObject)
    .map((o) => o as ReplicaSet)
    .filter((rs) => revisionOf(rs) > 0);
  // The one the controller takes for the template (by meaning: template-equality.ts).
  const currentSet = findTemplate(owned, deploymentTemplateOf, revisionOf, d.spec.template);
  return owned
    .map((rs) => {
      const template = deploymentTemplateOf(rs);
      const cause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
      const complete = rs.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION];
      return {
        revision: revisionOf(rs),
        object: rs.metadata.name,
        ...(cause !== undefined ? { changeCause: cause } : {}),
        current: rs === currentSet,
        ...(complete !== undefined ? { rolloutComplete: complete } : {}),
        template,
      };
    })
    .sort((a, b) => a.revision - b.revision);
}

/** PURE: a DaemonSet's revisions (its ControllerRevisions), oldest first. */
export function daemonSetRevisions(ds: DaemonSet, revisions: readonly ControllerRevision[]): RevisionView[] {
  const owned = ownedBy(revisions as readonly AnyObject[], ds as AnyObject).map((o) => o as ControllerRevision);
  const currentRevision = findTemplate(owned, (cr) => cr.data?.spec.template, (cr) => cr.revision, ds.spec.template);
  return owned
    .flatMap((cr): RevisionView[] => {
      const template = cr.data?.spec.template as PodTemplateSpec | undefined;
      if (!template) return [];
      const cause = cr.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
      return [{ revision: cr.revision, object: cr.metadata.name, ...(cause !== undefined ? { changeCause: cause } : {}), current: cr === currentRevision, template }];
    })
    .sort((a, b) => a.revision - b.revision);
}

/**
 * PURE: the revision an undo goes to: `toRevision`, or (0/absent) the newest one that is not
 * current, as kubectl's undo picks "the previous revision".
 */
export function undoTarget(ref: RolloutRef, revisions: readonly RevisionView[], toRevision: number | undefined): RevisionView {
  const resource = ref.kind === 'Deployment' ? 'deployment' : 'daemonset';
  if (toRevision !== undefined && toRevision > 0) {
    const found = revisions.find((r) => r.revision === toRevision);
    if (!found) throw new GroveError(ErrorCode.NotFound, `unable to find specified revision ${toRevision} in history of ${resource} "${ref.name}"`, { details: { kind: ref.kind, name: ref.name } });
    return found;
  }
  const previous = revisions.filter((r) => !r.current).at(-1);
  if (!previous) throw new GroveError(ErrorCode.NotFound, `no rollout history found for ${resource} "${ref.name}"`, { details: { kind: ref.kind, name: ref.name } });
  return previous;
}

function parseUndoBody(body: unknown): number | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'expected {"toRevision": N}');
  const to = (body as { toRevision?: unknown }).toRevision;
  if (to === undefined) return undefined;
  if (typeof to !== 'number' || !Number.isSafeInteger(to) || to < 0) throw invalid('toRevision', 'expected a revision number (0 = the previous one)');
  return to;
}

/* ------------------------------------------------------------ operations */

export class RolloutApi {
  constructor(
    private readonly objects: ObjectStore,
    private readonly now: () => number,
  ) {}

  private async workload(ref: RolloutRef): Promise<Deployment | DaemonSet> {
    const found = await this.objects.get({ kind: ref.kind, namespace: ref.namespace, name: ref.name });
    if (!found) throw notFound(ref);
    return found as Deployment | DaemonSet;
  }

  async status(ref: RolloutRef): Promise<RolloutStatusView> {
    const w = await this.workload(ref);
    const verdict = w.kind === 'Deployment' ? deploymentRolloutStatus(w) : daemonSetRolloutStatus(w);
    const rollback = w.metadata.annotations?.[LAST_ROLLBACK_ANNOTATION];
    return { ...ref, ...verdict, ...(rollback !== undefined ? { lastRollback: rollback } : {}) };
  }

  async history(ref: RolloutRef): Promise<RevisionView[]> {
    const w = await this.workload(ref);
    if (w.kind === 'Deployment') return deploymentRevisions(w, (await this.objects.list('ReplicaSet', { namespace: ref.namespace })).items);
    return daemonSetRevisions(w, (await this.objects.list('ControllerRevision', { namespace: ref.namespace })).items);
  }

  /** Puts an older revision's template back; `unchanged` when it is the current one already. */
  async undo(ref: RolloutRef, body: unknown): Promise<RolloutRef & { toRevision: number; unchanged: boolean }> {
    const toRevision = parseUndoBody(body);
    const w = await this.workload(ref);
    const target = undoTarget(ref, await this.history(ref), toRevision);
    if (target.current) return { ...ref, toRevision: target.revision, unchanged: true };
    const annotations = { ...w.metadata.annotations };
    // A manual undo is the operator's decision: the last automatic rollback's note no longer applies.
    delete annotations[LAST_ROLLBACK_ANNOTATION];
    if (target.changeCause !== undefined) annotations[CHANGE_CAUSE_ANNOTATION] = target.changeCause;
    const next = { ...w, metadata: { ...w.metadata, annotations }, spec: { ...w.spec, template: structuredClone(target.template) } };
    await this.objects.commit([{ op: 'put', object: next as AnyObject }]);
    return { ...ref, toRevision: target.revision, unchanged: false };
  }

  /** `grove.io/restartedAt` on the pod template: a new template, so every pod is replaced by the usual rollout. */
  async restart(ref: RolloutRef): Promise<RolloutRef & { restartedAt: string }> {
    const w = await this.workload(ref);
    const restartedAt = isoTime(this.now());
    const template = w.spec.template;
    const next = {
      ...w,
      spec: { ...w.spec, template: { ...template, metadata: { ...template.metadata, annotations: { ...template.metadata?.annotations, [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
    };
    await this.objects.commit([{ op: 'put', object: next as AnyObject }]);
    return { ...ref, restartedAt };
  }
}
