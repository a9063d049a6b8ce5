/**
 * The Job / CronJob part of the plan: PURE. Each round it turns the target's Job and CronJob pods
 * into the run pods the container part should see (their records advanced by jobs/decide.ts,
 * schedule firings taken in), says which records to keep in the agent's store and which
 * schedules to (re)start, and folds the runs' statuses back into one status per target pod.
 *
 * Records survive an agent restart (memory.jobs is loaded from the store), so a finished Job is
 * not run again and a CronJob's history is kept. Schedules fire on the node (jobs/runner.ts), so
 * runs happen while the server or broker is down.
 */
import type { CronSpec } from '../../../../src/core/resolved-pod.js';
import type { PodStatus } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { advanceCron, advanceJob, cronStatus, fireCron, jobStatus, missedFiring, newJob, observeRun, runPods, type JobRecord, type PodJobRecord } from '../jobs/decide.js';
import type { ManagedContainer } from '../node-runtime.js';
import { deepEqual } from '../status.js';
import type { PlanMemory } from './memory.js';
import { cronOf, inNamespace, jobOf, podKey, podStatusIdentity, statusKey } from './pod-fields.js';
import type { JobEvent, StepOf } from './steps.js';

export interface JobsPlan {
  /** The target with each Job / CronJob pod replaced by its run pods. */
  pods: WirePodTarget[];
  steps: StepOf<'save-jobs' | 'schedule-cron' | 'unschedule-cron'>[];
  /** When to look again (a deadline, a run backoff, a TTL). */
  wakeAt?: number;
}

/** What a CronJob pod's schedule is made from: a change means a new schedule. */
export function cronKey(cron: CronSpec): string {
  return `${cron.schedule}|${cron.timeZone ?? ''}|${cron.suspend}`;
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

export function planJobs(target: readonly WirePodTarget[], memory: Pick<PlanMemory, 'jobs' | 'cronFires' | 'cronSchedules'>, current: readonly ManagedContainer[], now: number): JobsPlan {
  const pods: WirePodTarget[] = [];
  const steps: JobsPlan['steps'] = [];
  const put: PodJobRecord[] = [];
  const fires: { pod: string; count: number }[] = [];
  const events: JobEvent[] = [];
  let wakeAt: number | undefined;
  const seen = new Set<string>();
  for (const pod of target) {
    const job = jobOf(pod);
    const cron = cronOf(pod);
    if (!job) {
      pods.push(pod);
      continue;
    }
    // Records, schedules and firings are keyed by podKey; Job and run names are pod names in its namespace.
    const key = podKey(pod);
    if (seen.has(key)) continue;
    seen.add(key);
    const old = memory.jobs.get(key);
    const rec: PodJobRecord = old && old.templateHash === pod.templateHash ? old : { pod: key, templateHash: pod.templateHash };
    const observe = (run: string) => observeRun(pod, run, current);
    let next: PodJobRecord;
    if (cron) {
      const made = cronKey(cron);
      if (memory.cronSchedules.get(key) !== made) steps.push({ type: 'schedule-cron', pod: key, cron, key: made });
      let cronRec = rec.cron ?? { jobs: [] };
      const fired = memory.cronFires.get(key) ?? [];
      // startingDeadlineSeconds: a firing missed while the agent was down starts late; a catch-up
      // that cannot start now (Forbid) is tried again next round, without an event each time.
      const missed = missedFiring(cron, cronRec, now);
      if (missed !== undefined && !fired.includes(missed)) {
        const f = fireCron(pod.name, cron, cronRec, missed);
        if ('started' in f.outcome) {
          cronRec = f.record;
          events.push({ type: 'fired', pod: key, at: missed, outcome: f.outcome });
        }
      }
      for (const at of fired) {
        const f = fireCron(pod.name, cron, cronRec, at);
        cronRec = f.record;
        events.push({ type: 'fired', pod: key, at, outcome: f.outcome });
      }
      if (fired.length > 0) fires.push({ pod: key, count: fired.length });
      const step = advanceCron(job, cron, cronRec, observe, now);
      next = { pod: key, templateHash: pod.templateHash, cron: step.record };
      wakeAt = minDefined(wakeAt, step.wakeAt);
      for (const job of step.record.jobs) pods.push(...runPods(pod, job, current));
    } else {
      const step = advanceJob(job, rec.job ?? newJob(pod.name, now), observe, now);
      next = { pod: key, templateHash: pod.templateHash, job: step.record };
      wakeAt = minDefined(wakeAt, step.wakeAt);
      const done = step.record;
      if (done.condition && rec.job?.condition !== done.condition) {
        events.push({ type: 'finished', pod: key, condition: done.condition, ...(done.reason ? { reason: done.reason } : {}), succeeded: done.succeeded, failed: done.failed });
      }
      pods.push(...runPods(pod, done, current));
    }
    if (!deepEqual(next, old)) put.push(next);
  }
  // Records, firings and schedules of pods no longer in the target go (their run containers go with the plan).
  const remove = [...new Set([...memory.jobs.keys(), ...memory.cronFires.keys()])].filter((pod) => !seen.has(pod));
  if (put.length > 0 || remove.length > 0 || fires.length > 0) steps.unshift({ type: 'save-jobs', put, remove, fires, events });
  for (const pod of memory.cronSchedules.keys()) if (!seen.has(pod)) steps.push({ type: 'unschedule-cron', pod });
  return { pods, steps, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/** One status per target pod: a Job / CronJob pod's from its newest run plus its job status. */
export function foldJobs(target: readonly WirePodTarget[], runs: readonly PodStatus[], records: ReadonlyMap<string, PodJobRecord>): PodStatus[] {
  const byKey = new Map(runs.map((s) => [statusKey(s), s]));
  const out: PodStatus[] = [];
  const seen = new Set<string>();
  for (const pod of target) {
    const key = podKey(pod);
    if (seen.has(key)) continue;
    seen.add(key);
    const rec = records.get(key);
    if (!jobOf(pod) || !rec) {
      const s = byKey.get(key);
      if (s) out.push(s);
      continue;
    }
    const runOf = (name: string) => byKey.get(inNamespace(pod.namespace, name));
    const jobs: JobRecord[] = rec.cron ? rec.cron.jobs : rec.job ? [rec.job] : [];
    const newest = jobs.flatMap((j) => j.runs).map((r) => runOf(r.name)).filter((s): s is PodStatus => s !== undefined).pop();
    const base = podStatusIdentity(pod);
    const containers = newest?.containers ?? [];
    const restarts = jobs.flatMap((j) => j.runs).reduce((n, r) => n + (runOf(r.name)?.restarts ?? 0), 0);
    if (rec.cron) {
      // A CronJob pod is the schedule itself: running (ready) as long as it is on the node.
      out.push({ ...base, phase: 'Running', ready: true, restarts, containers, job: cronStatus(rec.cron) });
      continue;
    }
    const job = rec.job!;
    const phase = job.condition === 'Complete' ? 'Succeeded' : job.condition === 'Failed' ? 'Failed' : newest?.phase === 'Pending' ? 'Pending' : 'Running';
    out.push({ ...base, phase, ready: phase === 'Running' && newest?.ready === true, restarts, containers, job: jobStatus(job) });
  }
  return out;
}
