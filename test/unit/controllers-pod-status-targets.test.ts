import { describe, expect, it } from 'vitest';
import { podStatusController, podStatusFromReport } from '../../src/server/controllers/pod-status.js';
import { nodeTargetPods, nodeTargetsByNode } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import { WireNodeTarget as validateNodeTarget } from '../../src/core/objects/generated/wire-node-target.js';
import { encodeCanonical, podsChecksum } from '../../src/core/wire-codec.js';
import { podSpecHash } from '../../src/core/objects/template-hash.js';
import type { WirePodStatus } from '../../src/core/objects/wire.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { container, cronJob, deployment, iso, job, node, obj, pod, report, snapshot, T0, world, type PodOpts } from './controller-fixtures.js';

function boundPod(name: string, o: PodOpts & { init?: boolean } = {}): KindObject<'Pod'> {
  return pod(name, { node: 'a', containers: [container('app')], ...(o.init ? { initContainers: [container('init')] } : {}), ...o });
}

const running = (name = 'web-1', more: Partial<WirePodStatus> = {}): WirePodStatus => ({
  name,
  app: 'web',
  templateHash: 'h',
  phase: 'Running',
  ready: true,
  restarts: 2,
  containers: [
    {
      name: 'app',
      state: 'running',
      oomKilled: false,
      restarts: 2,
      ready: true,
      startedAt: '2025-01-01T00:00:05.123Z',
      containerID: 'abc123',
      imageDigest: 'sha256:feed',
      lastState: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2025-01-01T00:00:04Z' },
    },
  ],
  podIP: '10.42.0.7',
  startTime: '2025-01-01T00:00:01Z',
  ...more,
});

const withAddress = (n: KindObject<'Node'>) => ({ ...n, status: { ...n.status, addresses: [{ type: 'InternalIP' as const, address: '192.168.1.20' }] } });

