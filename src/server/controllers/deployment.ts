/**
 * Deployment → ReplicaSets, as Kubernetes' deployment controller: one ReplicaSet per pod
 * template, named `<deployment>-<pod-template-hash>`, found again by comparing templates by
 * meaning (never by recomputing the hash: migrated sets keep 0.1's hash and spelling); its revision annotation only grows (a
 * template that becomes current again gets the next number). RollingUpdate moves replicas from
 * the old sets to the new within maxSurge/maxUnavailable; Recreate empties the old sets first.
 *
 * Grove's automatic rollback (grove.io/auto-rollback, default on): when a rollout passes its
 * progressDeadlineSeconds, the Deployment's template goes back to the newest revision that once
 * completed (marked on its ReplicaSet by grove.io/rollout-complete), as `kubectl rollout undo`
 * would, and grove.io/last-rollback on the Deployment says what happened.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { PodTemplateSpec } from '../../core/objects/pod.js';
import { CHANGE_CAUSE_ANNOTATION, DEPLOYMENT_REVISION_ANNOTATION, LAST_ROLLBACK_ANNOTATION, POD_TEMPLATE_HASH_LABEL, readGroveAnnotations, ROLLOUT_COMPLETE_ANNOTATION } from '../../core/objects/annotations.js';
import { findTemplate } from '../../core/objects/template-equality.js';
import { podTemplateHash } from '../../core/objects/template-hash.js';
import { parseNodeWorkloadKey } from '../../core/node-workload-key.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { availableCondition, countsOf, failedCondition, isComplete, judgeProgress, type RolloutFigures } from './deployment-status.js';
import { ControlledIndex, controllerRef, isActiveOwner, isBeingDeleted, isoTime, isPodReady, sameData, terminatingNamespaces, type Pod } from './object-kit.js';
import { activePodsOf } from './replicaset.js';
import { hasHostPorts, rollingNumbers, rollingStep } from './rollout-math.js';

type Deployment = KindObject<'Deployment'>;
type ReplicaSet = KindObject<'ReplicaSet'>;

export { LAST_ROLLBACK_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION };

/** A ReplicaSet's template as its Deployment wrote it: without the pod-template-hash label. */
export function deploymentTemplateOf(rs: ReplicaSet): PodTemplateSpec {
  const t = structuredClone(rs.spec.template) as PodTemplateSpec;
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

export function revisionOf(rs: ReplicaSet): number {
  const n = Number(rs.metadata.annotations?.[DEPLOYMENT_REVISION_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || (a.metadata.name < b.metadata.name ? -1 : 1);
}

function newReplicaSet(d: Deployment, hash: string, revision: number, replicas: number): ReplicaSet {
  const template = structuredClone(d.spec.template);
  const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const cause = d.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace ?? 'default',
      labels,
      annotations: { [DEPLOYMENT_REVISION_ANNOTATION]: String(revision), ...(cause !== undefined ? { [CHANGE_CAUSE_ANNOTATION]: cause } : {}) },
      ownerReferences: [controllerRef(d)],
    },
    spec: {
      replicas,
      selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash } },
      template: { ...template, metadata: { ...template.metadata, labels } },
    },
  };
}

interface Context {
  /** Every ReplicaSet (a new one's name must be free among them all). */
  replicaSets: readonly ReplicaSet[];
  replicaSetsBy: ControlledIndex<ReplicaSet>;
  podsBy: ControlledIndex<Pod>;
  deferred: ReadonlySet<string>;
  now: number;
}

