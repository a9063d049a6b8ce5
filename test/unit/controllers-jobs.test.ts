import { describe, expect, it } from 'vitest';
import { jobController } from '../../src/server/controllers/job.js';
import { cronJobController } from '../../src/server/controllers/cronjob.js';
import { garbageCollector } from '../../src/server/controllers/gc.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { podStatusController } from '../../src/server/controllers/pod-status.js';
import { nodeTargetPods } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import type { WireJobStatus, WirePodStatus } from '../../src/core/objects/wire.js';
import { validate } from '../../src/core/objects/validate.js';
import { defaultPodSpec } from '../../src/core/objects/defaults.js';
import { applyChanges, container, cronJob, iso, job, node, pass, pods, report, snapshot, T0, world, type World } from './controller-fixtures.js';

const jobs = jobController();
const crons = cronJobController();
const sched = schedulerController();

/** Stores pods as the object store would: defaulted by the Pod schema and defaults.ts (requests from limits). */
function passDefaulted(w: World, ...cs: Parameters<typeof pass>[1][]): void {
  pass(w, ...cs);
  w.objects.Pod = w.objects.Pod.map((p) => {
    const r = validate('Pod', p);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return { ...r.value, spec: defaultPodSpec(r.value.spec, 'pod') };
  });
}

function podReport(w: World, jobStatus: WireJobStatus): void {
  // The Job's or CronJob's own pod (not a CronJob run's pod record).
  const p = pods(w).find((x) => /^uid-(job|cj)-/.test(x.metadata.ownerReferences?.[0]?.uid ?? ''))!;
  const status: WirePodStatus = { name: p.metadata.name, namespace: 'default', uid: p.metadata.uid!, app: 'x', templateHash: 'h', phase: 'Running', ready: false, restarts: 0, containers: [], job: jobStatus };
  w.reports.set(p.spec.nodeName!, report(p.spec.nodeName!, [status]));
}

