import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { JobRunner, type CronScheduler } from '../../agent/src/agent/jobs/runner.js';
import { missedFiring } from '../../agent/src/agent/jobs/decide.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import type { CronSpec, JobSpec } from '../../src/core/resolved-pod.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { validate } from '../../src/core/objects/validate.js';
import { container, podTarget } from '../support/pod-target.js';

const JOB: JobSpec = { completions: 1, parallelism: 1, backoffLimit: 1 };
const HOURLY: CronSpec = { schedule: '0 * * * *', concurrencyPolicy: 'Allow', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false };
const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

/** node-cron's stand-in: the test fires schedules by hand. */
function manualCron(): { scheduler: CronScheduler; fire: () => void } {
  const fns = new Set<() => void>();
  return { scheduler: (_s, _tz, fire) => (fns.add(fire), { stop: () => fns.delete(fire) }), fire: () => fns.forEach((f) => f()) };
}

function agent(store: MemoryStore, runtime: MemoryRuntime, clock: ManualClock, scheduler: CronScheduler) {
  const jobs = new JobRunner({ store, clock, logger: silentLogger(), scheduler });
  return new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 0, onStatus: () => {}, jobs });
}

async function settle(reconciler: Reconciler): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await reconciler.idle();
}

describe('CronJob startingDeadlineSeconds', () => {
  it('is accepted on a CronJob (no longer refused)', () => {
    const cj = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'b' }, spec: { schedule: '0 * * * *', startingDeadlineSeconds: 600, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'a', image: 'busybox' }] } } } } } };
    expect(validate('CronJob', cj).ok).toBe(true);
  });

  it('picks the latest missed firing within the deadline, none past it, none without a deadline or a first firing', () => {
    const rec = { jobs: [], lastScheduleTime: T0 };
    const cron = { ...HOURLY, startingDeadlineSeconds: 600 };
    expect(missedFiring(cron, rec, T0 + 3 * 60 * MIN + 5 * MIN)).toBe(T0 + 3 * 60 * MIN); // 13:05: 13:00 is 5 min late
    expect(missedFiring(cron, rec, T0 + 3 * 60 * MIN + 11 * MIN)).toBeUndefined(); // 13:11: 11 min late
    expect(missedFiring(cron, rec, T0 + 30 * MIN)).toBeUndefined(); // nothing scheduled since 10:00
    expect(missedFiring(HOURLY, rec, T0 + 60 * MIN + MIN)).toBeUndefined();
    expect(missedFiring(cron, { jobs: [] }, T0 + 60 * MIN + MIN)).toBeUndefined();
    expect(missedFiring({ ...cron, suspend: true }, rec, T0 + 60 * MIN + MIN)).toBeUndefined();
  });

  it('after an agent restart, the firing missed while it was down runs once, within the deadline only', async () => {
    for (const [downFor, deadline, runs] of [[65, 600, 2], [75, 600, 1], [65, undefined, 1]] as const) {
      const clock = new ManualClock(T0);
      const store = new MemoryStore();
      const runtime = new MemoryRuntime({ now: () => clock.now() });
      const cron = manualCron();
      const spec: CronSpec = { ...HOURLY, ...(deadline !== undefined ? { startingDeadlineSeconds: deadline } : {}) };
      const target = { revision: 1, pods: [podTarget('hourly-x1', { app: 'hourly', policy: 'OnFailure', containers: [container('main', { image: 'busybox' })], job: JOB, cron: spec })] };
      const first = agent(store, runtime, clock, cron.scheduler);
      await first.loadJobRecords();
      await first.setTarget(target);
      cron.fire(); // 10:00
      await settle(first);
      await first.stop();
      // Down through 11:00; back at 11:05 or 11:15.
      clock.advance(downFor * MIN);
      const second = agent(store, runtime, clock, manualCron().scheduler);
      await second.loadJobRecords();
      await second.setTarget(target);
      await settle(second);
      await second.trigger('poll');
      const started = runtime.calls.filter((c) => c.startsWith('start '));
      expect(started, `down ${downFor} min, deadline ${deadline}`).toHaveLength(runs);
      if (runs === 2) expect(started[1]).toBe(`start hourly-x1-${(T0 + 60 * MIN) / MIN}_main`);
      await second.stop();
    }
  });
});
