/**
 * gracePeriodSeconds of a pod DELETE / Eviction carried to the node: the store marks the pod
 * (deletionTimestamp = now + grace, deletionGracePeriodSeconds), its node target carries the
 * grace, the agent's plan stops its containers with it and starts nothing of it, the report
 * keeps the pod while its containers exist, and the pod-termination controller removes the
 * object once the node no longer runs it (or cannot, or took too long).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { addEvictionRoutes } from '../../src/server/k8s-api/eviction.js';
import { gracefulPodDelete } from '../../src/server/objects/pod-graceful-delete.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { parseDeleteOptions } from '../../src/server/k8s-api/delete-options.js';
import { DEADLINE_MARGIN_MS, podTerminationController } from '../../src/server/controllers/pod-termination.js';
import { nodeTargetPods } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import { WireNodeTarget as validateNodeTarget } from '../../src/core/objects/generated/wire-node-target.js';
import { podsChecksum } from '../../src/core/wire-codec.js';
import type { WirePodStatus } from '../../src/core/objects/wire.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { container, iso, node, pod, report, snapshot, T0, world } from './controller-fixtures.js';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { emptyMemory } from '../../agent/src/agent/plan/memory.js';
import { plan } from '../../agent/src/agent/plan/plan.js';
import { statusReport } from '../../agent/src/agent/report.js';
import { podTarget } from '../support/pod-target.js';

type Pod = KindObject<'Pod'>;

const bound = (name: string, more: Partial<Pod['metadata']> = {}): Pod => {
  const p = pod(name, { node: 'a', containers: [container('app')] });
  return { ...p, metadata: { ...p.metadata, ...more } };
};

describe('gracefulPodDelete (the pod strategy)', () => {
  it('marks a bound pod with now + grace, removes an unbound or finished one at once', () => {
    expect(gracefulPodDelete({ metadata: {}, spec: { nodeName: 'a' } }, 5, T0)).toEqual({ action: 'mark', deletionAt: T0 + 5000, deletionGracePeriodSeconds: 5 });
    expect(gracefulPodDelete({ metadata: {}, spec: { nodeName: 'a' } }, 0, T0)).toEqual({ action: 'mark', deletionAt: T0, deletionGracePeriodSeconds: 0 });
    expect(gracefulPodDelete({ metadata: {}, spec: {} }, 5, T0)).toEqual({ action: 'remove' });
    expect(gracefulPodDelete({ metadata: {}, spec: { nodeName: 'a' }, status: { phase: 'Succeeded' } }, 5, T0)).toEqual({ action: 'remove' });
    expect(gracefulPodDelete({ metadata: {}, spec: { nodeName: 'a' }, status: { phase: 'Failed' } }, 5, T0)).toEqual({ action: 'remove' });
  });

  it('a second delete may shorten the grace, never lengthen it; the grace is capped at an hour', () => {
    const marked = { metadata: { deletionTimestamp: iso(T0 + 30_000), deletionGracePeriodSeconds: 30 }, spec: { nodeName: 'a' } };
    expect(gracefulPodDelete(marked, 60, T0)).toEqual({ action: 'unchanged' });
    expect(gracefulPodDelete(marked, 30, T0)).toEqual({ action: 'unchanged' });
    expect(gracefulPodDelete(marked, 1, T0)).toEqual({ action: 'mark', deletionAt: T0 + 1000, deletionGracePeriodSeconds: 1 });
    expect(gracefulPodDelete({ metadata: {}, spec: { nodeName: 'a' } }, 86_400, T0)).toMatchObject({ deletionGracePeriodSeconds: 3600 });
  });
});

describe('the object store marks a pod deleted with a grace period', () => {
  async function storeWith(p: Pod): Promise<{ objects: ObjectStore; clock: ManualClock }> {
    const store = new MemoryStore();
    await store.open();
    const clock = new ManualClock(T0);
    const objects = new ObjectStore({ store, clock });
    await ensureDefaultNamespace(objects);
    const { metadata: { uid: _u, ...meta }, ...rest } = p;
    await objects.commit([{ op: 'put', object: { ...rest, metadata: meta } as Pod }]);
    return { objects, clock };
  }
  const ref = { kind: 'Pod' as const, namespace: 'default', name: 'web-1' };

  it('keeps the pod, marked; an update keeps the mark; a shorter grace re-marks; without a grace it goes', async () => {
    const { objects } = await storeWith(bound('web-1'));
    const { results } = await objects.commit([{ op: 'delete', ref, gracePeriodSeconds: 20 }]);
    expect(results[0]!.outcome).toBe('marked');
    const marked = (await objects.get(ref)) as Pod;
    expect(marked.metadata).toMatchObject({ deletionTimestamp: iso(T0 + 20_000), deletionGracePeriodSeconds: 20 });
    // A label change (kubectl label) does not lose the mark.
    await objects.commit([{ op: 'put', object: { ...marked, metadata: { ...marked.metadata, resourceVersion: undefined, labels: { x: 'y' } } } as Pod }]);
    expect(((await objects.get(ref)) as Pod).metadata).toMatchObject({ deletionGracePeriodSeconds: 20, labels: { x: 'y' } });
    expect((await objects.commit([{ op: 'delete', ref, gracePeriodSeconds: 25 }])).results[0]!.outcome).toBe('unchanged');
    expect((await objects.commit([{ op: 'delete', ref, gracePeriodSeconds: 0 }])).results[0]!.outcome).toBe('marked');
    expect(((await objects.get(ref)) as Pod).metadata).toMatchObject({ deletionTimestamp: iso(T0), deletionGracePeriodSeconds: 0 });
    expect((await objects.commit([{ op: 'delete', ref }])).results[0]!.outcome).toBe('deleted');
  });

  it('an Eviction with deleteOptions.gracePeriodSeconds (kubectl drain --grace-period) marks the pod the same way', async () => {
    const { objects } = await storeWith(bound('web-1'));
    const router = new Router({ logger: silentLogger(), adminToken: 't' });
    addEvictionRoutes(router, { objects, record: () => undefined });
    const server = http.createServer(router.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/namespaces/default/pods/web-1/eviction`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 3 } }),
      });
      expect(res.status).toBe(201);
      expect(((await objects.get(ref)) as Pod).metadata).toMatchObject({ deletionTimestamp: iso(T0 + 3000), deletionGracePeriodSeconds: 3 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an unbound pod goes at once', async () => {
    const { objects } = await storeWith(pod('web-1'));
    expect((await objects.commit([{ op: 'delete', ref, gracePeriodSeconds: 20 }])).results[0]!.outcome).toBe('deleted');
  });

  it('DeleteOptions take gracePeriodSeconds from the body or the query', () => {
    expect(parseDeleteOptions({ kind: 'DeleteOptions', gracePeriodSeconds: 0 }, new URLSearchParams())).toMatchObject({ gracePeriodSeconds: 0 });
    expect(parseDeleteOptions(undefined, new URLSearchParams('gracePeriodSeconds=7'))).toMatchObject({ gracePeriodSeconds: 7 });
    expect(parseDeleteOptions(undefined, new URLSearchParams())).not.toHaveProperty('gracePeriodSeconds');
  });
});

const reported = (name: string): WirePodStatus => ({ name, namespace: 'default', uid: `uid-${name}`, app: 'web', templateHash: 'h', phase: 'Running', ready: true, restarts: 0, containers: [] });

describe('node target and the pod-termination controller', () => {
  const marked = bound('web-1', { deletionTimestamp: iso(T0 + 10_000), deletionGracePeriodSeconds: 10 });

  it('the target carries the grace of a pod deleted with one; a foreground-marked pod is not sent', () => {
    const fg = bound('web-2', { deletionTimestamp: iso(T0), finalizers: ['foregroundDeletion'] });
    const w = world([node('a'), marked, fg, bound('web-3')]);
    const pods = nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects));
    expect(pods.map((p) => [p.name, p.deletionGraceSeconds])).toEqual([['web-1', 10], ['web-3', undefined]]);
    const target = { schema: 2, cluster: 'default', node: 'a', revision: 3, checksum: podsChecksum(pods), pods, issuedAt: iso(T0) };
    expect(validateNodeTarget(target)).toBe(true);
  });

  it('waits while the node still reports the pod, until the deadline', () => {
    const w = world([node('a'), marked]);
    w.reports.set('a', report('a', [reported('web-1')]));
    const first = podTerminationController().reconcile(snapshot(w));
    expect(first).toEqual({ changes: [], wakeAt: T0 + 10_000 + DEADLINE_MARGIN_MS });
    w.now = T0 + 10_000 + DEADLINE_MARGIN_MS;
    expect(podTerminationController().reconcile(snapshot(w)).changes).toEqual([{ op: 'delete', ref: { kind: 'Pod', namespace: 'default', name: 'web-1' } }]);
  });

  it('removes the pod once the node reports it no more, or when the node cannot stop it', () => {
    const del = [{ op: 'delete', ref: { kind: 'Pod', namespace: 'default', name: 'web-1' } }];
    const gone = world([node('a'), marked]);
    gone.reports.set('a', report('a', []));
    expect(podTerminationController().reconcile(snapshot(gone)).changes).toEqual(del);
    const offline = world([node('a'), marked]);
    offline.reports.set('a', report('a', [reported('web-1')], { online: false }));
    expect(podTerminationController().reconcile(snapshot(offline)).changes).toEqual(del);
    const notReady = world([node('a', { ready: false, since: T0 }), marked]);
    notReady.reports.set('a', report('a', [reported('web-1')]));
    expect(podTerminationController().reconcile(snapshot(notReady)).changes).toEqual(del);
    expect(podTerminationController().reconcile(snapshot(world([marked]))).changes).toEqual(del);
    // A pod that is not marked, or marked by a foreground delete, is not this controller's.
    const others = world([node('a'), bound('web-2'), bound('web-3', { deletionTimestamp: iso(T0), finalizers: ['foregroundDeletion'] })]);
    expect(podTerminationController().reconcile(snapshot(others))).toEqual({ changes: [] });
  });
});

describe('the agent stops a pod deleted with a grace period', () => {
  const NOW = Date.parse('2026-03-10T12:00:00Z');
  const mc = (podName: string, id: string, grace?: string): ManagedContainer => ({
    id,
    name: `${podName}_main`,
    labels: { 'grove.managed': 'agent', 'grove.pod': podName, 'grove.app': 'web', 'grove.container': 'main', 'grove.template-hash': 'h1', ...(grace ? { 'grove.stop-grace-seconds': grace } : {}) },
    image: 'reg.lan/main:1',
    state: 'running',
    exitCode: null,
    oomKilled: false,
    createdAt: '2026-03-10T11:00:00.000Z',
    startedAt: '2026-03-10T11:00:00.000Z',
  });
  const NO_PROBES = { ready: () => undefined, stoppedBecause: () => undefined };
  const web = (name: string, deletionGraceSeconds?: number) => ({ ...podTarget(name, { app: 'web', hash: 'h1', grace: 30 }), ...(deletionGraceSeconds !== undefined ? { deletionGraceSeconds } : {}) });

  it('removes its containers with the deletion grace (0 included), starts nothing of it, and reports it until they are gone', () => {
    const running = [mc('web-1', 'c1', '30'), mc('web-2', 'c2', '30')];
    const p = plan({ now: NOW, containers: running, lockedApps: new Set() }, [web('web-1', 3), web('web-2', 0), web('web-3', 2)], emptyMemory());
    const removals = p.steps.filter((s) => s.type === 'remove-container');
    expect(removals).toEqual([
      { type: 'remove-container', id: 'c1', name: 'web-1_main', app: 'web', reason: 'not-desired', graceSeconds: 3 },
      { type: 'remove-container', id: 'c2', name: 'web-2_main', app: 'web', reason: 'not-desired', graceSeconds: 0 },
    ]);
    expect(p.steps.filter((s) => s.type === 'start-container')).toEqual([]);
    expect(p.pods).toEqual([]);
    // While web-1's container still stops, the report has web-1; web-3 never ran and is not reported.
    const r = statusReport(4, [web('web-1', 3), web('web-3', 2)], p, [running[0]!], emptyMemory(), NO_PROBES);
    expect(r.pods.map((s) => s.name)).toEqual(['web-1']);
    expect(statusReport(4, [web('web-1', 3)], p, [], emptyMemory(), NO_PROBES).pods).toEqual([]);
  });

  it('without a deletion grace, a removal keeps the grace recorded on the container', () => {
    const p = plan({ now: NOW, containers: [mc('web-1', 'c1', '30')], lockedApps: new Set() }, [], emptyMemory());
    expect(p.steps.find((s) => s.type === 'remove-container')).toMatchObject({ graceSeconds: 30 });
  });
});
