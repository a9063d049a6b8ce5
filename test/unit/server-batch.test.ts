import { describe, expect, it } from 'vitest';
import type { App } from '../../src/core/resolved-pod.js';
import { schedule } from '../../src/server/scheduler.js';
import { buildNodePods, templateHash } from '../../src/server/targets.js';
import { appSummary, type PodView } from '../../src/server/views.js';
import { finishedJobApps, jobExpired } from '../../src/server/job-ttl.js';
import type { PodStatus } from '../../src/core/wire-types.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

function batch(name: string, kind: 'Job' | 'CronJob', version = '1'): App {
  const a = app(name, { kind, version });
  a.spec.template.restartPolicy = 'OnFailure';
  a.spec.job = { completions: 1, parallelism: 1, backoffLimit: 6 };
  if (kind === 'CronJob') a.spec.cron = { schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false };
  return a;
}

const NOW = '2025-06-01T00:00:00.000Z';

describe('server: Job and CronJob apps', () => {
  it('schedules one pod on one node, and keeps it there', () => {
    const first = schedule({ apps: [batch('mig', 'Job')], nodes: [node('a'), node('b')], assignments: [], templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(first.create.map((p) => p.node)).toEqual(['a']);
    const again = schedule({ apps: [batch('mig', 'Job')], nodes: [node('a'), node('b')], assignments: first.create, templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(again).toMatchObject({ create: [], delete: [] });
  });

  it('is not evicted from a NotReady node (a finished Job would run again elsewhere)', () => {
    const a = batch('mig', 'Job');
    const assigned = [pod('mig-1', 'mig', 'a', fakeHash(a))];
    const r = schedule({ apps: [a], nodes: [node('a', { ready: false, notReadySince: '2025-05-01T00:00:00.000Z' }), node('b'), node('c')], assignments: assigned, templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(r).toMatchObject({ create: [], delete: [], evicted: [] });
  });

  it('a template change replaces the pod (a new Job)', () => {
    const a = batch('mig', 'Job', '2');
    const r = schedule({ apps: [a], nodes: [node('a')], assignments: [pod('mig-1', 'mig', 'a', fakeHash(batch('mig', 'Job')))], templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(r.delete).toEqual(['mig-1']);
    expect(r.create).toHaveLength(1);
  });

  it('the pod target carries the job and cron settings', () => {
    const a = batch('tick', 'CronJob');
    const [p] = buildNodePods('a', [pod('tick-1', 'tick', 'a', templateHash(a))], [a]);
    expect(p).toMatchObject({ name: 'tick-1', restartPolicy: 'OnFailure', job: a.spec.job, cron: a.spec.cron });
    const d = app('web');
    expect(buildNodePods('a', [pod('web-1', 'web', 'a', templateHash(d))], [d])[0]).not.toHaveProperty('job');
  });

  it('the app summary carries the Job status, node and phase of its pod', () => {
    const a = batch('mig', 'Job');
    const view: PodView = { name: 'mig-1', app: 'mig', node: 'a', phase: 'Succeeded', ready: false, restarts: 0, containers: [], revision: 1, templateHash: templateHash(a), createdAt: NOW, job: { active: 0, succeeded: 1, failed: 0, condition: 'Complete' } };
    expect(appSummary(a, [view])).toMatchObject({ node: 'a', phase: 'Succeeded', job: { condition: 'Complete', succeeded: 1 } });
    // Deployments keep their summary as it was.
    expect(appSummary(app('web'), [])).toEqual({ desired: 1, current: 0, ready: 0, upToDate: 0 });
  });

  it('ttlSecondsAfterFinished: a finished Job of the current template expires after its TTL', () => {
    const a = batch('mig', 'Job');
    a.spec.job!.ttlSecondsAfterFinished = 30;
    const done = Date.parse(NOW);
    const status = (extra: Partial<PodStatus> = {}): PodStatus => ({
      name: 'mig-1', app: 'mig', templateHash: templateHash(a), phase: 'Succeeded', ready: false, restarts: 0, containers: [],
      job: { active: 0, succeeded: 1, failed: 0, condition: 'Complete', completionTime: NOW }, ...extra,
    });
    expect(finishedJobApps([status(), status({ app: 'tick', job: { active: 0, succeeded: 1, failed: 0, jobs: [] } })])).toEqual(new Set(['mig']));
    expect(jobExpired(a, [status()], done + 29_999)).toBe(false);
    expect(jobExpired(a, [status()], done + 30_000)).toBe(true);
    // Another template's pod (the Job was changed and re-applied) does not count.
    expect(jobExpired(a, [status({ templateHash: 'other' })], done + 60_000)).toBe(false);
    // No TTL, or not a Job: never.
    expect(jobExpired(batch('mig', 'Job'), [status()], done + 1e9)).toBe(false);
    expect(jobExpired({ ...a, spec: { ...a.spec, kind: 'CronJob' } }, [status()], done + 1e9)).toBe(false);
  });
});
