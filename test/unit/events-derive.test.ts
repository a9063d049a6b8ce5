/**
 * Events derived on the server: from two pod statuses (the kubelet's container events), from a
 * controller's committed changes (scheduler, ReplicaSet, Deployment, Job, cordon taint), and
 * from a node's conditions (NodeReady, NodeNotReady, pressure).
 */
import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodStatus } from '../../src/core/objects/pod.js';
import { controllerEvents } from '../../src/server/events/controller-events.js';
import type { EventInput } from '../../src/server/events/event-types.js';
import { nodeConditionEvents } from '../../src/server/events/node-events.js';
import { podStatusEvents } from '../../src/server/events/pod-events.js';
import { replicaSetController } from '../../src/server/controllers/replicaset.js';
import { deploymentController } from '../../src/server/controllers/deployment.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { nodeTaintController } from '../../src/server/scheduling/node-taints.js';
import type { Controller } from '../../src/server/controllers/controller.js';
import { applyChanges, deployment, node, obj, pod, snapshot, T0, world, type World } from './controller-fixtures.js';

const summary = (events: EventInput[]) => events.map((e) => `${e.type} ${e.reason}: ${e.message}`);

function cs(o: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name: 'app', ready: false, restartCount: 0, image: 'nginx:1.27', imageID: '', ...o };
}
const running = (startedAt: string, o: Partial<ContainerStatus> = {}) => cs({ state: { running: { startedAt } }, ready: true, started: true, imageID: 'docker.io/library/nginx@sha256:0123456789abcdef0123', ...o });
const status = (c: ContainerStatus): PodStatus => ({ phase: 'Running', containerStatuses: [c] });

