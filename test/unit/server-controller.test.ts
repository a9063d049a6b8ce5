import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Controller, randomSuffix, type TargetRecord } from '../../src/server/controller.js';
import { Mutex } from '../../src/server/mutex.js';
import { applyResources } from '../../src/server/resources.js';
import type { StoredNode } from '../../src/server/status-cache.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeNodeTarget } from '../../src/core/wire.js';
import type { PodAssignment } from '../../src/core/model.js';
import type { NodeTarget } from '../../src/core/wire-types.js';
import { app, fixtureClock, nodeRecord, suffixes } from './server-fixtures.js';

interface Published {
  topic: string;
  target: NodeTarget | undefined;
}

async function setup(store = new MemoryStore()) {
  const published: Published[] = [];
  const clock = fixtureClock();
  let passes = 0;
  const controller = new Controller({
    store,
    cluster: 'test',
    logger: silentLogger(),
    clock,
    mutex: new Mutex(),
    publish: async (topic, payload) => {
      published.push({ topic, target: payload.length ? decodeNodeTarget(payload) : undefined });
    },
    nodeView: (r: StoredNode) => {
      passes++;
      return { name: r.meta.name, labels: r.meta.labels, cordoned: r.cordoned, ready: true };
    },
    nameSuffix: suffixes(),
    debounceMs: 5,
  });
  return { store, controller, published, clock, passes: () => passes };
}

const addNodes = (store: MemoryStore, ...names: string[]) =>
  store.commit(names.map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: nodeRecord(n) })));

