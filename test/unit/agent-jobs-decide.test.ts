import { describe, expect, it } from 'vitest';
import {
  advanceCron,
  advanceJob,
  cronJobName,
  cronStatus,
  MAX_ACTIVE_JOBS,
  STATUS_JOBS_LISTED,
  fireCron,
  newJob,
  observeRun,
  runPods,
  type CronRecord,
  type RunObservation,
} from '../../agent/src/agent/jobs/decide.js';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import type { CronSpec, JobSpec } from '../../src/core/model.js';
import { container as podContainer, podTarget, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const SPEC: JobSpec = { completions: 1, parallelism: 1, backoffLimit: 2 };
const CRON: CronSpec = { schedule: '*/5 * * * * *', concurrencyPolicy: 'Allow', successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, suspend: false };

function pod(policy: RestartPolicy = 'Never'): WirePodTarget {
  return podTarget('mig-abc', { app: 'mig', policy, containers: [podContainer('main', { image: 'busybox' })], job: SPEC });
}

function container(podName: string, state: ManagedContainer['state'], exitCode: number | null, restarts = 0): ManagedContainer {
  return {
    id: `${podName}-id`,
    name: `${podName}_main`,
    labels: { 'grove.managed': 'agent', 'grove.pod': podName, 'grove.app': 'mig', 'grove.container': 'main', 'grove.template-hash': 'h1' },
    image: 'busybox',
    state,
    exitCode,
    oomKilled: false,
    createdAt: new Date(T0).toISOString(),
    restarts,
  };
}

const outcomes = (map: Record<string, RunObservation['phase']>) => (run: string): RunObservation => ({ phase: map[run] ?? 'Active', failures: map[run] === 'Failed' ? 1 : 0 });

describe('Job decisions (pure, injected time)', () => {
  it('observes a run from its containers', () => {
    expect(observeRun(pod(), 'mig-abc', [])).toEqual({ phase: 'Active', failures: 0 });
    expect(observeRun(pod(), 'mig-abc', [container('mig-abc', 'running', null)]).phase).toBe('Active');
    expect(observeRun(pod(), 'mig-abc', [container('mig-abc', 'exited', 0)])).toEqual({ phase: 'Succeeded', failures: 0 });
    expect(observeRun(pod(), 'mig-abc', [container('mig-abc', 'exited', 3)])).toEqual({ phase: 'Failed', failures: 1 });
    // OnFailure: restarted in place, so still active; the exit and earlier restarts are failures.
    expect(observeRun(pod('OnFailure'), 'mig-abc', [container('mig-abc', 'exited', 1, 2)])).toEqual({ phase: 'Active', failures: 3 });
    // Another template's container is not this run's.
    expect(observeRun({ ...pod(), templateHash: 'h2' }, 'mig-abc', [container('mig-abc', 'exited', 0)]).phase).toBe('Active');
  });

  it('starts one run named after the pod and completes when it succeeds', () => {
    const first = advanceJob(SPEC, newJob('mig-abc', T0), outcomes({}), T0).record;
    expect(first.runs.map((r) => [r.name, r.phase])).toEqual([['mig-abc', 'Active']]);
    const done = advanceJob(SPEC, first, outcomes({ 'mig-abc': 'Succeeded' }), T0 + 5000).record;
    expect(done).toMatchObject({ condition: 'Complete', succeeded: 1, completionTime: T0 + 5000 });
    // Finished: stepping again changes nothing and starts nothing.
    expect(advanceJob(SPEC, done, outcomes({}), T0 + 60_000).record).toEqual(done);
  });

  it('restartPolicy Never: a failed run is replaced after a doubling backoff, and the Job fails past backoffLimit', () => {
    let rec = advanceJob(SPEC, newJob('mig-abc', T0), outcomes({}), T0).record;
    const step1 = advanceJob(SPEC, rec, outcomes({ 'mig-abc': 'Failed' }), T0 + 1000);
    rec = step1.record;
    expect(rec.failed).toBe(1);
    expect(rec.runs.filter((r) => r.phase === 'Active')).toEqual([]);
    expect(step1.wakeAt).toBe(T0 + 1000 + 10_000);
    rec = advanceJob(SPEC, rec, outcomes({ 'mig-abc': 'Failed' }), T0 + 11_000).record;
    expect(rec.runs.map((r) => [r.name, r.phase])).toEqual([['mig-abc', 'Failed'], ['mig-abc-2', 'Active']]);
    const step2 = advanceJob(SPEC, rec, outcomes({ 'mig-abc': 'Failed', 'mig-abc-2': 'Failed' }), T0 + 12_000);
    expect(step2.wakeAt).toBe(T0 + 12_000 + 20_000);
    rec = advanceJob(SPEC, step2.record, outcomes({ 'mig-abc': 'Failed', 'mig-abc-2': 'Failed' }), T0 + 32_000).record;
    rec = advanceJob(SPEC, rec, outcomes({ 'mig-abc': 'Failed', 'mig-abc-2': 'Failed', 'mig-abc-3': 'Failed' }), T0 + 33_000).record;
    expect(rec).toMatchObject({ condition: 'Failed', reason: 'BackoffLimitExceeded', failed: 3 });
  });

  it('restartPolicy OnFailure: restarts in place count against backoffLimit', () => {
    let rec = advanceJob(SPEC, newJob('mig-abc', T0), outcomes({}), T0).record;
    rec = advanceJob(SPEC, rec, () => ({ phase: 'Active', failures: 2 }), T0 + 1000).record;
    expect(rec.condition).toBeUndefined();
    rec = advanceJob(SPEC, rec, () => ({ phase: 'Active', failures: 3 }), T0 + 2000).record;
    expect(rec).toMatchObject({ condition: 'Failed', reason: 'BackoffLimitExceeded' });
    // The stopped run stays as a finished run (its exited containers are kept for logs).
    expect(rec.runs.map((r) => r.phase)).toEqual(['Failed']);
  });

  it('activeDeadlineSeconds fails the Job with DeadlineExceeded, and asks to be woken for it', () => {
    const spec = { ...SPEC, activeDeadlineSeconds: 30 };
    const step = advanceJob(spec, newJob('mig-abc', T0), outcomes({}), T0);
    expect(step.wakeAt).toBe(T0 + 30_000);
    const late = advanceJob(spec, step.record, outcomes({}), T0 + 30_000).record;
    expect(late).toMatchObject({ condition: 'Failed', reason: 'DeadlineExceeded' });
  });

  it('completions and parallelism: runs in parallel up to what is left', () => {
    const spec = { ...SPEC, completions: 3, parallelism: 2 };
    let rec = advanceJob(spec, newJob('w', T0), outcomes({}), T0).record;
    expect(rec.runs.map((r) => r.name)).toEqual(['w', 'w-2']);
    rec = advanceJob(spec, rec, outcomes({ w: 'Succeeded', 'w-2': 'Succeeded' }), T0 + 1).record;
    expect(rec.runs.filter((r) => r.phase === 'Active').map((r) => r.name)).toEqual(['w-3']);
    rec = advanceJob(spec, rec, outcomes({ w: 'Succeeded', 'w-2': 'Succeeded', 'w-3': 'Succeeded' }), T0 + 2).record;
    expect(rec).toMatchObject({ condition: 'Complete', succeeded: 3 });
  });

  it('ttlSecondsAfterFinished: containers go after the TTL, the record stays so nothing re-runs', () => {
    const spec = { ...SPEC, ttlSecondsAfterFinished: 60 };
    let rec = advanceJob(spec, newJob('mig-abc', T0), outcomes({}), T0).record;
    const done = advanceJob(spec, rec, outcomes({ 'mig-abc': 'Succeeded' }), T0 + 1000);
    expect(done.wakeAt).toBe(T0 + 61_000);
    expect(runPods(pod(), done.record, [container('mig-abc', 'exited', 0)]).map((p) => [p.name, p.spec.restartPolicy])).toEqual([['mig-abc', 'Never']]);
    rec = advanceJob(spec, done.record, outcomes({}), T0 + 61_000).record;
    expect(rec).toMatchObject({ condition: 'Complete', cleanedUp: true, runs: [] });
    expect(runPods(pod(), rec, [container('mig-abc', 'exited', 0)])).toEqual([]);
  });

  it('run pods: active runs as the pod, finished runs only with their exited containers and Never', () => {
    const rec = { ...newJob('mig-abc', T0), runs: [{ name: 'mig-abc', startedAt: T0, phase: 'Failed' as const, failures: 1 }, { name: 'mig-abc-2', startedAt: T0, phase: 'Active' as const, failures: 0 }] };
    const pods = runPods(pod(), rec, [container('mig-abc', 'exited', 1)]);
    expect(pods.map((p) => [p.name, p.spec.restartPolicy, p.spec.containers.length, 'job' in p])).toEqual([['mig-abc', 'Never', 1, false], ['mig-abc-2', 'Never', 1, false]]);
    // A finished run whose containers are gone is not started again.
    expect(runPods(pod(), { ...rec, runs: [rec.runs[0]!] }, [])).toEqual([]);
  });
});

describe('CronJob decisions (pure, injected time)', () => {
  const empty: CronRecord = { jobs: [] };

  it('names firings by unix seconds for 6-field schedules and unix minutes otherwise', () => {
    expect(cronJobName('b', CRON, T0 + 1500)).toBe(`b-${(T0 + 1500 - 500) / 1000}`);
    expect(cronJobName('b', { ...CRON, schedule: '0 * * * *' }, T0)).toBe(`b-${T0 / 60_000}`);
  });

  it('Allow runs overlapping Jobs; Forbid skips while one is active; Replace swaps it', () => {
    const one = fireCron('b', CRON, empty, T0).record;
    expect(fireCron('b', CRON, one, T0 + 5000).record.jobs).toHaveLength(2);
    const forbid = fireCron('b', { ...CRON, concurrencyPolicy: 'Forbid' }, one, T0 + 5000);
    expect(forbid.outcome).toEqual({ skipped: 'Forbid' });
    expect(forbid.record.jobs).toHaveLength(1);
    const replace = fireCron('b', { ...CRON, concurrencyPolicy: 'Replace' }, one, T0 + 5000);
    expect(replace.outcome).toEqual({ started: `b-${(T0 + 5000) / 1000}`, replaced: [`b-${T0 / 1000}`] });
    expect(replace.record.jobs.map((j) => j.name)).toEqual([`b-${(T0 + 5000) / 1000}`]);
    expect(replace.record.lastScheduleTime).toBe(T0 + 5000);
  });

  it('Forbid lets the next firing run once the active Job finished', () => {
    const spec = { ...CRON, concurrencyPolicy: 'Forbid' as const };
    let rec = fireCron('b', spec, empty, T0).record;
    rec = advanceCron(SPEC, spec, rec, outcomes({}), T0).record;
    rec = advanceCron(SPEC, spec, rec, outcomes({ [`b-${T0 / 1000}`]: 'Succeeded' }), T0 + 3000).record;
    expect(rec.lastSuccessfulTime).toBe(T0 + 3000);
    expect(fireCron('b', spec, rec, T0 + 5000).outcome).toMatchObject({ started: `b-${(T0 + 5000) / 1000}` });
  });

  it('Allow caps the Jobs running at once, and the status lists only the newest Jobs', () => {
    let rec: CronRecord = empty;
    for (let i = 0; i < MAX_ACTIVE_JOBS; i++) rec = fireCron('b', CRON, rec, T0 + i * 5000).record;
    expect(fireCron('b', CRON, rec, T0 + 1e6).outcome).toEqual({ skipped: 'TooManyActive' });
    const many: CronRecord = { jobs: Array.from({ length: 50 }, (_, i) => ({ ...newJob(`b-${i}`, T0 + i), condition: 'Complete' as const, completionTime: T0 + i })) };
    expect(cronStatus(many).jobs?.map((j) => j.name)).toEqual(Array.from({ length: STATUS_JOBS_LISTED }, (_, i) => `b-${50 - STATUS_JOBS_LISTED + i}`));
    expect(cronStatus(many)).toMatchObject({ active: 0, succeeded: 50, failed: 0 });
  });

  it('suspend skips firings; a repeated firing in the same second is skipped', () => {
    expect(fireCron('b', { ...CRON, suspend: true }, empty, T0).outcome).toEqual({ skipped: 'Suspended' });
    const one = fireCron('b', CRON, empty, T0).record;
    expect(fireCron('b', CRON, one, T0 + 400).outcome).toEqual({ skipped: 'AlreadyRan' });
  });

  it('keeps successful and failed history limits, oldest dropped first', () => {
    let rec: CronRecord = empty;
    const phases: Record<string, RunObservation['phase']> = {};
    for (let i = 0; i < 5; i++) {
      const at = T0 + i * 5000;
      rec = fireCron('b', CRON, rec, at).record;
      rec = advanceCron(SPEC, CRON, rec, outcomes(phases), at).record;
      phases[`b-${at / 1000}`] = i === 1 || i === 2 ? 'Failed' : 'Succeeded';
      rec = advanceCron({ ...SPEC, backoffLimit: 0 }, CRON, rec, outcomes(phases), at + 1000).record;
    }
    const kept = rec.jobs.map((j) => [j.name, j.condition]);
    expect(kept).toEqual([
      [`b-${(T0 + 10_000) / 1000}`, 'Failed'],
      [`b-${(T0 + 15_000) / 1000}`, 'Complete'],
      [`b-${(T0 + 20_000) / 1000}`, 'Complete'],
    ]);
  });
});
