/**
 * PURE decisions of the Job / CronJob runner: (record, what the containers show, now) → the next
 * record. No I/O, no clock of its own: runner.ts reads the containers, calls these, persists the
 * record and hands the resulting run pods to the ordinary planner.
 *
 * A Job is a sequence of runs; a run is a pod of its own (`<job>`, then `<job>-2`, …) whose
 * containers the planner starts like any other. restartPolicy OnFailure restarts a failed
 * container in place (the executor's crash backoff), each restart counting as a failure;
 * Never ends the run as Failed and the Job starts a new run after a backoff (10 s doubling to
 * 6 min, as Kubernetes). More failures than backoffLimit, or activeDeadlineSeconds passed,
 * fail the Job and stop its active runs.
 */
import { lastFiring, parseCron, type CronSchedule } from '../../../../src/core/cron-window.js';
import type { CronSpec, JobSpec } from '../../../../src/core/resolved-pod.js';
import type { JobRunStatus, JobStatus } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { Labels, podKeyOf, type ManagedContainer } from '../node-runtime.js';
import { pickCurrent } from '../plan/containers.js';
import { inNamespace, mainContainers, podVariant, restartPolicyOf } from '../plan/pod-fields.js';

export type RunPhase = 'Active' | 'Succeeded' | 'Failed';

export interface RunRecord {
  /** The run's pod name (the grove.pod label of its containers). */
  name: string;
  startedAt: number;
  phase: RunPhase;
  finishedAt?: number;
  /** OnFailure: container failures so far (restarts in place); Never: 1 once Failed. */
  failures: number;
}

export interface JobRecord {
  name: string;
  startTime: number;
  completionTime?: number;
  condition?: 'Complete' | 'Failed';
  reason?: string;
  succeeded: number;
  /** Failures of finished runs (OnFailure failures of active runs are added on top). */
  failed: number;
  /** Sequence number of the next run. */
  nextRun: number;
  /** Active runs and the latest finished ones (their exited containers are kept for logs). */
  runs: RunRecord[];
  /** ttlSecondsAfterFinished has passed: the containers are gone, the record stays (no re-run). */
  cleanedUp?: boolean;
}

export interface CronRecord {
  jobs: JobRecord[];
  lastScheduleTime?: number;
  lastSuccessfulTime?: number;
}

/** What the agent keeps per Job / CronJob pod in its local store. */
export interface PodJobRecord {
  pod: string;
  templateHash: string;
  job?: JobRecord;
  cron?: CronRecord;
}

/** Finished runs whose containers a Job keeps (older ones are removed). */
export const FINISHED_RUNS_KEPT = 3;
const RUN_BACKOFF_MS = 10_000;
const RUN_BACKOFF_MAX_MS = 360_000;

export interface RunObservation {
  phase: RunPhase;
  failures: number;
}

/** How a run's containers stand: Active until every one has ended for good. */
export function observeRun(pod: WirePodTarget, runName: string, current: readonly ManagedContainer[]): RunObservation {
  const key = inNamespace(pod.namespace, runName);
  const mine = current.filter((c) => podKeyOf(c) === key && c.labels[Labels.templateHash] === pod.templateHash);
  let failures = 0;
  let active = false;
  let allZero = true;
  for (const ct of mainContainers(pod)) {
    const c = pickCurrent(mine.filter((m) => m.labels[Labels.container] === ct.name));
    failures += c?.restarts ?? 0;
    if (!c || c.state !== 'exited') {
      active = true;
      continue;
    }
    if (c.exitCode !== 0) {
      allZero = false;
      // OnFailure: the planner restarts it in place; the exit is a failure all the same.
      if (restartPolicyOf(pod) === 'OnFailure') {
        failures += 1;
        active = true;
      }
    }
  }
  if (active) return { phase: 'Active', failures };
  return { phase: allZero ? 'Succeeded' : 'Failed', failures: allZero ? failures : failures + 1 };
}

export function runName(job: string, seq: number): string {
  return seq === 1 ? job : `${job}-${seq}`;
}

export function newJob(name: string, now: number): JobRecord {
  return { name, startTime: now, succeeded: 0, failed: 0, nextRun: 1, runs: [] };
}

export interface JobStep {
  record: JobRecord;
  /** When to look again (a deadline, a run backoff, a TTL), if anything is timed. */
  wakeAt?: number;
}