describe('Job', () => {
  it('makes one pod with the job labels, bound by the scheduler; settled after that', () => {
    const w = world([node('a'), job('backup')]);
    passDefaulted(w, jobs, sched);
    const [p] = pods(w);
    expect(p!.metadata.name).toBe('backup-bbbbb');
    expect(p!.metadata.labels).toEqual({ 'batch.kubernetes.io/job-name': 'backup', 'job-name': 'backup', 'batch.kubernetes.io/controller-uid': 'uid-job-backup', 'controller-uid': 'uid-job-backup' });
    expect(p!.spec.nodeName).toBe('a');
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
  });

  it('keeps its pod when the stored pod differs from the template only by the server\'s Pod defaults (requests from limits)', () => {
    const limited = { template: { spec: { restartPolicy: 'Never', containers: [container('app', { resources: { limits: { memory: '64Mi' } } })] } } };
    const w = world([node('a'), job('backup', limited), cronJob('nightly', { jobTemplate: { spec: limited } })]);
    passDefaulted(w, jobs, crons, sched);
    expect(pods(w)[0]!.spec.containers[0]!.resources?.requests).toEqual({ memory: '64Mi' });
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
    expect(crons.reconcile(snapshot(w)).changes).toEqual([]);
  });

  it('keeps the pod of a Job and a CronJob when the same template comes back spelled otherwise (0.1 spelling, no code defaults)', () => {
    const template = (image: string, memory: string) => ({ template: { spec: { restartPolicy: 'Never', containers: [container('app', { image, resources: { limits: { memory } } })] } } });
    const migrated = template('docker.io/example/migrate:1.0', '67108864');
    const w = world([node('a'), job('backup', migrated), cronJob('nightly', { jobTemplate: { spec: migrated } })]);
    pass(w, jobs, crons, sched);
    // As the migration stores them: the template's spelling, no imagePullPolicy, no requests.
    expect(pods(w)[0]!.spec.containers[0]!.resources?.requests).toBeUndefined();
    const applied = template('example/migrate:1.0', '64Mi');
    w.objects.Job[0] = job('backup', applied);
    w.objects.CronJob[0] = cronJob('nightly', { jobTemplate: { spec: applied } });
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
    expect(crons.reconcile(snapshot(w)).changes).toEqual([]);
    w.objects.Job[0] = job('backup', template('example/migrate:1.1', '64Mi'));
    expect(jobs.reconcile(snapshot(w)).changes.map((c) => c.op)).toEqual(['delete', 'put']);
  });

  it('mirrors the node report into the Job status, Complete with completionTime', () => {
    const w = world([node('a'), job('backup')]);
    passDefaulted(w, jobs, sched);
    podReport(w, { active: 1, succeeded: 0, failed: 1, startTime: '2025-01-01T00:00:01.500Z' });
    pass(w, jobs);
    expect(w.objects.Job[0]!.status).toEqual({ active: 1, succeeded: 0, failed: 1, startTime: '2025-01-01T00:00:01Z' });
    podReport(w, { active: 0, succeeded: 1, failed: 1, startTime: '2025-01-01T00:00:01Z', completionTime: '2025-01-01T00:01:00Z', condition: 'Complete' });
    pass(w, jobs);
    expect(w.objects.Job[0]!.status).toMatchObject({ active: 0, succeeded: 1, completionTime: '2025-01-01T00:01:00Z', conditions: [{ type: 'Complete', status: 'True' }] });
    expect(pass(w, jobs)).toEqual([]);
  });

  it('a failed Job says why', () => {
    const w = world([node('a'), job('backup')]);
    passDefaulted(w, jobs, sched);
    podReport(w, { active: 0, succeeded: 0, failed: 7, startTime: '2025-01-01T00:00:01Z', completionTime: '2025-01-01T00:01:00Z', condition: 'Failed', reason: 'BackoffLimitExceeded' });
    pass(w, jobs);
    expect(w.objects.Job[0]!.status?.conditions?.[0]).toMatchObject({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' });
    expect(w.objects.Job[0]!.status?.completionTime).toBeUndefined();
  });

  it('ttlSecondsAfterFinished: deleted once the TTL has passed since it finished (its pod follows by GC)', () => {
    const w = world([node('a'), job('backup', { ttlSecondsAfterFinished: 60 })]);
    passDefaulted(w, jobs, sched);
    podReport(w, { active: 0, succeeded: 1, failed: 0, startTime: iso(T0), completionTime: iso(T0 + 10_000), condition: 'Complete' });
    const r = jobs.reconcile(snapshot(w));
    applyChanges(w, r.changes);
    expect(jobs.reconcile(snapshot(w)).wakeAt).toBe(T0 + 70_000);
    w.now = T0 + 69_999;
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
    w.now = T0 + 70_000;
    expect(pass(w, jobs, garbageCollector()).map((c) => `${c.op} ${'ref' in c ? c.ref.kind : ''}`)).toEqual(['delete Job', 'delete Pod']);
  });

  it('a finished Job whose pod went is not run again; an unfinished one gets a new pod; a changed template replaces the pod', () => {
    const w = world([node('a'), job('backup')]);
    passDefaulted(w, jobs, sched);
    w.objects.Pod = [];
    pass(w, jobs);
    expect(pods(w)).toHaveLength(1);
    const j = w.objects.Job[0]!;
    const spec = structuredClone(j.spec);
    spec.template.spec.containers[0]!.image = 'example/app:2';
    w.objects.Job[0] = { ...j, spec };
    const changes = jobs.reconcile(snapshot(w)).changes;
    expect(changes.map((c) => c.op)).toEqual(['delete', 'put']);
    w.objects.Pod = [];
    w.objects.Job[0] = { ...j, status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(T0) }] } };
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
  });
});

