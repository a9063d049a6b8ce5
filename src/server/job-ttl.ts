/**
 * ttlSecondsAfterFinished, server side: a finished Job whose TTL has passed is deleted, as
 * Kubernetes' TTL controller does. The agent removes the Job's containers at the same moment on
 * its own (agent/src/agent/jobs/decide.ts), so a node that is offline is cleaned up too; the
 * server only removes the resource, once it hears the Job finished.
 */
import type { App } from '../core/model.js';
import type { PodStatus } from '../core/wire-types.js';
import { templateHash } from './targets.js';

/** Apps named by reported pods that are finished Jobs (not CronJob runs): the ones worth a look. */
export function finishedJobApps(reported: Iterable<PodStatus>): Set<string> {
  const out = new Set<string>();
  for (const p of reported) if (p.job?.condition && p.job.completionTime && p.job.jobs === undefined) out.add(p.app);
  return out;
}

/**
 * PURE: whether `app` is a Job whose current pod reported it finished at least its TTL ago.
 * Only the pod of the current template counts: a re-applied (changed) Job is a new Job.
 */
export function jobExpired(app: App, reported: readonly PodStatus[], nowMs: number): boolean {
  const ttl = app.spec.job?.ttlSecondsAfterFinished;
  if (app.spec.kind !== 'Job' || ttl === undefined) return false;
  const hash = templateHash(app);
  return reported.some((p) => {
    if (p.app !== app.meta.name || p.templateHash !== hash || !p.job?.condition || !p.job.completionTime) return false;
    const done = Date.parse(p.job.completionTime);
    return Number.isFinite(done) && nowMs >= done + ttl * 1000;
  });
}
