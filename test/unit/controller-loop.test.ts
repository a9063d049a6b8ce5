import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ALL_KINDS } from '../../src/core/objects/kinds.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { Controller, ControllerSnapshot, Reconciled } from '../../src/server/controllers/controller.js';
import { ControllerLoop, DEFAULT_DEBOUNCE_MS, fitToCommit, MAX_IMMEDIATE_FOLLOW_UPS, randomNameSuffix } from '../../src/server/objects/controller-loop.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap, namespace } from '../contract/object-store.contract.js';

let store: MemoryStore;
let objects: ObjectStore;
let clock: ManualClock;
let loop: ControllerLoop | undefined;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  clock = new ManualClock();
  objects = new ObjectStore({ store, clock });
  await objects.commit([{ op: 'put', object: namespace('default') }]);
});

afterEach(async () => {
  await loop?.stop();
  loop = undefined;
});

function controller(name: string, reconcile: (s: ControllerSnapshot) => Reconciled): Controller & { passes: number } {
  const c = {
    name,
    passes: 0,
    reconcile(s: ControllerSnapshot) {
      c.passes++;
      return reconcile(s);
    },
  };
  return c;
}

/** Creates ConfigMap `mirror` holding the names of the other ConfigMaps. */
const mirror = () =>
  controller('mirror', (s) => {
    const names = s.objects.ConfigMap.map((c) => c.metadata.name).filter((n) => n !== 'mirror');
    return { changes: [{ op: 'put', object: configMap('mirror', { names: names.join(',') }) }] };
  });

function start(controllers: Controller[]): ControllerLoop {
  loop = new ControllerLoop({ objects, controllers, clock, logger: silentLogger(), randomSuffix: () => 'bcdfg' });
  loop.start();
  return loop;
}

/** Lets debounced passes run until nothing more is due soon. */
async function settle(ms = 50, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    clock.advance(ms);
    await loop!.idle();
  }
}

const mirrored = async () => (await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'mirror' }))?.data?.names;