describe('CronJob', () => {
  const run = (name: string, minutes: number, condition?: 'Complete' | 'Failed') => ({
    name,
    active: condition ? 0 : 1,
    succeeded: condition === 'Complete' ? 1 : 0,
    failed: condition === 'Failed' ? 1 : 0,
    startTime: iso(T0 + minutes * 60_000),
    ...(condition ? { completionTime: iso(T0 + minutes * 60_000 + 5000), condition } : {}),
  });

  it('makes one pod (owner CronJob) and mirrors the reported runs as Job records, pruned to the history limits', () => {
    const w = world([node('a'), cronJob('nightly', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 })]);
    passDefaulted(w, crons, sched);
    expect(pods(w).map((p) => p.metadata.ownerReferences?.[0]?.kind)).toEqual(['CronJob']);
    const runs = [run('nightly-29000000', 0, 'Complete'), run('nightly-29000005', 5, 'Failed'), run('nightly-29000010', 10, 'Complete'), run('nightly-29000015', 15, 'Failed'), run('nightly-29000020', 20, 'Complete'), run('nightly-29000025', 25)];
    podReport(w, { active: 1, succeeded: 3, failed: 2, lastScheduleTime: iso(T0 + 25 * 60_000), lastSuccessfulTime: iso(T0 + 20 * 60_000 + 5000), jobs: runs });
    pass(w, crons);
    expect(w.objects.Job.map((j) => j.metadata.name).sort()).toEqual(['nightly-29000010', 'nightly-29000015', 'nightly-29000020', 'nightly-29000025']);
    expect(w.objects.Job.every((j) => j.metadata.ownerReferences?.[0]?.uid === 'uid-cj-nightly')).toBe(true);
    expect(w.objects.Job.find((j) => j.metadata.name === 'nightly-29000015')!.status?.conditions?.[0]?.type).toBe('Failed');
    const status = w.objects.CronJob[0]!.status!;
    expect(status.lastScheduleTime).toBe(iso(T0 + 25 * 60_000));
    expect(status.lastSuccessfulTime).toBe(iso(T0 + 20 * 60_000 + 5000));
    expect(status.active?.map((a) => a.name)).toEqual(['nightly-29000025']);
    // The Job controller leaves run records alone (no pods for them), and nothing changes on a repeat.
    expect(jobs.reconcile(snapshot(w)).changes).toEqual([]);
    pass(w, crons); // status.active gains the new records' uids, each record gets its pod record
    expect(crons.reconcile(snapshot(w)).changes).toEqual([]);
    const runPods = pods(w).filter((p) => p.metadata.ownerReferences?.[0]?.kind === 'Job');
    expect(runPods.map((p) => [p.metadata.labels?.['job-name'], p.spec.nodeName, p.status?.phase]).sort()).toEqual([
      ['nightly-29000010', 'a', 'Succeeded'],
      ['nightly-29000015', 'a', 'Failed'],
      ['nightly-29000020', 'a', 'Succeeded'],
      ['nightly-29000025', 'a', 'Running'],
    ]);
    // Records only: not sent to the node, not touched by the scheduler or the pod status controller.
    expect(nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects)).map((t) => t.owner?.kind)).toEqual(['CronJob']);
    expect(sched.reconcile(snapshot(w)).changes).toEqual([]);
    expect(podStatusController().reconcile(snapshot(w)).changes.filter((c) => runPods.some((p) => c.op === 'status' && c.ref.name === p.metadata.name))).toEqual([]);
    // A run the node no longer reports goes.
    podReport(w, { active: 0, succeeded: 3, failed: 2, jobs: runs.slice(2, 5) });
    const changes = crons.reconcile(snapshot(w)).changes;
    expect(changes.filter((c) => c.op === 'delete').map((c) => (c as { ref: { name: string } }).ref.name)).toEqual(['nightly-29000025']);
    // Its pod record follows by garbage collection.
    applyChanges(w, changes);
    expect(garbageCollector().reconcile(snapshot(w)).changes.map((c) => c.op)).toEqual(['delete']);
    pass(w, garbageCollector());
    // A lower history limit (re-applied) drops the records beyond it at once, their pods with them.
    const cj = w.objects.CronJob[0]!;
    w.objects.CronJob[0] = { ...cj, spec: { ...cj.spec, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 } };
    pass(w, crons, garbageCollector());
    expect(w.objects.Job.map((j) => j.metadata.name)).toEqual(['nightly-29000020']);
    expect(pods(w).filter((p) => p.metadata.ownerReferences?.[0]?.kind === 'Job').map((p) => p.metadata.labels?.['job-name'])).toEqual(['nightly-29000020']);
  });
});
