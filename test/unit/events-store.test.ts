/**
 * The EventStore (aggregation, bounds by count, bytes and age, the watch contract) and the flash
 * budget of its snapshot (nothing written while no event happens).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { GroveKeys } from '../../src/core/keys.js';
import { EventStore } from '../../src/server/events/event-store.js';
import { EventSnapshot, newestEvents } from '../../src/server/events/event-snapshot.js';
import type { CoreEvent, EventInput } from '../../src/server/events/event-types.js';
import type { WatchEvent } from '../../src/server/k8s-api/watch-source.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');

function input(name: string, reason = 'Started', message = `Started container ${name}`): EventInput {
  return { involved: { apiVersion: 'v1', kind: 'Pod', name, namespace: 'default', uid: `uid-${name}` }, type: 'Normal', reason, message, component: 'kubelet', host: 'pi-1' };
}

function setup(opts: { maxEvents?: number; maxBytes?: number; ttlMs?: number } = {}) {
  const clock = new ManualClock(T0);
  let n = 0;
  const events = new EventStore({ clock, newUid: () => `ev-${++n}`, ...opts });
  return { clock, events };
}

describe('EventStore', () => {
  it('names, times and scopes an event as Kubernetes does; a repeat bumps count and lastTimestamp', async () => {
    const { clock, events } = setup();
    events.record([input('web-1')]);
    const [first] = (await events.list({})).items;
    expect(first).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'default', uid: 'ev-1', creationTimestamp: '2026-03-01T10:00:00Z' },
      involvedObject: { kind: 'Pod', name: 'web-1', uid: 'uid-web-1' },
      reason: 'Started',
      source: { component: 'kubelet', host: 'pi-1' },
      count: 1,
      type: 'Normal',
      firstTimestamp: '2026-03-01T10:00:00Z',
      lastTimestamp: '2026-03-01T10:00:00Z',
    });
    expect(first!.metadata.name).toMatch(/^web-1\.[0-9a-f]+$/);
    clock.advance(65_000);
    events.record([input('web-1')]);
    const list = await events.list({});
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ count: 2, firstTimestamp: '2026-03-01T10:00:00Z', lastTimestamp: '2026-03-01T10:01:05Z', metadata: { name: first!.metadata.name } });
    // Another message is another event.
    events.record([input('web-1', 'Started', 'Started container other')]);
    expect((await events.list({})).items).toHaveLength(2);
    expect(events.get('default', first!.metadata.name)?.count).toBe(2);
  });

  it('a Node event lives in "default" and has no involvedObject.namespace (what kubectl describe node asks for)', async () => {
    const { events } = setup();
    events.record([{ involved: { apiVersion: 'v1', kind: 'Node', name: 'pi-1', uid: 'pi-1' }, type: 'Normal', reason: 'NodeReady', message: 'Node pi-1 status is now: NodeReady', component: 'kubelet' }]);
    const [e] = (await events.list({ namespace: 'default' })).items;
    expect(e!.involvedObject).toEqual({ apiVersion: 'v1', kind: 'Node', name: 'pi-1', uid: 'pi-1' });
    expect((await events.list({ namespace: 'kube-system' })).items).toEqual([]);
  });

  it('keeps at most maxEvents: the least recently updated go, watchers see DELETED, older versions are gone (410)', async () => {
    const { events } = setup({ maxEvents: 3 });
    const seen: WatchEvent<CoreEvent>[] = [];
    const before = events.revision();
    events.watch(undefined, (e) => seen.push(e), {});
    for (const name of ['a', 'b', 'c']) events.record([input(name)]);
    events.record([input('a')]); // a is now the most recent
    events.record([input('d')]);
    expect((await events.list({})).items.map((e) => e.involvedObject.name)).toEqual(['c', 'a', 'd']);
    expect(seen.map((e) => `${e.type} ${(e.object as CoreEvent).involvedObject.name}`)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'MODIFIED a', 'ADDED d', 'DELETED b']);
    expect(() => events.watch(String(before), () => {}, {})).toThrow(expect.objectContaining({ code: ErrorCode.Expired }));
  });

  it('keeps at most maxBytes and forgets events not repeated within the TTL', async () => {
    const { clock, events } = setup({ maxBytes: 2000, ttlMs: 60_000 });
    for (let i = 0; i < 20; i++) events.record([input(`p${i}`)]);
    expect(events.byteSize).toBeLessThanOrEqual(2000);
    expect(events.size).toBeGreaterThan(0);
    expect(events.size).toBeLessThan(20);
    clock.advance(30_000);
    events.record([input('fresh')]);
    clock.advance(45_000);
    expect((await events.list({})).items.map((e) => e.involvedObject.name)).toEqual(['fresh']);
  });

  it('a watch from a version replays what changed after it (ADDED or MODIFIED), then goes live; a filter selects', async () => {
    const { events } = setup();
    events.record([input('a'), input('b')]);
    const from = (await events.list({})).resourceVersion;
    events.record([input('a'), input('c')]);
    const seen: string[] = [];
    const stop = events.watch(from, (e) => seen.push(`${e.type} ${(e.object as CoreEvent).involvedObject.name}`), { filter: (e) => e.involvedObject.name !== 'b' });
    expect(seen).toEqual(['MODIFIED a', 'ADDED c']);
    events.record([input('b'), input('d')]);
    stop();
    events.record([input('e')]);
    expect(seen).toEqual(['MODIFIED a', 'ADDED c', 'ADDED d']);
  });

  it('list: a version newer than the store is 504 Timeout, an exact older one 410 Expired, a malformed one 400', async () => {
    const { events } = setup();
    events.record([input('a')]);
    const rv = Number((await events.list({})).resourceVersion);
    await expect(events.list({ resourceVersion: String(rv + 5) })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    await expect(events.list({ resourceVersion: String(rv - 1), match: 'Exact' })).rejects.toMatchObject({ code: ErrorCode.Expired });
    await expect(events.list({ resourceVersion: 'x1' })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((await events.list({ resourceVersion: String(rv - 1), match: 'NotOlderThan' })).items).toHaveLength(1);
  });

  it('cuts overlong messages to 1 KiB', async () => {
    const { events } = setup();
    events.record([input('a', 'Failed', 'x'.repeat(5000))]);
    expect((await events.list({})).items[0]!.message.length).toBe(1024);
  });
});

describe('EventSnapshot (flash budget)', () => {
  async function setupSnapshot() {
    const store = new MemoryStore();
    await store.open();
    const { clock, events } = setup();
    const snapshot = new EventSnapshot({ store, events, clock, logger: silentLogger(), intervalMs: 30 * 60_000, maxEvents: 2, maxBytes: 32 * 1024 });
    await snapshot.start();
    return { store, clock, events, snapshot };
  }

  it('writes nothing while no event happens, once per interval when some did, and on stop only when changed', async () => {
    const { store, clock, events, snapshot } = await setupSnapshot();
    const start = store.revision();
    clock.advance(3 * 60 * 60_000);
    await snapshot.save();
    expect(store.revision()).toBe(start);
    events.record([input('a'), input('b'), input('c')]);
    clock.advance(10 * 60_000);
    await snapshot.save(); // the timer's save is the same call; a manual one writes too
    expect(store.revision()).toBe(start + 1);
    const saved = (await store.get<{ events: CoreEvent[] }>(GroveKeys.events))!.value;
    expect(saved.events.map((e) => e.involvedObject.name)).toEqual(['b', 'c']);
    clock.advance(2 * 60 * 60_000);
    await snapshot.stop();
    expect(store.revision()).toBe(start + 1);
  });

  it('the timer saves at most once per interval', async () => {
    const { store, clock, events } = await setupSnapshot();
    const start = store.revision();
    for (let minute = 0; minute < 120; minute++) {
      events.record([input(`p${minute}`)]);
      clock.advance(60_000);
      await Promise.resolve();
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(store.revision() - start).toBeLessThanOrEqual(4);
    expect(store.revision() - start).toBeGreaterThanOrEqual(3);
  });

  it('a restarted server reads the saved events back (fresh versions, same names)', async () => {
    const { store, clock, events, snapshot } = await setupSnapshot();
    events.record([input('a'), input('b')]);
    await snapshot.stop();
    const again = new EventStore({ clock });
    await new EventSnapshot({ store, events: again, clock, logger: silentLogger() }).start();
    expect((await again.list({})).items.map((e) => e.metadata.name)).toEqual((await events.list({})).items.map((e) => e.metadata.name));
  });

  it('newestEvents keeps the newest that fit in count and bytes, oldest first', () => {
    const mk = (name: string) => ({ involvedObject: { name }, message: 'x'.repeat(100) }) as unknown as CoreEvent;
    const list = ['a', 'b', 'c', 'd'].map(mk);
    expect(newestEvents(list, 3, 10_000).map((e) => e.involvedObject.name)).toEqual(['b', 'c', 'd']);
    expect(newestEvents(list, 10, 2 * JSON.stringify(list[0]).length).map((e) => e.involvedObject.name)).toEqual(['c', 'd']);
  });
});