export function reconcileDeployment(d: Deployment, ctx: Context): Reconciled {
  const changes: ObjectChange[] = [];
  const ns = d.metadata.namespace ?? 'default';
  const owned = ctx.replicaSetsBy.of(d).filter((rs) => !isBeingDeleted(rs)).sort(byRevision);
  const newest = Math.max(0, ...owned.map(revisionOf));
  let collisionCount = d.status?.collisionCount ?? 0;
  // By template (template-equality.ts: the same by meaning, so a migrated set spelled as 0.1
  // spelled it is found again); else its own set of the very hash, which must never be taken for
  // a collision: that would make a new set on every pass.
  const ownName = `${d.metadata.name}-${podTemplateHash(d.spec.template, collisionCount)}`;
  let current = findTemplate(owned, deploymentTemplateOf, revisionOf, d.spec.template) ?? owned.find((rs) => rs.metadata.name === ownName);
  let newRevision = false;
  let currentIsNew = false;
  if (!current) {
    let hash = podTemplateHash(d.spec.template, collisionCount);
    // Another template already has this name: vary the hash, as Kubernetes does with collisionCount.
    while (ctx.replicaSets.some((rs) => (rs.metadata.namespace ?? 'default') === ns && rs.metadata.name === `${d.metadata.name}-${hash}`) && collisionCount < 100) {
      hash = podTemplateHash(d.spec.template, ++collisionCount);
    }
    current = newReplicaSet(d, hash, newest + 1, 0);
    newRevision = currentIsNew = true;
  } else if (revisionOf(current) < newest) {
    current = { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [DEPLOYMENT_REVISION_ANNOTATION]: String(newest + 1) } } };
    newRevision = true;
  }
  const old = owned.filter((rs) => rs.metadata.name !== current!.metadata.name);
  const activeOf = (rs: ReplicaSet): Pod[] => (currentIsNew && rs === current ? [] : activePodsOf(rs, ctx.podsBy.of(rs)));
  const readyOf = (rs: ReplicaSet): number => activeOf(rs).filter(isPodReady).length;

  const desired = d.spec.replicas ?? 1;
  const strategy = d.spec.strategy;
  const numbers = rollingNumbers(strategy?.rollingUpdate, desired, { daemonSet: false, hostPorts: hasHostPorts(d.spec.template.spec) });
  let nextCurrent: number;
  let nextOld: number[];
  if (strategy?.type === 'Recreate') {
    // Every old pod goes first; the new ones come once none of the old is left.
    nextOld = old.map(() => 0);
    nextCurrent = old.some((rs) => activeOf(rs).length > 0) ? (current.spec.replicas ?? 0) : desired;
  } else {
    const step = rollingStep(desired, numbers, { replicas: current.spec.replicas ?? 0, available: readyOf(current) }, old.map((rs) => ({ replicas: rs.spec.replicas ?? 1, available: readyOf(rs) })));
    nextCurrent = step.current;
    nextOld = step.old;
  }

  const figures: RolloutFigures = {
    desired,
    total: owned.reduce((n, rs) => n + activeOf(rs).length, 0),
    updated: activeOf(current).length,
    updatedAvailable: readyOf(current),
    ready: owned.reduce((n, rs) => n + readyOf(rs), 0),
    maxUnavailable: numbers.maxUnavailable,
    currentReplicas: nextCurrent,
    oldReplicas: nextOld.reduce((a, b) => a + b, 0),
  };
  const deferred = ctx.deferred.has(`${ns}/${d.metadata.name}`);
  let conditions = availableCondition(figures, d.status?.conditions, ctx.now);
  const verdict = judgeProgress({ deployment: d, figures, currentName: current.metadata.name, currentRevision: newRevision ? newest + 1 : revisionOf(current), newRevision, deferred, conditions, now: ctx.now });
  conditions = verdict.conditions;

  let rollback: ReplicaSet | undefined;
  if (verdict.kind === 'failed') {
    const target = [...old].reverse().find((rs) => rs.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION] !== undefined);
    const auto = readGroveAnnotations(d.metadata.annotations, d.spec.template.metadata?.annotations).autoRollback;
    const outcome = !auto ? 'automatic rollback is off' : !target ? 'no earlier revision completed' : `rolled back to revision ${revisionOf(target)}`;
    conditions = failedCondition(conditions, verdict.message, outcome, ctx.now);
    if (auto && target) rollback = target;
  }

  // Writes: the current set (new, renumbered, rescaled, marked complete), the old sets rescaled.
  const complete = verdict.kind === 'steady' && isComplete(figures);
  let currentOut = current.spec.replicas === nextCurrent ? current : { ...current, spec: { ...current.spec, replicas: nextCurrent } };
  if (complete && currentOut.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION] === undefined) {
    currentOut = { ...currentOut, metadata: { ...currentOut.metadata, annotations: { ...currentOut.metadata.annotations, [ROLLOUT_COMPLETE_ANNOTATION]: isoTime(ctx.now) } } };
  }
  if (currentOut !== owned.find((rs) => rs.metadata.name === current!.metadata.name)) changes.push({ op: 'put', object: currentOut });
  old.forEach((rs, i) => {
    if ((rs.spec.replicas ?? 1) !== nextOld[i]) changes.push({ op: 'put', object: { ...rs, spec: { ...rs.spec, replicas: nextOld[i]! } } });
  });
  changes.push(...pruneHistory(d, old, nextOld, ctx.podsBy, rollback));

  if (rollback) {
    const annotations = { ...d.metadata.annotations, [LAST_ROLLBACK_ANNOTATION]: `revision ${revisionOf(current)} → ${revisionOf(rollback)} at ${isoTime(ctx.now)}: no progress for ${d.spec.progressDeadlineSeconds ?? 600} s` };
    changes.push({ op: 'put', object: { ...d, metadata: { ...d.metadata, annotations }, spec: { ...d.spec, template: deploymentTemplateOf(rollback) as Deployment['spec']['template'] } } });
  }
  const status = { ...countsOf(d, figures, collisionCount), conditions };
  if (!sameData(status, d.status)) changes.push({ op: 'status', ref: { kind: 'Deployment', namespace: ns, name: d.metadata.name }, status });
  return { changes, ...(verdict.kind === 'steady' && verdict.wakeAt !== undefined ? { wakeAt: verdict.wakeAt } : {}) };
}

