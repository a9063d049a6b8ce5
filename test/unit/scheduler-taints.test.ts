/**
 * Cordon, taints and tolerations in the scheduler and the DaemonSet controller; the pressure
 * conditions of a Node; the eviction subresource over HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { tolerates } from '../../src/core/objects/taints.js';
import { daemonSetController } from '../../src/server/controllers/daemonset.js';
import { EventStore } from '../../src/server/events/event-store.js';
import { Router } from '../../src/server/http.js';
import { addEvictionRoutes, parseEviction } from '../../src/server/k8s-api/eviction.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { nodeStatus } from '../../src/server/objects/node-object.js';
import { pressureBands } from '../../src/server/objects/node-pressure.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { applyChanges, daemonSet, node, obj, pod, pods, snapshot, world } from './controller-fixtures.js';

function tainted(name: string, taints: { key: string; value?: string; effect: string }[], cordoned = false) {
  const n = node(name, { cordoned });
  return obj('Node', { ...n, spec: { ...n.spec, taints } });
}

function rsPod(name: string, extra: Record<string, unknown> = {}, nodeName?: string) {
  const p = pod(name, { owner: { kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs' }, ...(nodeName ? { node: nodeName } : {}) });
  return obj('Pod', { ...p, spec: { ...p.spec, ...extra } });
}

function schedule(objects: Parameters<typeof world>[0]) {
  const w = world(objects);
  applyChanges(w, schedulerController().reconcile(snapshot(w)).changes);
  return (name: string) => pods(w).find((p) => p.metadata.name === name);
}

describe('taints and tolerations', () => {
  it("Kubernetes' matching rule: effect, key, operator, value", () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };
    expect(tolerates({ key: 'dedicated', value: 'gpu' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', value: 'cpu' }, taint)).toBe(false);
    expect(tolerates({ key: 'dedicated', operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: '', operator: 'Equal' }, taint)).toBe(false);
  });

  it('a cordoned node and an untolerated NoSchedule taint take no new pod; a toleration lets it in', () => {
    const nodeOf = schedule([
      node('a', { cordoned: true }),
      tainted('b', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]),
      rsPod('plain'),
      rsPod('gpu', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
    ]);
    expect(nodeOf('gpu')?.spec.nodeName).toBe('b');
    expect(nodeOf('plain')?.spec.nodeName).toBeUndefined();
    expect(nodeOf('plain')?.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe('0/2 nodes are available: 1 node(s) were cordoned, 1 node(s) had untolerated taint(s)');
  });

  it('cordon keeps running pods; an untolerated NoExecute taint moves them', () => {
    const nodeOf = schedule([node('a', { cordoned: true }), tainted('b', [{ key: 'maintenance', effect: 'NoExecute' }]), node('c'), rsPod('stays', {}, 'a'), rsPod('moves', {}, 'b')]);
    expect(nodeOf('stays')?.spec.nodeName).toBe('a');
    expect(nodeOf('moves')).toBeUndefined();
  });

  it('DaemonSet pods go to cordoned nodes (they tolerate node.kubernetes.io/unschedulable) but not to other untolerated taints', () => {
    const w = world([node('a', { cordoned: true }), tainted('b', [{ key: 'dedicated', effect: 'NoSchedule' }]), node('c'), daemonSet('agent')]);
    applyChanges(w, daemonSetController().reconcile(snapshot(w)).changes);
    expect(pods(w).map((p) => p.spec.nodeName).sort()).toEqual(['a', 'c']);
  });
});

describe('Node pressure conditions', () => {
  const facts = (o: Record<string, number> = {}) => ({
    arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4 * 1024 ** 3, memoryAvailableBytes: 3 * 1024 ** 3, diskFreeBytes: 50e9, diskTotalBytes: 100e9,
    kernel: '6.1', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '0.2.0', labels: {}, processes: 300, processesMax: 32768, osImage: 'Debian GNU/Linux 12 (bookworm)', ...o,
  });
  const t = Date.parse('2026-03-01T10:00:00Z');
  const MiB = 1024 ** 2;

  it('False when fine, True under the threshold, back to False only past the margin; nodeInfo.osImage and ephemeral-storage', () => {
    const fine = nodeStatus(undefined, { ready: true, since: t, lastReportAt: t }, facts());
    expect(fine.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False']);
    expect(fine.nodeInfo?.osImage).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(fine.capacity).toMatchObject({ 'ephemeral-storage': `${Math.floor(100e9 / 1024)}Ki` });
    const low = nodeStatus(fine, { ready: true, since: t, lastReportAt: t + 10_000 }, facts({ memoryAvailableBytes: 80 * MiB }));
    expect(low.conditions?.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory', lastTransitionTime: '2026-03-01T10:00:10Z' });
    const margin = nodeStatus(low, { ready: true, since: t, lastReportAt: t + 20_000 }, facts({ memoryAvailableBytes: 120 * MiB }));
    expect(margin).toEqual(low);
    const back = nodeStatus(margin, { ready: true, since: t, lastReportAt: t + 30_000 }, facts({ memoryAvailableBytes: 200 * MiB }));
    expect(back.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('False');
    const down = nodeStatus(back, { ready: false, since: t + 90_000, lastReportAt: t + 30_000 }, undefined);
    expect(down.conditions?.filter((c) => c.type !== 'Ready').map((c) => c.status)).toEqual(['Unknown', 'Unknown', 'Unknown']);
  });

  it('the bands change only when a figure crosses into another band', () => {
    expect(pressureBands(facts())).toBe(pressureBands(facts({ memoryAvailableBytes: 2 * 1024 ** 3 })));
    expect(pressureBands(facts())).not.toBe(pressureBands(facts({ memoryAvailableBytes: 120 * MiB })));
    expect(pressureBands(facts({ diskFreeBytes: 5e9 }))).toBe('202');
  });
});

describe('POST …/pods/{name}/eviction', () => {
  it('checks the Eviction body against the path', () => {
    expect(parseEviction({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default' } }, 'default', 'p', [])).toEqual({ dryRun: false });
    expect(parseEviction({ metadata: { name: 'p' }, deleteOptions: { gracePeriodSeconds: 5, dryRun: ['All'] } }, 'default', 'p', [])).toEqual({ dryRun: true, gracePeriodSeconds: 5 });
    expect(() => parseEviction({ metadata: { name: 'q' } }, 'default', 'p', [])).toThrow('name in URL does not match name in Eviction object');
    expect(() => parseEviction({ kind: 'Pod' }, 'default', 'p', [])).toThrow('kind must be Eviction');
    expect(() => parseEviction({ deleteOptions: { gracePeriodSeconds: -1 } }, 'default', 'p', [])).toThrow('gracePeriodSeconds');
    expect(() => parseEviction({}, 'default', 'p', ['Some'])).toThrow('dryRun');
  });

  it('deletes the pod (201 Success), records Evicted; dryRun changes nothing; a missing pod is 404', async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = new ManualClock();
    const objects = new ObjectStore({ store, clock });
    await ensureDefaultNamespace(objects);
    await objects.commit([{ op: 'put', object: obj('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }], nodeName: 'pi-1' } }) }]);
    const events = new EventStore({ clock });
    const router = new Router({ logger: silentLogger(), adminToken: 't' });
    addEvictionRoutes(router, { objects, record: (e) => events.record(e) });
    const server = http.createServer(router.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const evict = async (name: string, query = '') => {
      const res = await fetch(`${base}/api/v1/namespaces/default/pods/${name}/eviction${query}`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }),
      });
      return { status: res.status, body: (await res.json()) as { status?: string; reason?: string; message?: string } };
    };
    try {
      const revision = store.revision();
      expect((await evict('web-1', '?dryRun=All')).status).toBe(201);
      expect(store.revision()).toBe(revision);
      const done = await evict('web-1');
      expect(done).toEqual({ status: 201, body: { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 } });
      expect(await objects.get({ kind: 'Pod', namespace: 'default', name: 'web-1' })).toBeUndefined();
      expect((await events.list({})).items.map((e) => `${e.reason} ${e.involvedObject.name}`)).toEqual(['Evicted web-1']);
      expect(await evict('web-1')).toMatchObject({ status: 404, body: { reason: 'NotFound', message: 'pods "web-1" not found' } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