describe('ControllerLoop', () => {
  it('runs a first pass, then again after object changes, debounced, and settles', async () => {
    const c = mirror();
    start([c]);
    await settle();
    expect(await mirrored()).toBe('');
    const passesBefore = c.passes;
    // Its own commit caused one more pass, which changed nothing: no endless loop.
    expect(passesBefore).toBe(2);
    await objects.commit([{ op: 'put', object: configMap('a', { x: '1' }) }]);
    await objects.commit([{ op: 'put', object: configMap('b', { x: '1' }) }]);
    await objects.commit([{ op: 'put', object: configMap('c', { x: '1' }) }]);
    await settle();
    expect(await mirrored()).toBe('a,b,c');
    // Three commits within the debounce: one pass, plus the one after its own commit.
    expect(c.passes - passesBefore).toBe(2);
  });

  /** Fires what is due now, without moving the clock, until the loop is quiet. */
  async function drainNow(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      clock.advance(0);
      await loop!.idle();
    }
  }

  it('runs the first pass after a quiet spell and each step of a chain at once, not a debounce apart', async () => {
    // Deployment → ReplicaSet → Pod → binding: each step is decided on the previous pass's commit.
    const step = (from: string, to: string) =>
      controller(`${from}-${to}`, (s) => {
        const names = new Set(s.objects.ConfigMap.map((c) => c.metadata.name));
        return { changes: names.has(from) && !names.has(to) ? [{ op: 'put', object: configMap(to, { from }) }] : [] };
      });
    start([step('a', 'b'), step('b', 'c'), step('c', 'd')]);
    await settle();
    const t0 = clock.now();
    await objects.commit([{ op: 'put', object: configMap('a', { x: '1' }) }]);
    await drainNow();
    expect(await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'd' })).toBeDefined();
    expect(clock.now()).toBe(t0);
  });

  it('a chain reads the store once and decides each later step on that snapshot carried forward by every write since', async () => {
    const step = (from: string, to: string) =>
      controller(`${from}-${to}`, (s) => {
        const names = new Set(s.objects.ConfigMap.map((c) => c.metadata.name));
        return { changes: names.has(from) && !names.has(to) ? [{ op: 'put', object: configMap(to, { from }) }] : [] };
      });
    const seen: ControllerSnapshot[] = [];
    let interfered = false;
    const watcher = controller('watcher', (s) => {
      seen.push(s);
      // Someone else writes in the middle of the chain (after the first step's snapshot).
      if (s.objects.ConfigMap.some((c) => c.metadata.name === 'b') && !interfered) {
        interfered = true;
        void objects.commit([
          { op: 'put', object: configMap('0-outside', { x: '1' }) },
          { op: 'delete', ref: { kind: 'ConfigMap', namespace: 'default', name: 'gone' } },
        ]);
      }
      return { changes: [] };
    });
    await objects.commit([{ op: 'put', object: configMap('gone', { x: '1' }) }]);
    start([step('a', 'b'), step('b', 'c'), step('c', 'd'), watcher]);
    await settle();
    let lists = 0;
    const list = objects.list.bind(objects);
    objects.list = ((...args: Parameters<typeof list>) => {
      lists++;
      return list(...args);
    }) as typeof objects.list;
    seen.length = 0;
    await objects.commit([{ op: 'put', object: configMap('a', { x: '1' }) }]);
    await drainNow();
    expect(await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'd' })).toBeDefined();
    // a→b, b→c, c→d and the quiet last pass: four passes, one read of every kind.
    expect(seen.length).toBe(4);
    expect(lists).toBe(ALL_KINDS.length);
    // What the last pass decided on is what the store holds, resourceVersions and order included.
    const last = seen[seen.length - 1]!;
    expect(last.objects.ConfigMap).toEqual((await list('ConfigMap')).items);
    expect(last.objects.ConfigMap.map((c) => c.metadata.name)).toEqual(['0-outside', 'a', 'b', 'c', 'd']);
    // The next change after the chain reads the store afresh.
    clock.advance(DEFAULT_DEBOUNCE_MS);
    await objects.commit([{ op: 'put', object: configMap('e', { x: '1' }) }]);
    await drainNow();
    expect(lists).toBe(2 * ALL_KINDS.length);
  });

  it('still runs at most one pass per debounce in a storm of nudges', async () => {
    const c = controller('count', () => ({ changes: [] }));
    start([c]);
    await settle();
    const before = c.passes;
    for (let ms = 0; ms < 10 * DEFAULT_DEBOUNCE_MS; ms++) {
      loop!.nudge();
      clock.advance(1);
      await loop!.idle();
    }
    expect(c.passes - before).toBeGreaterThanOrEqual(9);
    expect(c.passes - before).toBeLessThanOrEqual(11);
  });

  it('a controller changing something on every pass falls back to the debounce', async () => {
    let n = 0;
    const c = controller('restless', () => ({ changes: [{ op: 'put', object: configMap('restless', { n: String(n++) }) }] }));
    start([c]);
    await drainNow(3 * MAX_IMMEDIATE_FOLLOW_UPS);
    expect(c.passes).toBe(1 + MAX_IMMEDIATE_FOLLOW_UPS);
    clock.advance(DEFAULT_DEBOUNCE_MS);
    await loop!.idle();
    await drainNow(3 * MAX_IMMEDIATE_FOLLOW_UPS);
    expect(c.passes).toBe(2 + MAX_IMMEDIATE_FOLLOW_UPS);
    await loop!.stop();
  });

  it('ignores commits of Grove internal records', async () => {
    const c = mirror();
    start([c]);
    await settle();
    const passes = c.passes;
    await store.commit([{ type: 'put', key: 'grove/meta/cluster', value: 'lab' }]);
    await settle();
    expect(c.passes).toBe(passes);
  });

  it('wakes a controller at the time it asked for, with the clock in the snapshot', async () => {
    const seen: number[] = [];
    const t0 = clock.now();
    const c = controller('timer', (s) => {
      seen.push(s.now - t0);
      return { changes: [], wakeAt: t0 + 10_000 };
    });
    start([c]);
    await settle();
    expect(seen).toEqual([50]);
    clock.advance(9_000);
    await loop!.idle();
    expect(seen).toHaveLength(1);
    await settle(1000, 2);
    expect(seen.length).toBe(2);
    expect(seen[1]).toBeGreaterThanOrEqual(10_000);
  });

  it('commits every controller of a pass in ONE commit', async () => {
    const a = controller('a', () => ({ changes: [{ op: 'put', object: configMap('from-a', { k: 'v' }) }] }));
    const b = controller('b', () => ({ changes: [{ op: 'put', object: configMap('from-b', { k: 'v' }) }] }));
    loop = new ControllerLoop({ objects, controllers: [a, b], clock, logger: silentLogger() });
    const before = store.revision();
    const r = await loop.runOnce();
    expect(r.revision).toBe(before + 1);
    expect(r.changes).toBe(2);
  });

  it('a pass wanting more changes than a commit holds commits the first ones and runs again until done', async () => {
    // Like a DaemonSet controller: one pod per missing name, decided from the snapshot each time.
    const wantedNames = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const fill = controller('fill', (s) => {
      const have = new Set(s.objects.ConfigMap.map((c) => c.metadata.name));
      return { changes: wantedNames.filter((n) => !have.has(n)).map((n) => ({ op: 'put' as const, object: configMap(n, { k: 'v' }) })) };
    });
    const committed: number[] = [];
    loop = new ControllerLoop({ objects, controllers: [fill], clock, logger: silentLogger(), maxChangesPerCommit: 3, onCommitted: (_c, _s, changes) => committed.push(changes.length) });
    loop.start();
    await settle();
    const names = (await objects.list('ConfigMap')).items.map((c) => c.metadata.name).sort();
    expect(names).toEqual(wantedNames);
    expect(committed).toEqual([3, 3, 1]);
  });

  it('fits a pass to a commit in the controllers order, cutting the one at the limit short', () => {
    const change = (n: string) => ({ op: 'put' as const, object: configMap(n, {}) });
    const wanted = [
      { controller: 'a', changes: [change('a1'), change('a2')] },
      { controller: 'b', changes: [change('b1'), change('b2'), change('b3')] },
      { controller: 'c', changes: [change('c1')] },
    ];
    const { fitted, deferred } = fitToCommit(wanted, 3);
    expect(fitted.map((w) => [w.controller, w.changes.length])).toEqual([['a', 2], ['b', 1]]);
    expect(deferred).toBe(3);
    expect(fitToCommit(wanted, 6)).toEqual({ fitted: wanted, deferred: 0 });
  });

  it('runs a conflicting pass again on fresh objects', async () => {
    await objects.commit([{ op: 'put', object: configMap('counter', { n: '0' }) }]);
    let interfered = false;
    const c = controller('bump', (s) => {
      const cm = s.objects.ConfigMap.find((x) => x.metadata.name === 'counter')!;
      if (!interfered) {
        interfered = true;
        // Someone else writes between this pass's snapshot and its commit.
        void objects.commit([{ op: 'put', object: configMap('counter', { n: '5' }) }]);
      }
      const n = Number(cm.data?.n);
      return n >= 6 ? { changes: [] } : { changes: [{ op: 'put', object: { ...cm, data: { n: String(n + 1) } } as AnyObject }] };
    });
    loop = new ControllerLoop({ objects, controllers: [c], clock, logger: silentLogger() });
    await loop.runOnce();
    expect((await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'counter' }))?.data).toEqual({ n: '6' });
    expect(c.passes).toBe(2);
  });

  it('a throwing controller or an invalid change does not stop the others', async () => {
    const throws = controller('throws', () => {
      throw new Error('bug');
    });
    const invalid = controller('invalid', () => ({ changes: [{ op: 'put', object: configMap('Bad_Name', { k: 'v' }) }] }));
    const good = controller('good', () => ({ changes: [{ op: 'put', object: configMap('good', { k: 'v' }) }] }));
    loop = new ControllerLoop({ objects, controllers: [throws, invalid, good], clock, logger: silentLogger() });
    await loop.runOnce();
    expect(await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'good' })).toBeDefined();
  });

  it('stops: no pass after stop()', async () => {
    const c = mirror();
    start([c]);
    await loop!.stop();
    await settle();
    expect(c.passes).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('makes name suffixes of Kubernetes alphabet', () => {
    for (let i = 0; i < 50; i++) expect(randomNameSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});