describe('Controller', () => {
  it('publishes every node’s target at start, then only what changed', async () => {
    const { store, controller, published } = await setup();
    await addNodes(store, 'pi-1', 'pi-2');
    await controller.start();
    expect(published.map((p) => [p.topic, p.target?.revision, p.target?.pods.length])).toEqual([
      ['grove/v1/test/nodes/pi-1/target', 1, 0],
      ['grove/v1/test/nodes/pi-2/target', 1, 0],
    ]);
    published.length = 0;
    await applyResources(store, [app('web', { replicas: 1 })], new Date());
    await controller.idle();
    // web lands on pi-1 only; pi-2's target is unchanged and not re-sent.
    expect(published.map((p) => p.target?.node)).toEqual(['pi-1']);
    const t = published[0]!.target!;
    expect(t.pods.map((p) => p.app)).toEqual(['web']);
    expect(t.revision).toBeGreaterThan(1);
    expect((await store.list('pods/')).map((e) => e.key)).toEqual([`pods/${t.pods[0]!.name}`]);
    expect((await store.get<TargetRecord>('targets/pi-1'))!.value).toMatchObject({ revision: t.revision, checksum: t.checksum });
    await controller.stop();
  });

  it('sends one node its current target again on request, same revision, nothing written', async () => {
    const { store, controller, published } = await setup();
    await addNodes(store, 'pi-1', 'pi-2');
    await controller.start();
    await applyResources(store, [app('web')], new Date());
    await controller.idle();
    const last = published.filter((p) => p.target?.node === 'pi-1').at(-1)!.target!;
    published.length = 0;
    const rev = store.revision();
    controller.republishNode('pi-1');
    await controller.idle();
    expect(published.map((p) => p.target)).toEqual([last]);
    expect(store.revision()).toBe(rev);
    await controller.stop();
  });

  it('re-publishes after a restart with the same revision and writes nothing', async () => {
    const first = await setup();
    await addNodes(first.store, 'pi-1');
    await first.controller.start();
    await applyResources(first.store, [app('web')], new Date());
    await first.controller.idle();
    await first.controller.stop();
    const before = first.published.at(-1)!.target!;
    const rev = first.store.revision();

    const second = await setup(first.store);
    await second.controller.start();
    expect(second.published).toHaveLength(1);
    expect(second.published[0]!.target).toEqual(before);
    expect(first.store.revision()).toBe(rev);
    await second.controller.stop();
  });

  it('revisions strictly increase per node', async () => {
    const { store, controller, published } = await setup();
    await addNodes(store, 'pi-1');
    await controller.start();
    for (let i = 1; i <= 4; i++) {
      await applyResources(store, [app('web', { replicas: i })], new Date());
      await controller.idle();
    }
    const revs = published.filter((p) => p.target?.node === 'pi-1').map((p) => p.target!.revision);
    expect(revs).toHaveLength(5);
    for (let i = 1; i < revs.length; i++) expect(revs[i]!).toBeGreaterThan(revs[i - 1]!);
    await controller.stop();
  });

  it('coalesces a burst of changes into one pass', async () => {
    const { store, controller, published, passes } = await setup();
    await addNodes(store, 'pi-1');
    await controller.start();
    const before = passes();
    published.length = 0;
    for (let i = 0; i < 5; i++) await store.commit([{ type: 'put', key: `configmaps/c${i}`, value: { i } }]);
    await controller.idle();
    expect(passes() - before).toBe(1);
    expect(published).toEqual([]);
    await controller.stop();
  });

  it('ignores its own bookkeeping and tokens', async () => {
    const { store, controller, passes } = await setup();
    await addNodes(store, 'pi-1');
    await controller.start();
    const before = passes();
    await store.commit([{ type: 'put', key: 'grove/tokens/abc', value: { x: 1 } }]);
    // idle() runs a pass still waiting out its debounce: a nudge would show up here.
    await controller.idle();
    expect(passes()).toBe(before);
    await controller.stop();
  });

  it('removes pods, the record and the retained target of a deleted node', async () => {
    const { store, controller, published } = await setup();
    await addNodes(store, 'pi-1', 'pi-2');
    await controller.start();
    await applyResources(store, [app('agent', { kind: 'DaemonSet' })], new Date());
    await controller.idle();
    published.length = 0;
    await store.commit([{ type: 'delete', key: 'nodes/pi-2' }]);
    await controller.idle();
    expect(published).toEqual([{ topic: 'grove/v1/test/nodes/pi-2/target', target: undefined }]);
    expect(await store.get('targets/pi-2')).toBeUndefined();
    expect((await store.list<{ node: string }>('pods/')).map((e) => e.value.node)).toEqual(['pi-1']);
    await controller.stop();
  });

  it('stores an unplaceable replica as a Pending pod no target lists, writes it once, and places it when a node is labelled', async () => {
    const { store, controller, published } = await setup();
    await addNodes(store, 'pi-1', 'pi-2');
    await controller.start();
    published.length = 0;
    await applyResources(store, [app('cam', { replicas: 1, nodeSelector: { camera: 'yes' } })], new Date());
    await controller.idle();
    const [stored] = (await store.list<PodAssignment>('pods/')).map((e) => e.value);
    expect(stored).toMatchObject({ app: 'cam', unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector" });
    expect(stored!.node).toBeUndefined();
    // No node's target changed: nothing published, the agents never see the Pending pod.
    expect(published).toEqual([]);
    expect(controller.daemonSetNote('cam')).toBeUndefined();

    // Passes that change nothing write nothing (an unrelated change wakes one).
    const rev = store.revision();
    await store.commit([{ type: 'put', key: 'configmaps/c', value: { x: 1 } }]);
    await controller.idle();
    expect(store.revision()).toBe(rev + 1);

    await store.commit([{ type: 'put', key: 'nodes/pi-2', value: nodeRecord('pi-2', { camera: 'yes' }) }]);
    await controller.idle();
    const [placed] = (await store.list<PodAssignment>('pods/')).map((e) => e.value);
    expect(placed).toEqual({ ...stored, node: 'pi-2', unschedulable: undefined });
    expect(published.map((p) => [p.target?.node, p.target?.pods.map((x) => x.name)])).toEqual([['pi-2', [stored!.meta.name]]]);
    await controller.stop();
  });

  it('looks again while pods are Pending: memory freed on a node places the pod with no other event', async () => {
    const store = new MemoryStore();
    let available = 10 * 1024 * 1024;
    const clock = fixtureClock();
    const controller = new Controller({
      store,
      cluster: 'test',
      logger: silentLogger(),
      clock,
      mutex: new Mutex(),
      publish: async () => undefined,
      nodeView: (r: StoredNode) => ({ name: r.meta.name, labels: {}, cordoned: false, ready: true, facts: { memoryAvailableBytes: available } }),
      nameSuffix: suffixes(),
      debounceMs: 5,
      pendingRetryMs: 50,
    });
    await addNodes(store, 'pi-1');
    await controller.start();
    await applyResources(store, [app('big', { request: 64 * 1024 * 1024 })], new Date());
    await controller.idle();
    const pods = async () => (await store.list<PodAssignment>('pods/')).map((e) => [e.value.node, e.value.unschedulable]);
    expect(await pods()).toEqual([[undefined, '0/1 nodes are available: 1 Insufficient memory']]);
    available = 512 * 1024 * 1024;
    // Nothing wakes the controller but its own retry timer.
    clock.advance(49);
    await controller.idle();
    expect(await pods()).toEqual([[undefined, '0/1 nodes are available: 1 Insufficient memory']]);
    clock.advance(1);
    await controller.idle();
    expect(await pods()).toEqual([['pi-1', undefined]]);
    await controller.stop();
  });

  it('keeps why a DaemonSet matches no node for describe', async () => {
    const { store, controller } = await setup();
    await addNodes(store, 'pi-1');
    await controller.start();
    await applyResources(store, [app('agent', { kind: 'DaemonSet', nodeSelector: { 'kubernetes.io/os': 'plan9' } })], new Date());
    await controller.idle();
    expect(controller.daemonSetNote('agent')).toBe('0 nodes match nodeSelector kubernetes.io/os=plan9');
    expect(await store.list('pods/')).toEqual([]);
    await controller.stop();
  });

  it('randomSuffix gives 5 characters [a-z0-9]', () => {
    for (let i = 0; i < 50; i++) expect(randomSuffix()).toMatch(/^[a-z0-9]{5}$/);
  });
});
