/**
 * Node targets from Pod objects (src/server/objects/target-publisher.ts): schema 2, retained,
 * a new revision only when a node's pods change, nothing written or sent when nothing did.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { decodeNodeTarget2, TARGET_SCHEMA, type WireNodeTarget } from '../../src/core/wire-target.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { joinedNode } from '../../src/server/objects/node-object.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { TargetPublisher } from '../../src/server/objects/target-publisher.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { fixtureClock } from './server-fixtures.js';

const pod = (name: string, node: string, image = 'nginx:1.27') =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'main', image }] },
  }) as unknown as AnyObject;

async function setup(controllersIdle?: () => Promise<void>) {
  const store = new MemoryStore();
  const clock = fixtureClock();
  const objects = new ObjectStore({ store, clock });
  await ensureDefaultNamespace(objects);
  await objects.commit(['pi-1', 'pi-2'].map((n) => ({ op: 'put' as const, object: joinedNode(n, {}) as AnyObject })));
  const sent: { topic: string; target?: WireNodeTarget }[] = [];
  const publisher = new TargetPublisher({
    objects,
    cluster: 'c1',
    logger: silentLogger(),
    clock,
    debounceMs: 1,
    ...(controllersIdle ? { controllersIdle } : {}),
    publish: async (topic, payload) => void sent.push({ topic, ...(payload.length ? { target: decodeNodeTarget2(payload) } : {}) }),
  });
  const drain = async () => {
    await publisher.idle();
    const out = sent.splice(0);
    return out;
  };
  return { store, objects, publisher, drain };
}

describe('TargetPublisher', () => {
  it('publishes every node a schema-2 target of the Pods bound to it, then nothing until they change', async () => {
    const { store, objects, publisher, drain } = await setup();
    await objects.commit([{ op: 'put', object: pod('web-1', 'pi-1') }]);
    await publisher.start();
    const first = await drain();
    expect(first.map((s) => [s.topic, s.target?.schema, s.target?.pods.map((p) => p.name)])).toEqual([
      ['grove/v1/c1/nodes/pi-1/target', TARGET_SCHEMA, ['web-1']],
      ['grove/v1/c1/nodes/pi-2/target', TARGET_SCHEMA, []],
    ]);
    expect(first[0]!.target!.pods[0]).toMatchObject({ namespace: 'default', owner: { kind: 'Pod', name: 'web-1' }, spec: { nodeName: 'pi-1' } });
    // Agents wait for the network view before starting pods only because the target says one comes.
    expect(first.map((s) => s.target?.networkView)).toEqual([true, true]);
    const revision = store.revision();
    // A change that leaves every target as it was (a label on a node) writes and sends nothing.
    const labelled = (await objects.get({ kind: 'Node', name: 'pi-2' }))!;
    await objects.commit([{ op: 'put', object: { ...labelled, metadata: { ...labelled.metadata, labels: { ...labelled.metadata.labels, zone: 'a' } } } as AnyObject }]);
    publisher.nudge();
    expect(await drain()).toEqual([]);
    expect(store.revision()).toBe(revision + 1);

    await objects.commit([{ op: 'put', object: pod('web-2', 'pi-2') }]);
    const second = await drain();
    expect(second.map((s) => s.topic)).toEqual(['grove/v1/c1/nodes/pi-2/target']);
    expect(second[0]!.target!.revision).toBeGreaterThan(first[1]!.target!.revision);
    expect(publisher.targetRevision('pi-2')).toBe(second[0]!.target!.revision);
    await publisher.stop();
  });

  it('derives targets only while no controller pass runs: the commits made meanwhile go out in one pass', async () => {
    let gate: Promise<void> | undefined;
    let open: (() => void) | undefined;
    const { objects, publisher, drain } = await setup(() => gate ?? Promise.resolve());
    await publisher.start();
    await drain();
    gate = new Promise<void>((r) => (open = r));
    await objects.commit([{ op: 'put', object: pod('web-1', 'pi-1') }]);
    const draining = drain();
    // A controller pass is running and binds another pod: the waiting publisher pass covers it.
    await objects.commit([{ op: 'put', object: pod('web-2', 'pi-1') }]);
    gate = undefined;
    open!();
    const sent = await draining;
    expect(sent.map((s) => [s.topic, s.target?.pods.map((p) => p.name)])).toEqual([['grove/v1/c1/nodes/pi-1/target', ['web-1', 'web-2']]]);
    await publisher.stop();
  });

  it('sends the same bytes again on republishAll, and a new revision on reissue', async () => {
    const { objects, publisher, drain } = await setup();
    await objects.commit([{ op: 'put', object: pod('web-1', 'pi-1') }]);
    await publisher.start();
    const first = await drain();
    publisher.republishAll();
    const again = await drain();
    expect(again.map((s) => s.target)).toEqual(first.map((s) => s.target));
    publisher.reissueNode('pi-1');
    const reissued = await drain();
    expect(reissued).toHaveLength(1);
    expect(reissued[0]!.target!.revision).toBeGreaterThan(first[0]!.target!.revision);
    expect(reissued[0]!.target!.pods).toEqual(first[0]!.target!.pods);
    await publisher.stop();
  });

  it('keeps revisions across a restart and clears the retained target of a deleted node', async () => {
    const { store, objects, publisher, drain } = await setup();
    await publisher.start();
    const first = await drain();
    await publisher.stop();
    const restarted = new TargetPublisher({ objects, cluster: 'c1', logger: silentLogger(), clock: fixtureClock(), debounceMs: 1, publish: async () => undefined });
    await restarted.start();
    expect(restarted.targetRevision('pi-1')).toBe(first[0]!.target!.revision);
    const revision = store.revision();
    await restarted.idle();
    expect(store.revision()).toBe(revision);
    await restarted.stop();

    await publisher.start();
    await drain();
    await objects.commit([{ op: 'delete', ref: { kind: 'Node', name: 'pi-2' } }]);
    const cleared = await drain();
    expect(cleared).toEqual([{ topic: 'grove/v1/c1/nodes/pi-2/target' }]);
    expect(await store.get('grove/targets/pi-2')).toBeUndefined();
    await publisher.stop();
  });
});