describe('pod events from status transitions', () => {
  const p = pod('web-1', { node: 'pi-1' });

  it('a first start: Pulled, Created, Started on the container, from the kubelet of its node', () => {
    const events = podStatusEvents(p, status(cs({ state: { waiting: { reason: 'ContainerCreating' } } })), status(running('2026-03-01T10:00:05Z')));
    expect(summary(events)).toEqual([
      'Normal Pulled: Container image "nginx:1.27" is on the node (sha256:0123456789ab…)',
      'Normal Created: Created container app',
      'Normal Started: Started container app',
    ]);
    expect(events[0]).toMatchObject({ involved: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'uid-web-1', fieldPath: 'spec.containers{app}' }, component: 'kubelet', host: 'pi-1' });
  });

  it('nothing when nothing changed (a heartbeat)', () => {
    const s = status(running('2026-03-01T10:00:05Z'));
    expect(podStatusEvents(p, s, structuredClone(s))).toEqual([]);
  });

  it('an OOM kill and crash loop: OOMKilled, BackOff; the restart: Created, Started (no second Pulled)', () => {
    const before = status(running('2026-03-01T10:00:05Z'));
    const crashed = status(cs({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-03-01T10:01:00Z' } } }));
    expect(summary(podStatusEvents(p, before, crashed))).toEqual([
      'Warning OOMKilled: Container app was killed: out of memory (exit code 137)',
      'Warning BackOff: Back-off restarting failed container app in pod web-1_default(uid-web-1)',
    ]);
    const restarted = status(running('2026-03-01T10:01:10Z', { restartCount: 1, lastState: crashed.containerStatuses![0]!.lastState! }));
    expect(summary(podStatusEvents(p, crashed, restarted))).toEqual(['Normal Created: Created container app', 'Normal Started: Started container app']);
  });

  it('a liveness probe stop: Unhealthy and Killing; a readiness failure: Unhealthy', () => {
    const before = status(running('2026-03-01T10:00:05Z'));
    const stopped = status(cs({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s: Liveness probe failed: HTTP probe failed with statuscode: 500' } }, lastState: { terminated: { exitCode: 137, reason: 'Error' } } }));
    expect(summary(podStatusEvents(p, before, stopped))).toEqual([
      'Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500',
      'Normal Killing: Container app failed liveness probe, will be restarted',
      'Warning BackOff: Back-off restarting failed container app in pod web-1_default(uid-web-1)',
    ]);
    const unready = status(running('2026-03-01T10:00:05Z', { ready: false }));
    expect(summary(podStatusEvents(p, before, unready))).toEqual(['Warning Unhealthy: Readiness probe failed']);
  });

  it('an image that does not pull: Failed, then BackOff while it keeps failing', () => {
    const creating = status(cs({ state: { waiting: { reason: 'ContainerCreating' } } }));
    const failed = status(cs({ state: { waiting: { reason: 'ImagePullError', message: 'manifest unknown' } } }));
    expect(summary(podStatusEvents(p, creating, failed))).toEqual(['Warning Failed: Failed to pull image "nginx:1.27": manifest unknown']);
    expect(summary(podStatusEvents(p, failed, structuredClone(failed)))).toEqual(['Normal BackOff: Back-off pulling image "nginx:1.27"']);
  });
});

function committed(w: World, controller: Controller): EventInput[] {
  const snap = snapshot(w);
  const { changes } = controller.reconcile(snap);
  const events = controllerEvents(controller.name, snap, changes);
  applyChanges(w, changes);
  return events;
}

describe('controller events', () => {
  it('scheduler: Scheduled on a binding, FailedScheduling once per message', () => {
    const w = world([node('pi-1'), pod('web-1', { owner: { kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs' } })]);
    expect(summary(committed(w, schedulerController()))).toEqual(['Normal Scheduled: Successfully assigned default/web-1 to pi-1']);
    const w2 = world([node('pi-1', { cordoned: true }), pod('web-2', { owner: { kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs' } })]);
    expect(summary(committed(w2, schedulerController()))).toEqual(['Warning FailedScheduling: 0/1 nodes are available: 1 node(s) were cordoned']);
    expect(committed(w2, schedulerController())).toEqual([]);
  });

  it('deployment and replicaset: ScalingReplicaSet on the Deployment, SuccessfulCreate on the ReplicaSet', () => {
    const w = world([deployment('web', { replicas: 2 })]);
    const scaled = committed(w, deploymentController());
    expect(summary(scaled)).toEqual([expect.stringMatching(/^Normal ScalingReplicaSet: Scaled up replica set web-[a-z0-9]+ from 0 to 2$/)]);
    expect(scaled[0]).toMatchObject({ involved: { kind: 'Deployment', name: 'web', uid: 'uid-deploy-web' }, component: 'deployment-controller' });
    const created = committed(w, replicaSetController());
    expect(summary(created)).toEqual([expect.stringMatching(/^Normal SuccessfulCreate: Created pod: web-/), expect.stringMatching(/^Normal SuccessfulCreate: Created pod: web-/)]);
    expect(created[0]).toMatchObject({ involved: { kind: 'ReplicaSet' }, component: 'replicaset-controller' });
  });

  it('cordon: the taint controller adds node.kubernetes.io/unschedulable (NodeNotSchedulable) and removes it (NodeSchedulable)', () => {
    const w = world([node('pi-1', { cordoned: true })]);
    expect(summary(committed(w, nodeTaintController()))).toEqual(['Normal NodeNotSchedulable: Node pi-1 status is now: NodeNotSchedulable']);
    expect(w.objects.Node[0]!.spec?.taints).toEqual([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
    expect(committed(w, nodeTaintController())).toEqual([]);
    const n = w.objects.Node[0]!;
    (w.objects.Node as unknown[])[0] = obj('Node', { ...n, spec: { ...n.spec, unschedulable: false } });
    expect(summary(committed(w, nodeTaintController()))).toEqual(['Normal NodeSchedulable: Node pi-1 status is now: NodeSchedulable']);
    expect(w.objects.Node[0]!.spec?.taints).toBeUndefined();
  });

  it('a pod deleted by its ReplicaSet: SuccessfulDelete and Killing for its running containers', () => {
    const rs = obj('ReplicaSet', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-abc', namespace: 'default', uid: 'uid-rs', generation: 1 },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
    const p = pod('web-abc-x', { node: 'pi-1', labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs' } });
    const w = world([node('pi-1'), rs, { ...p, status: status(running('2026-03-01T10:00:05Z')) }], T0);
    expect(summary(committed(w, replicaSetController()))).toEqual(['Normal SuccessfulDelete: Deleted pod: web-abc-x', 'Normal Killing: Stopping container app']);
  });
});

describe('node events', () => {
  type S = 'True' | 'False' | 'Unknown';
  const ready = (status: S, extra: { type: string; status: S }[] = []) => [{ type: 'Ready', status }, ...extra];
  it('NodeReady / NodeNotReady on flips, pressure on and off, nothing on a repeat', () => {
    expect(summary(nodeConditionEvents('pi-1', undefined, ready('True')))).toEqual(['Normal NodeReady: Node pi-1 status is now: NodeReady']);
    expect(nodeConditionEvents('pi-1', ready('True'), ready('True'))).toEqual([]);
    expect(summary(nodeConditionEvents('pi-1', ready('True'), ready('False')))).toEqual(['Normal NodeNotReady: Node pi-1 status is now: NodeNotReady']);
    const low = ready('True', [{ type: 'MemoryPressure', status: 'True' }]);
    expect(summary(nodeConditionEvents('pi-1', ready('True', [{ type: 'MemoryPressure', status: 'False' }]), low))).toEqual(['Warning NodeHasInsufficientMemory: Node pi-1 status is now: NodeHasInsufficientMemory']);
    expect(summary(nodeConditionEvents('pi-1', low, ready('True', [{ type: 'MemoryPressure', status: 'False' }])))).toEqual(['Normal NodeHasSufficientMemory: Node pi-1 status is now: NodeHasSufficientMemory']);
    expect(nodeConditionEvents('pi-1', undefined, ready('True'))[0]!.involved).toEqual({ apiVersion: 'v1', kind: 'Node', name: 'pi-1', uid: 'pi-1' });
  });
});
