/**
 * Revisions never go backwards (issue 12, defect 7): a node reporting a target revision above
 * the server's store (which lost commits) moves the store past it, is logged as an error, and
 * gets its target again under a revision it will accept. Wired as ControlPlane wires it.
 */
import { describe, expect, it } from 'vitest';
import { decodeNodeTarget2, type WireNodeTarget } from '../../src/core/wire-target.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { joinedNode } from '../../src/server/objects/node-object.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { TargetPublisher } from '../../src/server/objects/target-publisher.js';
import { Mutex } from '../../src/server/mutex.js';
import { ADVANCE_INTERVAL_MS, MAX_NODE_REVISION, nodeIsAhead, RevisionFloor } from '../../src/server/revision-floor.js';
import { StatusCache } from '../../src/server/status-cache.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { encStatus, fixtureClock, nodeStatus } from './server-fixtures.js';
import { capturingLogger } from '../support/capture-logger.js';

interface LogLine {
  level: number;
  msg: string;
  node?: string;
  nodeRevision?: number;
}

async function setup(storeRevision = 0, now?: () => number) {
  const store = new MemoryStore();
  const clock = fixtureClock();
  const objects = new ObjectStore({ store, clock });
  await objects.commit([{ op: 'put', object: joinedNode('pi-1', {}) as AnyObject }]);
  if (storeRevision > 0) await store.advanceRevision(storeRevision - 1);
  const captured = capturingLogger();
  const logger = captured.logger;
  const errorLines = (): LogLine[] => (captured.lines() as unknown as LogLine[]).filter((l) => l.level >= 50);
  const mutex = new Mutex();
  const published: WireNodeTarget[] = [];
  const controller = new TargetPublisher({
    objects,
    cluster: 'test',
    logger,
    clock,
    publish: async (_topic, payload) => {
      if (payload.length) published.push(decodeNodeTarget2(payload));
    },
    debounceMs: 1,
  });
  const floor = new RevisionFloor({ store, mutex, logger, targetRevision: (n) => controller.targetRevision(n), reissue: (n) => controller.reissueNode(n), ...(now ? { now } : {}) });
  const cache = new StatusCache({ store, cluster: 'test', logger, clock, onNodeRevision: (n, r) => floor.observe(n, r) });
  await cache.start();
  await controller.start();
  let seq = 0;
  const report = async (observedRevision: number) => {
    cache.handleMessage('grove/v1/test/nodes/pi-1/status', encStatus(nodeStatus('pi-1', { seq: ++seq, observedRevision, sentAt: new Date(clock.now() + seq).toISOString() })));
    await floor.idle();
    await controller.idle();
  };
  return { store, published, errorLines, report, controller };
}

describe('revisions never go backwards', () => {
  it('a node ahead of the store moves the store past it, logs an error and gets a target it accepts', async () => {
    const { store, published, errorLines, report, controller } = await setup();
    const before = store.revision();
    expect(published.at(-1)!.revision).toBeLessThanOrEqual(before);
    await report(500);
    expect(store.revision()).toBeGreaterThan(500);
    const reissued = published.at(-1)!;
    expect(reissued.node).toBe('pi-1');
    expect(reissued.revision).toBeGreaterThan(500);
    const errors = errorLines().filter((l) => l.node === 'pi-1' && l.nodeRevision === 500);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain(`node pi-1 applied target revision 500, above this server's store revision ${before}`);
    // Heartbeats repeating 500 until the new target lands change nothing more.
    const count = published.length;
    await report(500);
    await report(500);
    expect(published).toHaveLength(count);
    expect(errorLines().filter((l) => l.nodeRevision !== undefined)).toHaveLength(1);
    // The node applied the reissued target: in step again.
    await report(reissued.revision);
    expect(published).toHaveLength(count);
    // The next change to the node's target gets a revision above both.
    const next = await store.commit([{ type: 'put', key: 'apps/x', value: 1 }]);
    expect(next).toBeGreaterThan(reissued.revision);
    await controller.stop();
  });

  it('a node ahead of the target last published to it (a lost targets/ record) gets its target again', async () => {
    const { store, published, errorLines, report, controller } = await setup(1000);
    const first = published.at(-1)!;
    await report(first.revision);
    expect(errorLines()).toHaveLength(0);
    await report(first.revision + 5);
    const reissued = published.at(-1)!;
    expect(reissued.revision).toBeGreaterThan(first.revision + 5);
    expect(store.revision()).toBeGreaterThanOrEqual(reissued.revision);
    expect(errorLines()).toHaveLength(1);
    await controller.stop();
  });

  it('ignores a revision no server issues, so a rogue node cannot push the store past exact integers', async () => {
    const { store, published, errorLines, report, controller } = await setup();
    await report(0);
    const before = store.revision();
    const count = published.length;
    await report(Number.MAX_SAFE_INTEGER);
    await report(MAX_NODE_REVISION + 1);
    expect(store.revision()).toBe(before);
    expect(published).toHaveLength(count);
    expect(errorLines()).toHaveLength(0);
    await expect(store.advanceRevision(Number.MAX_SAFE_INTEGER)).rejects.toThrow(/invalid minimum revision/);
    await controller.stop();
  });

  it('moves the store for one node at most once per interval, so a node inventing revisions cannot wear the flash', async () => {
    let ms = 0;
    const { store, published, errorLines, report, controller } = await setup(0, () => ms);
    await report(500);
    const moved = store.revision();
    expect(moved).toBeGreaterThan(500);
    const count = published.length;
    // Ahead again (the reissued target was above 500; this one is above that) within 10 min: ignored.
    await report(moved + 1000);
    expect(store.revision()).toBe(moved);
    expect(published).toHaveLength(count);
    ms += ADVANCE_INTERVAL_MS;
    await report(moved + 2000);
    expect(store.revision()).toBeGreaterThan(moved + 2000);
    expect(errorLines().filter((l) => l.nodeRevision !== undefined)).toHaveLength(2);
    await controller.stop();
  });

  it('judges "ahead" against the store and the published revision', () => {
    expect(nodeIsAhead(5, 10, 5)).toBe(false);
    expect(nodeIsAhead(0, 0, undefined)).toBe(false);
    expect(nodeIsAhead(11, 10, undefined)).toBe(true);
    expect(nodeIsAhead(6, 10, 5)).toBe(true);
    expect(nodeIsAhead(4, 10, 5)).toBe(false);
  });
});
