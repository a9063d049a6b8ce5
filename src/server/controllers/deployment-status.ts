/**
 * PURE: a Deployment's status and its rollout's fate, from the pods its ReplicaSets own:
 * the counts, the Available condition, and the Progressing condition, which is where 0.1's
 * rollout record lives now — NewReplicaSetCreated / ReplicaSetUpdated while pods move (its
 * lastUpdateTime is the last progress), NewReplicaSetAvailable once complete, UpdateDeferred
 * (Grove's) while a node holds the update back for its window or lock (the deadline does not
 * run then, and restarts after), False / ProgressDeadlineExceeded when nothing moved for
 * progressDeadlineSeconds.
 */
import type { KindObject } from '../../core/objects/validate.js';
import type { Condition } from '../../core/objects/meta.js';
import { conditionOf, isoTime, parseTime, setCondition } from './object-kit.js';

type Deployment = KindObject<'Deployment'>;
export type DeploymentStatus = NonNullable<Deployment['status']>;

export interface RolloutFigures {
  desired: number;
  /** Active pods of every ReplicaSet of the Deployment. */
  total: number;
  /** Active pods of the current ReplicaSet. */
  updated: number;
  /** Of those, ready. */
  updatedAvailable: number;
  /** Ready pods of every ReplicaSet. */
  ready: number;
  maxUnavailable: number;
  /** Replicas the current and the old sets are asked for after this pass. */
  currentReplicas: number;
  oldReplicas: number;
}

export function isComplete(f: RolloutFigures): boolean {
  return f.updated === f.desired && f.total === f.desired && f.updatedAvailable === f.desired && f.currentReplicas === f.desired && f.oldReplicas === 0;
}

export function rolloutSummary(f: RolloutFigures): string {
  return `${f.updatedAvailable} of ${f.desired} updated pods available (${f.updated} updated, ${f.total} in all)`;
}

export function countsOf(d: Deployment, f: RolloutFigures, collisionCount: number): DeploymentStatus {
  return {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: f.total,
    updatedReplicas: f.updated,
    readyReplicas: f.ready,
    availableReplicas: f.ready,
    unavailableReplicas: Math.max(0, f.desired - f.ready),
    ...(collisionCount > 0 ? { collisionCount } : {}),
  };
}

export function availableCondition(f: RolloutFigures, before: readonly Condition[] | undefined, now: number): Condition[] {
  const ok = f.ready >= f.desired - f.maxUnavailable;
  return setCondition(
    before,
    ok
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    now,
  );
}

export type ProgressVerdict =
  | { kind: 'steady'; conditions: Condition[]; wakeAt?: number }
  | { kind: 'failed'; conditions: Condition[]; message: string };

export interface ProgressInput {
  deployment: Deployment;
  figures: RolloutFigures;
  currentName: string;
  currentRevision: number;
  /** A new ReplicaSet was made, or an old one became current again, in this pass. */
  newRevision: boolean;
  deferred: boolean;
  conditions: Condition[];
  now: number;
}

function progressing(reason: string, message: string, now: number, status: 'True' | 'False' = 'True'): Condition {
  return { type: 'Progressing', status, reason, message, lastUpdateTime: isoTime(now) };
}

/** Where the rollout stands after this pass, and when to look again if nothing moves. */
export function judgeProgress(p: ProgressInput): ProgressVerdict {
  const before = conditionOf(p.deployment.status?.conditions, 'Progressing');
  const set = (c: Condition): Condition[] => setCondition(p.conditions, before && before.reason === c.reason && before.message === c.message ? { ...c, lastUpdateTime: before.lastUpdateTime } : c, p.now);
  const rs = `ReplicaSet "${p.currentName}"`;
  if (isComplete(p.figures)) return { kind: 'steady', conditions: set(progressing('NewReplicaSetAvailable', `${rs} has successfully progressed.`, p.now)) };
  // A failed rollout stays failed (a later failing pod is a health matter, not a rollout).
  if (!p.newRevision && before?.reason === 'ProgressDeadlineExceeded' && before.message?.startsWith(`${rs} `)) return { kind: 'steady', conditions: p.conditions };
  if (p.deferred) return { kind: 'steady', conditions: set(progressing('UpdateDeferred', `${rs} is held back by a node's update window or lock.`, p.now)) };
  const old = p.deployment.status;
  const moved =
    p.newRevision ||
    before === undefined ||
    before.reason === 'UpdateDeferred' ||
    before.reason === 'NewReplicaSetAvailable' ||
    old?.updatedReplicas !== p.figures.updated ||
    old?.availableReplicas !== p.figures.ready ||
    old?.replicas !== p.figures.total;
  const deadlineMs = (p.deployment.spec.progressDeadlineSeconds ?? 600) * 1000;
  if (moved) {
    const c = progressing(p.newRevision ? 'NewReplicaSetCreated' : 'ReplicaSetUpdated', `${rs} is progressing.`, p.now);
    return { kind: 'steady', conditions: setCondition(p.conditions, c, p.now), wakeAt: p.now + deadlineMs };
  }
  const since = parseTime(before.lastUpdateTime) ?? p.now;
  if (p.now < since + deadlineMs) return { kind: 'steady', conditions: p.conditions, wakeAt: since + deadlineMs };
  const message = `${rs} has timed out progressing: revision ${p.currentRevision} made no progress for ${Math.round(deadlineMs / 1000)} s (progressDeadlineSeconds): ${rolloutSummary(p.figures)}`;
  return { kind: 'failed', conditions: p.conditions, message };
}

/** The Progressing=False condition of a failed rollout, `outcome` saying what Grove did about it. */
export function failedCondition(conditions: readonly Condition[], message: string, outcome: string, now: number): Condition[] {
  return setCondition(conditions, progressing('ProgressDeadlineExceeded', `${message}; ${outcome}`, now, 'False'), now);
}