describe('pod status from node reports', () => {
  it('maps phase, conditions, container states, restarts, ids and addresses as Kubernetes shows them', () => {
    const s = podStatusFromReport(boundPod('web-1'), report('a', [running()]), withAddress(node('a')), T0);
    expect(s.phase).toBe('Running');
    expect(s.hostIP).toBe('192.168.1.20');
    expect(s.podIP).toBe('10.42.0.7');
    expect(s.startTime).toBe('2025-01-01T00:00:01Z');
    expect(Object.fromEntries(s.conditions!.map((c) => [c.type, c.status]))).toEqual({ PodScheduled: 'True', Initialized: 'True', ContainersReady: 'True', Ready: 'True' });
    expect(s.containerStatuses).toEqual([
      {
        name: 'app',
        state: { running: { startedAt: '2025-01-01T00:00:05Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2025-01-01T00:00:04Z' } },
        ready: true,
        restartCount: 2,
        image: 'example/app:1',
        imageID: 'sha256:feed',
        containerID: 'grove://abc123',
        started: true,
      },
    ]);
  });

  it('an exited container is terminated with Completed / Error / OOMKilled; a missing one is ContainerCreating', () => {
    const exited = (exitCode: number, oomKilled = false) =>
      podStatusFromReport(boundPod('web-1'), report('a', [running('web-1', { phase: 'Failed', ready: false, containers: [{ name: 'app', state: 'exited', exitCode, oomKilled, restarts: 0 }] })]), node('a'), T0).containerStatuses![0]!.state;
    expect(exited(0)).toEqual({ terminated: { exitCode: 0, reason: 'Completed' } });
    expect(exited(1)).toEqual({ terminated: { exitCode: 1, reason: 'Error' } });
    expect(exited(137, true)).toEqual({ terminated: { exitCode: 137, reason: 'OOMKilled' } });
    const missing = podStatusFromReport(boundPod('web-1'), report('a', [running('web-1', { containers: [] })]), node('a'), T0);
    expect(missing.containerStatuses![0]!.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(missing.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('a container waiting out its restart backoff is Waiting CrashLoopBackOff, the run that ended its lastState (as kubectl shows it)', () => {
    const message = 'back-off 20s restarting failed container=app pod=web-1 (exit 3)';
    const looping = (exitCode: number, oomKilled = false) =>
      podStatusFromReport(
        boundPod('web-1'),
        report('a', [running('web-1', { ready: false, containers: [{ name: 'app', state: 'exited', reason: 'CrashLoopBackOff', message, exitCode, oomKilled, restarts: 2, containerID: 'abc', startedAt: '2025-01-01T00:00:05Z', finishedAt: '2025-01-01T00:00:06.500Z' }] })]),
        node('a'),
        T0,
      ).containerStatuses![0]!;
    expect(looping(3)).toMatchObject({
      state: { waiting: { reason: 'CrashLoopBackOff', message } },
      lastState: { terminated: { exitCode: 3, reason: 'Error', startedAt: '2025-01-01T00:00:05Z', finishedAt: '2025-01-01T00:00:06Z', containerID: 'grove://abc' } },
      ready: false,
      restartCount: 2,
      started: false,
    });
    expect(looping(137, true).lastState).toMatchObject({ terminated: { exitCode: 137, reason: 'OOMKilled' } });
    expect(looping(0).lastState).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
  });

  it('init containers: statuses in spec order; Initialized False until they are done', () => {
    const s = podStatusFromReport(
      boundPod('web-1', { init: true }),
      report('a', [running('web-1', { phase: 'Pending', ready: false, containers: [], initContainers: [{ name: 'init', state: 'running', oomKilled: false, restarts: 0 }] })]),
      node('a'),
      T0,
    );
    expect(s.initContainerStatuses![0]!.state).toEqual({ running: {} });
    expect(s.conditions!.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
  });

  it('a NotReady node keeps the last state with Ready=False NodeNotReady; another namespace or uid is not this pod', () => {
    const s = podStatusFromReport(boundPod('web-1'), report('a', [running()]), node('a', { ready: false, since: T0 }), T0);
    expect(s.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NodeNotReady' });
    const other = podStatusFromReport(boundPod('web-1'), report('a', [running('web-1', { namespace: 'shop' })]), node('a'), T0);
    expect(other.containerStatuses).toBeUndefined();
    const recreated = podStatusFromReport(boundPod('web-1'), report('a', [running('web-1', { uid: 'someone-else' })]), node('a'), T0);
    expect(recreated.containerStatuses).toBeUndefined();
  });

  it('the controller writes a status once, and nothing when a later report (a heartbeat) says the same', () => {
    const w = world([node('a'), boundPod('web-1')]);
    w.reports.set('a', report('a', [running()]));
    const first = podStatusController().reconcile(snapshot(w));
    expect(first.changes).toHaveLength(1);
    const p = w.objects.Pod[0]!;
    w.objects.Pod[0] = { ...p, status: (first.changes[0] as { status: KindObject<'Pod'>['status'] }).status };
    w.now += 60_000;
    w.reports.set('a', report('a', [running()], { receivedAt: w.now }));
    expect(podStatusController().reconcile(snapshot(w)).changes).toEqual([]);
  });
});

describe('node targets (schema 2)', () => {
  it('one WirePodTarget per bound pod: top-level owner, hash label, grove.io annotations merged, valid and sorted', () => {
    const d = deployment('web', {}, { annotations: { 'grove.io/update-window': '0 2 * * *', 'other.io/x': 'y' } });
    const rs = obj('ReplicaSet', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-abc', namespace: 'default', uid: 'uid-rs', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-deploy-web', controller: true }] },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container()] } } },
    });
    const p2 = boundPod('web-abc-zzzzz', { owner: { kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs' }, labels: { app: 'web', 'pod-template-hash': 'abc' }, annotations: { 'grove.io/devices': '/dev/ttyUSB0' } });
    const bare = boundPod('alone');
    const elsewhere = pod('far', { node: 'b' });
    const w = world([d, rs, p2, bare, elsewhere]);
    const targets = nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects));
    expect(targets.map((t) => t.name)).toEqual(['alone', 'web-abc-zzzzz']);
    expect(targets[1]).toMatchObject({
      namespace: 'default',
      uid: 'uid-web-abc-zzzzz',
      templateHash: 'abc',
      owner: { kind: 'Deployment', name: 'web', uid: 'uid-deploy-web' },
      annotations: { 'grove.io/update-window': '0 2 * * *', 'grove.io/devices': '/dev/ttyUSB0' },
    });
    expect(targets[0]).toMatchObject({ owner: { kind: 'Pod', name: 'alone', uid: 'uid-alone' }, templateHash: podSpecHash(bare.spec) });
    expect(targets[0]).not.toHaveProperty('annotations');
    const message = { schema: 2, cluster: 'c', node: 'a', revision: 1, checksum: podsChecksum(targets), pods: structuredClone(targets), issuedAt: iso(T0) };
    expect(validateNodeTarget(message), JSON.stringify((validateNodeTarget as { errors?: unknown }).errors)).toBe(true);
    expect(nodeTargetsByNode(w.objects.Pod, new OwnerIndex(w.objects)).get('a')).toEqual(targets);
    expect(nodeTargetsByNode(w.objects.Pod, new OwnerIndex(w.objects)).get('b')!.map((t) => t.name)).toEqual(['far']);
    // Unchanged pods encode byte-identically, whatever order the objects were read in.
    w.objects.Pod.reverse();
    expect(encodeCanonical(nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects)))).toEqual(encodeCanonical(targets));
  });

  it('Job and CronJob pods carry the settings the agent runs', () => {
    const j = job('backup', { backoffLimit: 2, ttlSecondsAfterFinished: 60 });
    const cj = cronJob('nightly', { schedule: '0 3 * * *', timeZone: 'Europe/Berlin' });
    const jp = boundPod('backup-bbbbb', { owner: { kind: 'Job', name: 'backup', uid: 'uid-job-backup' } });
    const cp = boundPod('nightly-bbbbb', { owner: { kind: 'CronJob', name: 'nightly', uid: 'uid-cj-nightly' } });
    const w = world([j, cj, jp, cp]);
    const [backup, nightly] = nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects));
    expect(backup!.job).toEqual({ completions: 1, parallelism: 1, backoffLimit: 2, ttlSecondsAfterFinished: 60 });
    expect(backup!.cron).toBeUndefined();
    expect(nightly!.cron).toEqual({ schedule: '0 3 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(nightly!.job).toEqual({ completions: 1, parallelism: 1, backoffLimit: 6 });
  });
});
