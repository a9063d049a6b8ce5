import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { JobRunner, type CronScheduler } from '../../agent/src/agent/jobs/runner.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import type { CronSpec, JobSpec } from '../../src/core/model.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const JOB: JobSpec = { completions: 1, parallelism: 1, backoffLimit: 1 };

function jobPod(name: string, policy: RestartPolicy = 'Never', cron?: CronSpec): WirePodTarget {
  return podTarget(name, { app: name.replace(/-[a-z0-9]+$/, ''), policy, containers: [podContainer('main', { image: 'busybox' })], job: JOB, ...(cron ? { cron } : {}) });
}

/** A stand-in for node-cron: the test fires schedules by hand. */
function manualCron(): { scheduler: CronScheduler; fire: () => void; active: () => number } {
  const fns = new Set<() => void>();
  return {
    scheduler: (_s, _tz, fire) => {
      fns.add(fire);
      return { stop: () => fns.delete(fire) };
    },
    fire: () => fns.forEach((f) => f()),
    active: () => fns.size,
  };
}

function agentParts(store: MemoryStore, runtime: MemoryRuntime, clock: ManualClock, scheduler?: CronScheduler) {
  const reports: StatusReport[] = [];
  const jobs = new JobRunner({ store, clock, logger: silentLogger(), ...(scheduler ? { scheduler } : {}) });
  const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 0, onStatus: (r) => reports.push(r), jobs });
  return { jobs, reconciler, reports, last: () => reports[reports.length - 1]! };
}

async function settle(reconciler: Reconciler): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await reconciler.idle();
}

describe('JobRunner with the reconciler', () => {
  it('runs a Job to completion, reports it, and does not run it again after an agent restart', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const a = agentParts(store, runtime, clock);
    await a.reconciler.loadJobRecords();
    await a.reconciler.setTarget({ revision: 1, pods: [jobPod('mig-x1')] });
    expect(runtime.calls).toEqual(['start mig-x1_main']);
    expect(a.last().pods[0]).toMatchObject({ name: 'mig-x1', phase: 'Running', job: { active: 1, succeeded: 0 } });
    clock.advance(3000);
    runtime.exit('mig-x1_main', 0);
    await a.reconciler.trigger('poll');
    expect(a.last().pods[0]).toMatchObject({ name: 'mig-x1', phase: 'Succeeded', job: { active: 0, succeeded: 1, condition: 'Complete' } });
    expect(a.last().pods[0]?.containers[0]).toMatchObject({ state: 'exited', exitCode: 0 });
    await a.reconciler.stop();

    // A new agent process on the same store and runtime: nothing starts, the status is the same.
    const b = agentParts(store, runtime, clock);
    await b.reconciler.loadJobRecords();
    await b.reconciler.setTarget({ revision: 1, pods: [jobPod('mig-x1')] });
    await b.reconciler.trigger('poll');
    expect(runtime.calls).toEqual(['start mig-x1_main']);
    expect(b.last().pods[0]).toMatchObject({ phase: 'Succeeded', job: { condition: 'Complete', succeeded: 1 } });
    await b.reconciler.stop();
  });

  it('Never: replaces a failed run after the backoff, then fails past backoffLimit', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now(), behaviour: () => ({ exitCode: 1 }) });
    const a = agentParts(new MemoryStore(), runtime, clock);
    await a.reconciler.setTarget({ revision: 1, pods: [jobPod('bad-x1')] });
    await a.reconciler.trigger('poll');
    clock.advance(10_000);
    await settle(a.reconciler);
    await a.reconciler.trigger('poll');
    expect(runtime.calls).toEqual(['start bad-x1_main', 'start bad-x1-2_main']);
    expect(a.last().pods[0]).toMatchObject({ phase: 'Failed', job: { condition: 'Failed', reason: 'BackoffLimitExceeded', failed: 2 } });
    await a.reconciler.stop();
  });

  it('CronJob: each firing runs a Job; Forbid skips a firing while one runs; history is trimmed', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const cron = manualCron();
    const a = agentParts(new MemoryStore(), runtime, clock, cron.scheduler);
    const spec: CronSpec = { schedule: '*/5 * * * * *', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: false };
    await a.reconciler.setTarget({ revision: 1, pods: [jobPod('tick-x1', 'OnFailure', spec)] });
    expect(cron.active()).toBe(1);
    expect(runtime.calls).toEqual([]);
    cron.fire();
    await settle(a.reconciler);
    const first = `tick-x1-${clock.now() / 1000}`;
    expect(runtime.calls).toEqual([`start ${first}_main`]);
    clock.advance(5000);
    cron.fire(); // Forbid: the first run still runs
    await settle(a.reconciler);
    expect(runtime.calls).toHaveLength(1);
    expect(a.jobs.firedCount('tick-x1')).toBe(2);
    runtime.exit(`${first}_main`, 0);
    await a.reconciler.trigger('poll');
    clock.advance(5000);
    cron.fire();
    await settle(a.reconciler);
    const second = `tick-x1-${clock.now() / 1000}`;
    expect(runtime.calls).toEqual([`start ${first}_main`, `start ${second}_main`]);
    runtime.exit(`${second}_main`, 0);
    await a.reconciler.trigger('poll');
    // successfulJobsHistoryLimit 1: the first Job and its container are gone.
    expect((await runtime.list()).map((c) => c.name)).toEqual([`${second}_main`]);
    expect(a.last().pods[0]).toMatchObject({ name: 'tick-x1', phase: 'Running', job: { active: 0, succeeded: 1, jobs: [{ name: second, condition: 'Complete' }] } });
    // The pod leaves the target: schedule stopped, runs removed.
    await a.reconciler.setTarget({ revision: 2, pods: [] });
    expect(cron.active()).toBe(0);
    expect(await runtime.list()).toEqual([]);
    await a.reconciler.stop();
  });

  it('Replace stops the running Job and starts the new one', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const cron = manualCron();
    const a = agentParts(new MemoryStore(), runtime, clock, cron.scheduler);
    const spec: CronSpec = { schedule: '* * * * *', concurrencyPolicy: 'Replace', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false };
    await a.reconciler.setTarget({ revision: 1, pods: [jobPod('rep-x1', 'Never', spec)] });
    cron.fire();
    await settle(a.reconciler);
    clock.advance(60_000);
    cron.fire();
    await settle(a.reconciler);
    const names = (await runtime.list()).map((c) => c.name);
    expect(names).toEqual([`rep-x1-${clock.now() / 60_000}_main`]);
    await a.reconciler.stop();
  });
});