/**
 * Old sets beyond revisionHistoryLimit (oldest first) go once they have no pods: never the
 * current one, one still running pods, or the newest completed one (a rollback's target).
 */
function pruneHistory(d: Deployment, old: readonly ReplicaSet[], nextOld: readonly number[], pods: ControlledIndex<Pod>, keep: ReplicaSet | undefined): ObjectChange[] {
  const target = keep ?? [...old].reverse().find((rs) => rs.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION] !== undefined);
  const idle = old.filter((rs, i) => nextOld[i] === 0 && rs !== target && pods.of(rs).length === 0);
  const excess = Math.max(0, old.length - (d.spec.revisionHistoryLimit ?? 10));
  return idle.slice(0, excess).map((rs) => ({ op: 'delete' as const, ref: { kind: 'ReplicaSet' as const, namespace: rs.metadata.namespace ?? 'default', name: rs.metadata.name } }));
}

/**
 * "namespace/name" of the workloads some node reports holding an update back for. A report
 * names the pod's top-level owner as nodes name workloads (node-workload-key.ts: `web` in
 * default, `shop_web` in namespace shop).
 */
export function deferredWorkloads(snapshot: ControllerSnapshot): Set<string> {
  const out = new Set<string>();
  for (const r of snapshot.reports.values()) {
    for (const d of r.status.deferred ?? []) {
      const { namespace, name } = parseNodeWorkloadKey(d.app);
      out.add(`${namespace}/${name}`);
    }
  }
  return out;
}

export function deploymentController(): Controller {
  return {
    name: 'deployment',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const ctx: Context = {
        replicaSets: snapshot.objects.ReplicaSet,
        replicaSetsBy: new ControlledIndex(snapshot.objects.ReplicaSet),
        podsBy: new ControlledIndex(snapshot.objects.Pod),
        deferred: deferredWorkloads(snapshot), now: snapshot.now };
      const changes: ObjectChange[] = [];
      let wakeAt: number | undefined;
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const d of snapshot.objects.Deployment) {
        if (!isActiveOwner(d, terminating)) continue;
        const r = reconcileDeployment(d, ctx);
        changes.push(...r.changes);
        if (r.wakeAt !== undefined && (wakeAt === undefined || r.wakeAt < wakeAt)) wakeAt = r.wakeAt;
      }
      return { changes, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    },
  };
}
