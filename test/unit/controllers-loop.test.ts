import { describe, expect, it } from 'vitest';
import { groveControllers } from '../../src/server/controllers/index.js';
import { nodeTargetPods } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import type { WirePodStatus } from '../../src/core/objects/wire.js';
import { daemonSet, deployment, node, pass, passShared, pods, report, world, type World } from './controller-fixtures.js';

const all = groveControllers();

/** Every node reports running (and ready, unless `failing` matches the image) what its target lists. */
function nodesReport(w: World, failing = ''): void {
  for (const n of w.objects.Node) {
    const targets = nodeTargetPods(n.metadata.name, w.objects.Pod, new OwnerIndex(w.objects));
    const statuses: WirePodStatus[] = targets.map((t) => {
      const ok = failing === '' || !t.spec.containers[0]!.image.includes(failing);
      return {
        name: t.name,
        namespace: t.namespace,
        uid: t.uid,
        app: t.owner?.name ?? t.name,
        templateHash: t.templateHash,
        phase: 'Running',
        ready: ok,
        restarts: ok ? 0 : 3,
        containers: t.spec.containers.map((c) => ({ name: c.name, state: ok ? ('running' as const) : ('waiting' as const), oomKilled: false, restarts: ok ? 0 : 3, ready: ok, ...(ok ? {} : { reason: 'CrashLoopBackOff' }) })),
      };
    });
    w.reports.set(n.metadata.name, report(n.metadata.name, statuses, { receivedAt: w.now }));
  }
}

function settle(w: World, failing = '', run: typeof pass = pass): number {
  for (let i = 1; i <= 20; i++) {
    const changes = run(w, ...all);
    nodesReport(w, failing);
    if (changes.length === 0) return i;
  }
  throw new Error('did not settle');
}

describe('all controllers together, pods made ready by the nodes\' reports', () => {
  it('a Deployment and a DaemonSet settle; then a further pass writes nothing', () => {
    const w = world([node('a'), node('b'), deployment('web', { replicas: 3 }), daemonSet('agent')]);
    settle(w);
    expect(pods(w)).toHaveLength(5);
    expect(pods(w).every((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True')).toBe(true);
    expect(w.objects.Deployment[0]!.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(w.objects.DaemonSet[0]!.status).toMatchObject({ desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 });
    // The node IPAM controller ran with the others: each node has its own pod CIDR.
    expect(w.objects.Node.map((n) => [n.metadata.name, n.spec?.podCIDR])).toEqual([
      ['a', '10.42.0.0/24'],
      ['b', '10.42.1.0/24'],
    ]);
    expect(pass(w, ...all)).toEqual([]);
  });

  it('a rollout whose new pods never get ready stops with the old pods serving, then rolls back at the deadline', () => {
    const w = world([node('a'), node('b'), deployment('web', { replicas: 2, progressDeadlineSeconds: 120 })]);
    settle(w);
    const d = w.objects.Deployment[0]!;
    const spec = structuredClone(d.spec);
    spec.template.spec.containers[0]!.image = 'example/broken:2';
    w.objects.Deployment[0] = { ...d, spec };
    settle(w, 'broken');
    const imagesNow = () => pods(w).map((p) => p.spec.containers[0]!.image).sort();
    expect(imagesNow()).toEqual(['example/app:1', 'example/app:1', 'example/broken:2']);
    w.now += 121_000;
    settle(w, 'broken');
    expect(imagesNow()).toEqual(['example/app:1', 'example/app:1']);
    expect(w.objects.Deployment[0]!.spec.template.spec.containers[0]!.image).toBe('example/app:1');
  });
});

describe('all controllers on one shared snapshot per pass, changes committed together (the object server\'s loop)', () => {
  it('settle, scale down while a pod is Pending, and collect a deleted Deployment without a delete before a write', () => {
    const w = world([node('a', { cordoned: true }), deployment('web', { replicas: 3 }), daemonSet('agent')]);
    settle(w, '', passShared);
    expect(pods(w).filter((p) => p.spec.nodeName === undefined)).toHaveLength(3);
    // The node opens while the Deployment scales down: the scheduler would bind the pods the ReplicaSet deletes.
    w.objects.Node = [node('a')];
    const d = w.objects.Deployment[0]!;
    w.objects.Deployment[0] = { ...d, spec: { ...d.spec, replicas: 1 } };
    settle(w, '', passShared);
    expect(pods(w).map((p) => p.spec.nodeName)).toEqual(['a', 'a']);
    w.objects.Deployment = [];
    settle(w, '', passShared);
    expect(pods(w).map((p) => p.metadata.ownerReferences?.[0]?.kind)).toEqual(['DaemonSet']);
    expect(w.objects.ReplicaSet).toEqual([]);
    expect(passShared(w, ...all)).toEqual([]);
  });
});
