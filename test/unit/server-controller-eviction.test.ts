import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Controller } from '../../src/server/controller.js';
import { Mutex } from '../../src/server/mutex.js';
import { applyResources } from '../../src/server/resources.js';
import type { NodeView } from '../../src/server/scheduler.js';
import type { PodAssignment } from '../../src/core/model.js';
import { app, fixtureClock, nodeRecord, suffixes } from './server-fixtures.js';
import { capturingLogger } from '../support/capture-logger.js';

async function setup(nodes: string[]) {
  const store = new MemoryStore();
  await store.open();
  await store.commit(nodes.map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: nodeRecord(n) })));
  const clock = fixtureClock();
  const log = capturingLogger();
  /** Nodes marked down, with when they went NotReady. */
  const down = new Map<string, string>();
  const controller = new Controller({
    store,
    cluster: 'test',
    logger: log.logger,
    clock,
    mutex: new Mutex(),
    publish: async () => {},
    nodeView: (r): NodeView => {
      const since = down.get(r.meta.name);
      return { name: r.meta.name, labels: {}, cordoned: false, ready: since === undefined, ...(since ? { notReadySince: since } : {}) };
    },
    nameSuffix: suffixes(),
    debounceMs: 5,
    evictionTimeoutMs: 1000,
  });
  const placement = async () => (await store.list<PodAssignment>('pods/')).map((e) => e.value.node).sort();
  return { store, clock, log, down, controller, placement };
}

describe('Controller: eviction', () => {
  it('evicts on its own timer when the timeout falls due, with no other event', async () => {
    const { store, clock, down, controller, placement } = await setup(['a', 'b', 'c']);
    await controller.start();
    await applyResources(store, [app('web', { replicas: 3 })], new Date());
    await controller.idle();
    expect(await placement()).toEqual(['a', 'b', 'c']);
    // a went NotReady 950 ms ago (by the controller's clock): due in 50 ms.
    down.set('a', new Date(clock.now() - 950).toISOString());
    controller.nudge();
    await controller.idle();
    expect(await placement()).toEqual(['a', 'b', 'c']);
    clock.advance(49);
    await controller.idle();
    expect(await placement()).toEqual(['a', 'b', 'c']);
    clock.advance(1);
    await controller.idle();
    expect(await placement()).toEqual(['b', 'b', 'c']);
    await controller.stop();
  });

  it('warns once while more than 55% of nodes are NotReady, and evicts nothing', async () => {
    const { store, clock, log, down, controller, placement } = await setup(['a', 'b', 'c']);
    await controller.start();
    await applyResources(store, [app('web', { replicas: 3 })], new Date());
    await controller.idle();
    down.set('a', new Date(clock.now() - 60_000).toISOString());
    down.set('b', new Date(clock.now() - 60_000).toISOString());
    for (let i = 0; i < 3; i++) {
      controller.nudge();
      await controller.idle();
    }
    expect(await placement()).toEqual(['a', 'b', 'c']);
    const warns = log.lines().filter((l) => String(l.msg).includes('evictions paused'));
    expect(warns.map((l) => [l.level, l.msg])).toEqual([[40, '2 of 3 nodes NotReady: evictions paused (likely a partition of the server)']]);
    down.delete('b');
    controller.nudge();
    await controller.idle();
    expect(await placement()).toEqual(['b', 'b', 'c']);
    expect(log.lines().some((l) => l.msg === 'evictions resumed')).toBe(true);
    await controller.stop();
  });
});
