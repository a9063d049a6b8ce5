/**
 * PURE: what `grove rollout status` makes of one look at a Deployment or DaemonSet, in kubectl's
 * words ("Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been
 * updated...", "deployment "web" successfully rolled out"), plus Grove's automatic rollback: a
 * grove.io/last-rollback annotation that changed while we watched means this rollout failed.
 */
import { LAST_ROLLBACK_ANNOTATION } from '../../../../server/controllers/deployment.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import type { Workload } from './revisions.js';

export interface RolloutLook {
  line: string;
  done: boolean;
  /** Set when the rollout failed: the one line the command exits non-zero with. */
  failure?: string;
}

/** The automatic rollback the Deployment records, if any (compare before and after to see a new one). */
export function lastRollback(w: Workload): string | undefined {
  return w.metadata.annotations?.[LAST_ROLLBACK_ANNOTATION];
}

function deploymentLook(d: KindObject<'Deployment'>): RolloutLook {
  const name = JSON.stringify(d.metadata.name);
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { line: 'Waiting for deployment spec update to be observed...', done: false };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const failure = `deployment ${name} exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}`;
    return { line: failure, done: true, failure };
  }
  const desired = d.spec.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const wait = (what: string): RolloutLook => ({ line: `Waiting for deployment ${name} rollout to finish: ${what}...`, done: false });
  if (updated < desired) return wait(`${updated} out of ${desired} new replicas have been updated`);
  if ((s.replicas ?? 0) > updated) return wait(`${(s.replicas ?? 0) - updated} old replicas are pending termination`);
  if ((s.availableReplicas ?? 0) < updated) return wait(`${s.availableReplicas ?? 0} of ${updated} updated replicas are available`);
  return { line: `deployment ${name} successfully rolled out`, done: true };
}

function daemonSetLook(ds: KindObject<'DaemonSet'>): RolloutLook {
  const name = JSON.stringify(ds.metadata.name);
  const s = ds.status ?? {};
  if ((ds.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { line: 'Waiting for daemon set spec update to be observed...', done: false };
  const desired = s.desiredNumberScheduled ?? 0;
  const wait = (what: string): RolloutLook => ({ line: `Waiting for daemon set ${name} rollout to finish: ${what}...`, done: false });
  if ((s.updatedNumberScheduled ?? 0) < desired) return wait(`${s.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated`);
  if ((s.numberAvailable ?? 0) < desired) return wait(`${s.numberAvailable ?? 0} of ${desired} updated pods are available`);
  return { line: `daemon set ${name} successfully rolled out`, done: true };
}

/** One look; `rollbackAtStart` is lastRollback() of the first look (a rollback since then fails the watch). */
export function rolloutLook(w: Workload, rollbackAtStart: string | undefined): RolloutLook {
  const rollback = lastRollback(w);
  if (rollback !== undefined && rollback !== rollbackAtStart) {
    const failure = `${w.kind === 'Deployment' ? 'deployment' : 'daemon set'} ${JSON.stringify(w.metadata.name)} rollout failed and was rolled back: ${rollback}`;
    return { line: failure, done: true, failure };
  }
  return w.kind === 'Deployment' ? deploymentLook(w) : daemonSetLook(w);
}
