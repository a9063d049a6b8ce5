/**
 * The ObjectStore's WatchSource: lists at one exact revision (the latest, or an older one rebuilt
 * from the history), watches replayed from a revision and fanned out live, selectors entered and
 * left, 410 when too old, 504 when too new.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventFor, ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import type { ApiObject, WatchEvent, WatchSource } from '../../src/server/k8s-api/watch-source.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SealedStore } from '../../src/server/sealed-store.js';
import { thrownBy } from '../support/thrown.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap, namespace } from '../contract/object-store.contract.js';

let store: MemoryStore;
let objects: ObjectStore;
let feed: ObjectFeed;
let source: WatchSource<AnyObject>;

const labelled = (name: string, tier: string, data = '1', ns = 'default'): AnyObject => {
  const o = configMap(name, { v: data }, ns) as AnyObject & { metadata: { labels?: Record<string, string> } };
  o.metadata.labels = { tier };
  return o;
};
const put = (...os: AnyObject[]) => objects.commit(os.map((object) => ({ op: 'put' as const, object })));
const del = (name: string, ns = 'default') => objects.commit([{ op: 'delete', ref: { kind: 'ConfigMap', namespace: ns, name } }]);
const names = (items: readonly ApiObject[]) => items.map((o) => `${o.metadata.name}:${(o as { data?: { v?: string } }).data?.v}`).sort();
const front = (o: ApiObject) => o.metadata.labels?.tier === 'front';

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  objects = new ObjectStore({ store, clock: new ManualClock() });
  await ensureDefaultNamespace(objects);
  feed = new ObjectFeed({ objects, clock: new ManualClock(), logger: silentLogger(), historyChanges: 50 });
  feed.start();
  source = feed.source('ConfigMap');
});

afterEach(async () => {
  feed.stop();
  await store.close();
});

describe('ObjectFeed lists', () => {
  it('lists the latest state with the store revision, filtered', async () => {
    await put(labelled('a', 'front'), labelled('b', 'back'));
    const all = await source.list({});
    expect(all.resourceVersion).toBe(String(store.revision()));
    expect(names(all.items)).toEqual(['a:1', 'b:1']);
    expect(names((await source.list({ filter: front })).items)).toEqual(['a:1']);
  });

  it('rebuilds the state of an older revision (Exact): changed, created and deleted objects as they were', async () => {
    await put(labelled('a', 'front'), labelled('b', 'back'), labelled('c', 'front'));
    const then = String(store.revision());
    await put(labelled('a', 'front', '2'));
    await del('b');
    await put(labelled('d', 'front'));
    await put(labelled('c', 'back', '2'));
    await put(labelled('a', 'front', '3'));
    const old = await source.list({ resourceVersion: then, match: 'Exact' });
    expect(old.resourceVersion).toBe(then);
    expect(names(old.items)).toEqual(['a:1', 'b:1', 'c:1']);
    expect(old.items.find((o) => o.metadata.name === 'a')!.metadata.resourceVersion).toBe(then);
    expect(names((await source.list({ resourceVersion: then, match: 'Exact', filter: front })).items)).toEqual(['a:1', 'c:1']);
    expect(names((await source.list({})).items)).toEqual(['a:3', 'c:2', 'd:1']);
    // NotOlderThan: the latest.
    expect((await source.list({ resourceVersion: then, match: 'NotOlderThan' })).resourceVersion).toBe(String(store.revision()));
  });

  it('410 Expired for a revision older than the history; 504 for one the store has not reached', async () => {
    const start = store.revision();
    for (let i = 0; i < 60; i++) await put(labelled(`n${i}`, 'x'));
    await expect(source.list({ resourceVersion: String(start), match: 'Exact' })).rejects.toMatchObject({ code: ErrorCode.Expired, message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/) });
    await expect(source.list({ resourceVersion: String(store.revision() + 5) })).rejects.toMatchObject({ code: ErrorCode.Timeout, message: `Too large resource version: ${store.revision() + 5}, current: ${store.revision()}` });
    await expect(source.list({ resourceVersion: 'abc' })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it('a list whose read overlaps a commit is the state before it, so a watch from its version misses nothing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new (class extends MemoryStore {
      override async list<T>(prefix: string) {
        const entries = await super.list<T>(prefix);
        await gate;
        return entries;
      }
    })();
    await slow.open();
    const slowObjects = new ObjectStore({ store: slow, clock: new ManualClock() });
    await ensureDefaultNamespace(slowObjects);
    await slowObjects.commit([{ op: 'put', object: labelled('a', 'front') }]);
    const slowFeed = new ObjectFeed({ objects: slowObjects, clock: new ManualClock() });
    slowFeed.start();
    const listing = slowFeed.source('ConfigMap').list({});
    await slowObjects.commit([{ op: 'put', object: labelled('a', 'front', '2') }]);
    release();
    const listed = await listing;
    expect(names(listed.items)).toEqual(['a:1']);
    const events: WatchEvent[] = [];
    slowFeed.source('ConfigMap').watch(listed.resourceVersion, (e) => events.push(e), {});
    expect(events.map((e) => `${e.type} ${(e.object as { data?: { v?: string } }).data?.v}`)).toEqual(['MODIFIED 2']);
    slowFeed.stop();
    await slow.close();
  });

  it('a namespace lists only its own objects, then and now', async () => {
    await put(namespace('shop'));
    await put(labelled('a', 'front'), labelled('a', 'front', '1', 'shop'));
    const then = String(store.revision());
    await del('a', 'shop');
    expect(names((await source.list({ namespace: 'shop', resourceVersion: then, match: 'Exact' })).items)).toEqual(['a:1']);
    expect(names((await source.list({ namespace: 'shop' })).items)).toEqual([]);
    expect(names((await source.list({ namespace: 'default', resourceVersion: then, match: 'Exact' })).items)).toEqual(['a:1']);
  });

  it('sees Secrets in clear (the store seals them, the feed reads the commit)', async () => {
    const sealed = new ObjectStore({ store: new SealedStore(store, randomBytes(32)), clock: new ManualClock() });
    const sealedFeed = new ObjectFeed({ objects: sealed, clock: new ManualClock() });
    sealedFeed.start();
    const events: WatchEvent[] = [];
    sealedFeed.source('Secret').watch(undefined, (e) => events.push(e), {});
    await sealed.commit([{ op: 'put', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { k: 'dg==' } } as AnyObject }]);
    expect(events).toMatchObject([{ type: 'ADDED', object: { data: { k: 'dg==' } } }]);
    expect(JSON.stringify((await store.get('secrets/default/s'))!.value)).not.toContain('dg==');
    sealedFeed.stop();
  });

  describe('the latest read, shared while its objects are held', () => {
    let reads: string[];
    beforeEach(() => {
      reads = [];
      const list = objects.list.bind(objects);
      objects.list = ((kind, opts) => {
        reads.push(`${kind}/${opts?.namespace ?? '*'}`);
        return list(kind, opts);
      }) as typeof objects.list;
    });

    it('serves the next latest list from it, brought forward with the history, without reading the store', async () => {
      await objects.commit([{ op: 'put', object: namespace('shop') }]);
      await put(labelled('a', 'front'), labelled('b', 'back'), labelled('c', 'front', '1', 'shop'));
      const first = await source.list({});
      const again = await source.list({});
      // Nothing changed: the very same objects (one copy however many watches send them).
      expect(again.items).toBe(first.items);
      expect(again.resourceVersion).toBe(String(store.revision()));
      await put(labelled('a', 'front', '2'));
      await del('b');
      await put(labelled('d', 'front', '1', 'shop'));
      // Commits that change no ConfigMap move the revision; the state is still exact.
      await objects.commit([{ op: 'put', object: namespace('other') }]);
      const later = await source.list({});
      expect(later.resourceVersion).toBe(String(store.revision()));
      expect(names(later.items)).toEqual(['a:2', 'c:1', 'd:1']);
      expect(later.items.find((o) => o.metadata.name === 'c')).toBe(first.items.find((o) => o.metadata.name === 'c'));
      expect(names((await source.list({ filter: front })).items)).toEqual(['a:2', 'c:1', 'd:1']);
      expect(names((await source.list({ resourceVersion: String(store.revision()) })).items)).toEqual(['a:2', 'c:1', 'd:1']);
      expect(reads).toEqual(['ConfigMap/*']);
      // The same as a fresh read of the store.
      expect(names((await feed.source('ConfigMap').list({ resourceVersion: later.resourceVersion, match: 'Exact' })).items)).toEqual(names(later.items));
    });

    it('is per namespace: a namespace list reads once, and ignores changes elsewhere', async () => {
      await objects.commit([{ op: 'put', object: namespace('shop') }]);
      await put(labelled('a', 'front'), labelled('c', 'front', '1', 'shop'));
      const shop = await source.list({ namespace: 'shop' });
      await put(labelled('a', 'front', '2'));
      expect((await source.list({ namespace: 'shop' })).items).toBe(shop.items);
      await put(labelled('c', 'front', '2', 'shop'));
      expect(names((await source.list({ namespace: 'shop' })).items)).toEqual(['c:2']);
      expect(names((await source.list({})).items)).toEqual(['a:2', 'c:2']);
      expect(reads).toEqual(['ConfigMap/shop', 'ConfigMap/*']);
    });

    it('reads the store again once the history no longer reaches back to it, or after a write around the object store', async () => {
      await put(labelled('a', 'front'));
      const first = await source.list({});
      for (let i = 0; i < 60; i++) await put(labelled('a', 'front', String(i)));
      expect(names((await source.list({})).items)).toEqual(['a:59']);
      expect(reads).toHaveLength(2);
      const held = await source.list({});
      await store.commit([{ type: 'put', key: 'configmaps/default/raw', value: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'raw', namespace: 'default' } } }]);
      expect(names((await source.list({})).items)).toEqual(['a:59', 'raw:undefined']);
      expect(reads).toHaveLength(3);
      expect(first.items.length + held.items.length).toBe(2);
    });
  });
});

describe('ObjectFeed watches', () => {
  it('replays every change after a revision, then goes on live, in order', async () => {
    await put(labelled('a', 'front'));
    const from = String(store.revision());
    await put(labelled('a', 'front', '2'));
    await put(labelled('b', 'front'));
    const events: WatchEvent[] = [];
    source.watch(from, (e) => events.push(e), {});
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED a', 'ADDED b']);
    await del('a');
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED a', 'ADDED b', 'DELETED a']);
    // A deleted object's last state, with the deletion's resourceVersion.
    expect(events[2]!.object).toMatchObject({ data: { v: '2' }, metadata: { resourceVersion: String(store.revision()) } });
  });

  it('an object leaving the selector is DELETED for the watcher (with its new state); entering it is ADDED', async () => {
    await put(labelled('a', 'front'));
    const events: WatchEvent[] = [];
    source.watch(String(store.revision()), (e) => events.push(e), { filter: front });
    await put(labelled('a', 'back'));
    await put(labelled('a', 'back', '2'));
    await put(labelled('a', 'front', '3'));
    await put(labelled('a', 'front', '4'));
    expect(events.map((e) => `${e.type} ${e.object.metadata.labels?.tier}`)).toEqual(['DELETED back', 'ADDED front', 'MODIFIED front']);
  });

  it('a watch of another namespace or kind sees nothing', async () => {
    await put(namespace('shop'));
    const events: WatchEvent[] = [];
    source.watch(undefined, (e) => events.push(e), { namespace: 'shop' });
    feed.source('Deployment').watch(undefined, (e) => events.push(e), {});
    await put(labelled('a', 'front'));
    expect(events).toEqual([]);
  });

  it('410 Expired (too old) and 504 (too large) before anything is sent', async () => {
    const start = store.revision();
    for (let i = 0; i < 60; i++) await put(labelled(`n${i}`, 'x'));
    const old = thrownBy(() => source.watch(String(start), () => undefined, {}));
    expect(old).toMatchObject({ code: ErrorCode.Expired, message: `too old resource version: ${start} (${feed.stats().history.since})` });
    expect(thrownBy(() => source.watch(String(store.revision() + 1), () => undefined, {})).code).toBe(ErrorCode.Timeout);
    expect(feed.stats().watchers).toBe(0);
  });

  it('fans one commit out to many watchers; stopping one leaves the others', async () => {
    const counts = new Array<number>(200).fill(0);
    const stops = counts.map((_, i) => source.watch(undefined, () => counts[i]!++, {}));
    expect(feed.stats().watchers).toBe(200);
    await put(labelled('a', 'front'), labelled('b', 'front'));
    stops[0]!();
    await put(labelled('a', 'front', '2'));
    expect(counts[0]).toBe(2);
    expect(counts.slice(1).every((c) => c === 3)).toBe(true);
    expect(feed.stats().watchers).toBe(199);
  });

  it('a watcher that throws is dropped without troubling the others', async () => {
    const seen: string[] = [];
    source.watch(undefined, () => {
      throw new Error('broken');
    }, {});
    source.watch(undefined, (e) => seen.push(e.type), {});
    await put(labelled('a', 'front'));
    await put(labelled('a', 'front', '2'));
    expect(seen).toEqual(['ADDED', 'MODIFIED']);
    expect(feed.stats().watchers).toBe(1);
  });

  it('objects written around the ObjectStore end the watches of their kind with 410 and reset the history', async () => {
    await put(labelled('a', 'front'));
    const before = String(store.revision());
    const cms: WatchEvent[] = [];
    const deploys: WatchEvent[] = [];
    source.watch(undefined, (e) => cms.push(e), {});
    feed.source('Deployment').watch(undefined, (e) => deploys.push(e), {});
    await store.commit([{ type: 'put', key: 'configmaps/default/raw', value: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'raw', namespace: 'default' } } }]);
    expect(cms).toMatchObject([{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }]);
    expect(deploys).toEqual([]);
    expect(feed.stats().watchers).toBe(1);
    await expect(source.list({ resourceVersion: before, match: 'Exact' })).rejects.toMatchObject({ code: ErrorCode.Expired });
    expect(names((await source.list({})).items)).toEqual(['a:1', 'raw:undefined']);
  });

  it('stop() ends every open watch with an ERROR event', () => {
    const events: WatchEvent[] = [];
    source.watch(undefined, (e) => events.push(e), {});
    feed.stop();
    expect(events).toMatchObject([{ type: 'ERROR', object: { kind: 'Status', code: 503 } }]);
    expect(feed.stats().watchers).toBe(0);
  });
});

describe('eventFor', () => {
  const a1 = labelled('a', 'front');
  const a2 = labelled('a', 'back');
  const change = (object?: AnyObject, previous?: AnyObject) => ({ revision: 9, key: 'k', kind: 'ConfigMap' as const, ...(object ? { object } : {}), ...(previous ? { previous } : {}) });
  const gone = () => a1;
  it('maps each change to what a filtered watcher sees', () => {
    expect(eventFor(change(a1), front, gone)?.type).toBe('ADDED');
    expect(eventFor(change(a2), front, gone)).toBeUndefined();
    expect(eventFor(change(a1, a1), front, gone)?.type).toBe('MODIFIED');
    expect(eventFor(change(a2, a1), front, gone)).toEqual({ type: 'DELETED', object: a2 });
    expect(eventFor(change(a1, a2), front, gone)).toEqual({ type: 'ADDED', object: a1 });
    expect(eventFor(change(undefined, a1), front, gone)).toEqual({ type: 'DELETED', object: a1 });
    expect(eventFor(change(undefined, a2), front, gone)).toBeUndefined();
    expect(eventFor(change(undefined, a2), undefined, gone)?.type).toBe('DELETED');
  });
});