function finish(rec: JobRecord, condition: 'Complete' | 'Failed', now: number, reason?: string): void {
  rec.condition = condition;
  rec.completionTime = now;
  if (reason) rec.reason = reason;
  // Runs still active are stopped: as finished runs only their exited containers are kept.
  for (const r of rec.runs) {
    if (r.phase !== 'Active') continue;
    r.phase = 'Failed';
    r.finishedAt = now;
  }
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** One step of a Job: take in what its runs did, finish it or start runs. */
export function advanceJob(spec: JobSpec, rec0: JobRecord, observe: (run: string) => RunObservation, now: number): JobStep {
  const rec: JobRecord = structuredClone(rec0);
  if (rec.condition) {
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl === undefined || rec.cleanedUp) return { record: rec };
    const due = (rec.completionTime ?? now) + ttl * 1000;
    if (now < due) return { record: rec, wakeAt: due };
    rec.cleanedUp = true;
    rec.runs = [];
    return { record: rec };
  }
  let activeFailures = 0;
  for (const run of rec.runs) {
    if (run.phase !== 'Active') continue;
    const seen = observe(run.name);
    run.failures = seen.failures;
    if (seen.phase === 'Active') {
      activeFailures += seen.failures;
      continue;
    }
    run.phase = seen.phase;
    run.finishedAt = now;
    if (seen.phase === 'Succeeded') rec.succeeded += 1;
    else rec.failed += Math.max(1, seen.failures);
  }
  const deadline = spec.activeDeadlineSeconds === undefined ? undefined : rec.startTime + spec.activeDeadlineSeconds * 1000;
  if (rec.succeeded >= spec.completions) finish(rec, 'Complete', now);
  else if (rec.failed + activeFailures > spec.backoffLimit) finish(rec, 'Failed', now, 'BackoffLimitExceeded');
  else if (deadline !== undefined && now >= deadline) finish(rec, 'Failed', now, 'DeadlineExceeded');
  if (rec.condition) {
    trimFinished(rec);
    return { record: rec, ...(spec.ttlSecondsAfterFinished !== undefined ? { wakeAt: now + spec.ttlSecondsAfterFinished * 1000 } : {}) };
  }
  let wakeAt = deadline;
  const lastFailure = Math.max(0, ...rec.runs.filter((r) => r.phase === 'Failed').map((r) => r.finishedAt ?? 0));
  const notBefore = rec.failed > 0 ? lastFailure + Math.min(RUN_BACKOFF_MAX_MS, RUN_BACKOFF_MS * 2 ** Math.min(rec.failed - 1, 10)) : 0;
  let active = rec.runs.filter((r) => r.phase === 'Active').length;
  const wanted = Math.min(spec.parallelism, spec.completions - rec.succeeded);
  if (active < wanted && now < notBefore) wakeAt = minDefined(wakeAt, notBefore);
  while (active < wanted && now >= notBefore) {
    rec.runs.push({ name: runName(rec.name, rec.nextRun), startedAt: now, phase: 'Active', failures: 0 });
    rec.nextRun += 1;
    active += 1;
  }
  trimFinished(rec);
  return { record: rec, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/** Keeps every active run and the newest FINISHED_RUNS_KEPT finished ones. */
function trimFinished(rec: JobRecord): void {
  const finished = rec.runs.filter((r) => r.phase !== 'Active');
  const drop = new Set(finished.slice(0, Math.max(0, finished.length - FINISHED_RUNS_KEPT)));
  rec.runs = rec.runs.filter((r) => !drop.has(r));
}

/* -------------------------------------------------------------------- CronJob */

export type FireOutcome = { started: string; replaced: string[] } | { skipped: 'Suspended' | 'Forbid' | 'AlreadyRan' | 'TooManyActive' };

/** Allow: Jobs of one CronJob running at once, at most (a stuck run must not pile up forever). */
export const MAX_ACTIVE_JOBS = 20;
/** The newest Jobs a CronJob's status lists (history limits allow 200 kept; the status stays small). */
export const STATUS_JOBS_LISTED = 20;

/** Job name of a firing: unix minutes as Kubernetes does, unix seconds for 6-field (seconds) schedules. */
export function cronJobName(pod: string, cron: CronSpec, firedAt: number): string {
  const seconds = cron.schedule.trim().split(/\s+/).length === 6;
  return `${pod}-${Math.floor(firedAt / (seconds ? 1000 : 60_000))}`;
}

/** The schedule fired at `now`: start a Job, unless suspended or (Forbid) one is still running. */
export function fireCron(pod: string, cron: CronSpec, rec0: CronRecord, now: number): { record: CronRecord; outcome: FireOutcome } {
  const rec: CronRecord = structuredClone(rec0);
  if (cron.suspend) return { record: rec, outcome: { skipped: 'Suspended' } };
  const name = cronJobName(pod, cron, now);
  if (rec.jobs.some((j) => j.name === name)) return { record: rec, outcome: { skipped: 'AlreadyRan' } };
  const active = rec.jobs.filter((j) => !j.condition);
  if (active.length > 0 && cron.concurrencyPolicy === 'Forbid') return { record: rec, outcome: { skipped: 'Forbid' } };
  if (active.length >= MAX_ACTIVE_JOBS && cron.concurrencyPolicy === 'Allow') return { record: rec, outcome: { skipped: 'TooManyActive' } };
  let replaced: string[] = [];
  if (active.length > 0 && cron.concurrencyPolicy === 'Replace') {
    // As Kubernetes: the running Job is deleted (its containers stopped), not kept as failed.
    replaced = active.map((j) => j.name);
    rec.jobs = rec.jobs.filter((j) => j.condition);
  }
  rec.jobs.push(newJob(name, now));
  rec.lastScheduleTime = now;
  return { record: rec, outcome: { started: name, replaced } };
}

/**
 * The latest firing missed since the last one started (the agent was down, or Forbid held it)
 * that is still within startingDeadlineSeconds of its time, as Kubernetes' CronJob controller
 * catches up: only the most recent missed one, never those past the deadline. Undefined without
 * a deadline, before any firing (the record does not say since when to look), or when suspended.
 */
export function missedFiring(cron: CronSpec, rec: CronRecord, now: number): number | undefined {
  if (cron.startingDeadlineSeconds === undefined || rec.lastScheduleTime === undefined || cron.suspend) return undefined;
  const lookback = Math.min(cron.startingDeadlineSeconds * 1000, now - rec.lastScheduleTime - 1);
  if (lookback < 0) return undefined;
  let schedule: CronSchedule;
  try {
    schedule = parseCron(cron.schedule);
  } catch {
    return undefined; // the runner reports a schedule it cannot read
  }
  const at = lastFiring(schedule, now, lookback, cron.timeZone);
  return at !== undefined && at > rec.lastScheduleTime ? at : undefined;
}

/** Advances every Job of a CronJob, then keeps the history limits. */
export function advanceCron(spec: JobSpec, cron: CronSpec, rec0: CronRecord, observe: (run: string) => RunObservation, now: number): { record: CronRecord; wakeAt?: number } {
  const rec: CronRecord = { ...structuredClone(rec0), jobs: [] };
  let wakeAt: number | undefined;
  for (const job of rec0.jobs) {
    const wasDone = job.condition !== undefined;
    const step = advanceJob(spec, job, observe, now);
    wakeAt = minDefined(wakeAt, step.wakeAt);
    // A cron-made Job past its TTL is forgotten entirely: the schedule makes new ones.
    if (step.record.cleanedUp) continue;
    if (!wasDone && step.record.condition === 'Complete') rec.lastSuccessfulTime = now;
    rec.jobs.push(step.record);
  }
  const keep = (condition: 'Complete' | 'Failed', limit: number): Set<JobRecord> => {
    const done = rec.jobs.filter((j) => j.condition === condition).sort((a, b) => (a.completionTime ?? 0) - (b.completionTime ?? 0));
    return new Set(done.slice(Math.max(0, done.length - limit)));
  };
  const ok = keep('Complete', cron.successfulJobsHistoryLimit);
  const failed = keep('Failed', cron.failedJobsHistoryLimit);
  rec.jobs = rec.jobs.filter((j) => !j.condition || ok.has(j) || failed.has(j));
  return { record: rec, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/* ---------------------------------------------------------- pods and status */

/**
 * The pods the planner must see for a Job's runs: active runs as the pod itself under the run's
 * name; finished runs with Never and only their exited containers, so nothing is (re)started
 * and the containers stay for `grove logs` until trimmed or past the TTL.
 */
export function runPods(pod: WirePodTarget, rec: JobRecord, current: readonly ManagedContainer[]): WirePodTarget[] {
  const out: WirePodTarget[] = [];
  for (const run of rec.runs) {
    if (run.phase === 'Active') {
      out.push(podVariant(pod, run.name));
      continue;
    }
    const key = inNamespace(pod.namespace, run.name);
    const exited = new Set(
      current.filter((c) => podKeyOf(c) === key && c.labels[Labels.templateHash] === pod.templateHash && c.state === 'exited').map((c) => c.labels[Labels.container]),
    );
    const containers = mainContainers(pod).filter((c) => exited.has(c.name));
    if (containers.length > 0) out.push(podVariant(pod, run.name, { restartPolicy: 'Never', containers }));
  }
  return out;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

function counts(rec: JobRecord): { active: number; succeeded: number; failed: number } {
  const active = rec.runs.filter((r) => r.phase === 'Active');
  return { active: active.length, succeeded: rec.succeeded, failed: rec.failed + active.reduce((n, r) => n + r.failures, 0) };
}

export function jobStatus(rec: JobRecord): JobStatus {
  const out: JobStatus = { ...counts(rec), startTime: iso(rec.startTime)! };
  if (rec.completionTime !== undefined) out.completionTime = iso(rec.completionTime)!;
  if (rec.condition) out.condition = rec.condition;
  if (rec.reason) out.reason = rec.reason;
  return out;
}

export function cronStatus(rec: CronRecord): JobStatus {
  const jobs: JobRunStatus[] = rec.jobs.slice(-STATUS_JOBS_LISTED).map((j) => {
    const s = jobStatus(j);
    return { name: j.name, active: s.active, succeeded: s.succeeded, failed: s.failed, startTime: s.startTime!, ...(s.completionTime ? { completionTime: s.completionTime } : {}), ...(s.condition ? { condition: s.condition } : {}) };
  });
  const out: JobStatus = {
    active: rec.jobs.filter((j) => !j.condition).length,
    succeeded: rec.jobs.filter((j) => j.condition === 'Complete').length,
    failed: rec.jobs.filter((j) => j.condition === 'Failed').length,
    jobs,
  };
  if (rec.lastScheduleTime !== undefined) out.lastScheduleTime = iso(rec.lastScheduleTime)!;
  if (rec.lastSuccessfulTime !== undefined) out.lastSuccessfulTime = iso(rec.lastSuccessfulTime)!;
  return out;
}
