/**
 * The behaviour every Store implementation must have (src/store/store.ts). Each
 * implementation's unit test calls storeContract with a factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, StoreChange } from '../../src/store/store.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';

export interface StoreFixture {
  /** Not yet opened; the contract opens it. */
  store: Store;
  /** Closes the store and returns a new, opened instance over the same data (durable stores only). */
  reopen?(): Promise<Store>;
  /** Closes whatever is open and removes any files. */
  cleanup(): Promise<void>;
}

const app = (name: string, replicas = 1) => ({ kind: 'App', meta: { name, labels: { tier: 'web' } }, spec: { replicas } });

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  // Probed while the suite is collected so the persistence test is only registered for stores
  // whose fixture can reopen (a memory store has nothing to persist).
  describe(`Store contract: ${name}`, async () => {
    const probe = await make();
    const durable = typeof probe.reopen === 'function';
    await probe.cleanup();

    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.open();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    function record(): StoreChange[] {
      const changes: StoreChange[] = [];
      store.watch((c) => changes.push(c));
      return changes;
    }

    it('starts empty at revision 0', async () => {
      expect(store.revision()).toBe(0);
      expect(await store.get('apps/web')).toBeUndefined();
      expect(await store.list('')).toEqual([]);
    });

    it('puts, gets and deletes', async () => {
      const rev = await store.commit([{ type: 'put', key: 'apps/web', value: app('web') }]);
      expect(rev).toBe(1);
      expect(await store.get('apps/web')).toEqual({ key: 'apps/web', value: app('web'), revision: 1 });
      expect(await store.commit([{ type: 'delete', key: 'apps/web' }])).toBe(2);
      expect(await store.get('apps/web')).toBeUndefined();
      expect(store.revision()).toBe(2);
    });

    it('lists by prefix in key order without leaking neighbours', async () => {
      await store.commit([
        { type: 'put', key: 'apps2/x', value: 1 },
        { type: 'put', key: 'apps/b', value: 2 },
        { type: 'put', key: 'app', value: 3 },
        { type: 'put', key: 'apps/a', value: 4 },
        { type: 'put', key: 'apps/a/sub', value: 5 },
        { type: 'put', key: 'nodes/pi-1', value: 6 },
        { type: 'put', key: 'apps~', value: 7 },
      ]);
      const apps = await store.list<number>('apps/');
      expect(apps.map((e) => e.key)).toEqual(['apps/a', 'apps/a/sub', 'apps/b']);
      expect(apps.map((e) => e.value)).toEqual([4, 5, 2]);
      expect((await store.list('apps2/')).map((e) => e.key)).toEqual(['apps2/x']);
      expect((await store.list('')).map((e) => e.key)).toEqual([
        'app',
        'apps/a',
        'apps/a/sub',
        'apps/b',
        'apps2/x',
        'apps~',
        'nodes/pi-1',
      ]);
      expect(await store.list('zones/')).toEqual([]);
    });

    it('applies several ops as one revision and one watch call', async () => {
      await store.commit([{ type: 'put', key: 'pods/old', value: { a: 1 } }]);
      const changes = record();
      const rev = await store.commit([
        { type: 'put', key: 'apps/web', value: app('web') },
        { type: 'put', key: 'pods/web-1', value: { node: 'pi-1' } },
        { type: 'delete', key: 'pods/old' },
      ]);
      expect(rev).toBe(2);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toEqual({
        revision: 2,
        ops: [
          { type: 'put', key: 'apps/web', value: app('web') },
          { type: 'put', key: 'pods/web-1', value: { node: 'pi-1' } },
          { type: 'delete', key: 'pods/old' },
        ],
      });
      const entries = await store.list('');
      expect(entries.map((e) => [e.key, e.revision])).toEqual([
        ['apps/web', 2],
        ['pods/web-1', 2],
      ]);
    });

    it('moves revisions strictly forward and records each key’s last write', async () => {
      const revs: number[] = [];
      for (let i = 0; i < 5; i++) revs.push(await store.commit([{ type: 'put', key: `k/${i % 2}`, value: i }]));
      expect(revs).toEqual([1, 2, 3, 4, 5]);
      expect((await store.get('k/0'))?.revision).toBe(5);
      expect((await store.get('k/1'))?.revision).toBe(4);
    });

    it('drops a commit that changes nothing: same revision, no watcher call', async () => {
      await store.commit([{ type: 'put', key: 'apps/web', value: app('web') }]);
      const changes = record();
      expect(await store.commit([])).toBe(1);
      expect(await store.commit([{ type: 'delete', key: 'apps/absent' }])).toBe(1);
      expect(await store.commit([{ type: 'put', key: 'apps/web', value: app('web') }])).toBe(1);
      expect(store.revision()).toBe(1);
      expect(changes).toEqual([]);
      expect((await store.get('apps/web'))?.revision).toBe(1);
    });

    it('treats a deep-equal put as a no-op whatever the key order', async () => {
      await store.commit([{ type: 'put', key: 'x', value: { a: 1, b: { c: [1, 2], d: 'e' } } }]);
      const changes = record();
      expect(await store.commit([{ type: 'put', key: 'x', value: { b: { d: 'e', c: [1, 2] }, a: 1 } }])).toBe(1);
      expect(changes).toEqual([]);
      expect(await store.commit([{ type: 'put', key: 'x', value: { a: 1, b: { c: [2, 1], d: 'e' } } }])).toBe(2);
    });

    it('drops only the unchanged ops of a mixed commit', async () => {
      await store.commit([
        { type: 'put', key: 'a', value: 1 },
        { type: 'put', key: 'b', value: 2 },
      ]);
      const changes = record();
      const rev = await store.commit([
        { type: 'put', key: 'a', value: 1 },
        { type: 'put', key: 'b', value: 3 },
        { type: 'delete', key: 'nope' },
      ]);
      expect(rev).toBe(2);
      expect(changes).toEqual([{ revision: 2, ops: [{ type: 'put', key: 'b', value: 3 }] }]);
      expect((await store.get('a'))?.revision).toBe(1);
    });

    it('applies the last op when one commit touches a key twice', async () => {
      await store.commit([
        { type: 'put', key: 'a', value: 1 },
        { type: 'put', key: 'a', value: 2 },
        { type: 'put', key: 'b', value: 1 },
        { type: 'delete', key: 'b' },
      ]);
      expect((await store.get('a'))?.value).toBe(2);
      expect(await store.get('b')).toBeUndefined();
    });

    it('isolates stored values from callers and watchers', async () => {
      const value = { meta: { name: 'web', labels: { a: '1' } }, list: [1, 2] };
      const seen: StoreChange[] = [];
      store.watch((c) => {
        seen.push(c);
        (c.ops[0] as { value: { meta: { name: string } } }).value.meta.name = 'changed-by-watcher';
      });
      await store.commit([{ type: 'put', key: 'apps/web', value }]);
      value.meta.labels.a = 'mutated';
      value.list.push(3);
      const got = await store.get<typeof value>('apps/web');
      expect(got?.value).toEqual({ meta: { name: 'web', labels: { a: '1' } }, list: [1, 2] });
      got!.value.meta.name = 'mutated';
      const listed = await store.list<typeof value>('apps/');
      expect(listed[0]?.value.meta.name).toBe('web');
      listed[0]!.value.list.length = 0;
      expect((await store.get<typeof value>('apps/web'))?.value.list).toEqual([1, 2]);
      expect(seen).toHaveLength(1);
    });

    it('stores the value as it was when commit was called', async () => {
      const value = { n: 1 };
      const pending = Promise.all([store.commit([{ type: 'put', key: 'a', value: 0 }]), store.commit([{ type: 'put', key: 'b', value }])]);
      value.n = 2;
      await pending;
      expect((await store.get('b'))?.value).toEqual({ n: 1 });
    });

    it('calls watchers in subscription order and stops after unsubscribe', async () => {
      const calls: string[] = [];
      const offA = store.watch((c) => calls.push(`a${c.revision}`));
      store.watch((c) => calls.push(`b${c.revision}`));
      await store.commit([{ type: 'put', key: 'k', value: 1 }]);
      offA();
      offA();
      await store.commit([{ type: 'put', key: 'k', value: 2 }]);
      expect(calls).toEqual(['a1', 'b1', 'b2']);
    });

    it('keeps committing and notifying when a watcher throws', async () => {
      const calls: number[] = [];
      store.watch(() => {
        throw new Error('listener bug');
      });
      store.watch((c) => calls.push(c.revision));
      expect(await store.commit([{ type: 'put', key: 'k', value: 1 }])).toBe(1);
      expect(calls).toEqual([1]);
      expect((await store.get('k'))?.value).toBe(1);
    });

    it('serialises concurrent commits', async () => {
      const changes = record();
      const revs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.commit([{ type: 'put', key: `pods/p${i}`, value: { i } }])),
      );
      expect([...revs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(revs).size).toBe(20);
      expect(changes.map((c) => c.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      // Each caller gets the revision its own ops landed at.
      for (let i = 0; i < 20; i++) expect((await store.get(`pods/p${i}`))?.revision).toBe(revs[i]);
      expect(store.revision()).toBe(20);
    });

    it('rejects invalid keys and ops without changing anything', async () => {
      for (const key of ['', 'caf\u00e9', 'a\nb', '\x00meta/revision', 'x'.repeat(1025)]) {
        const err = await store.commit([{ type: 'put', key, value: 1 }]).catch((e: unknown) => e);
        expect(isGroveError(err, ErrorCode.InvalidArgument), JSON.stringify(key)).toBe(true);
      }
      const bad = await store.commit([{ type: 'put', key: 'ok', value: undefined }]).catch((e: unknown) => e);
      expect(isGroveError(bad, ErrorCode.InvalidArgument)).toBe(true);
      await expect(store.get('\u65e5')).rejects.toThrow(/invalid store key/);
      await expect(store.list('\x00')).rejects.toThrow(/invalid store prefix/);
      expect(store.revision()).toBe(0);
      expect(await store.list('')).toEqual([]);
    });

    it('keeps plain JSON-like values intact', async () => {
      const value = { s: 'text', n: -3, f: 0.25, big: 2 ** 40, t: true, nil: null, arr: [{}, [], ''], nested: { '10': 1, '9': 2 } };
      await store.commit([{ type: 'put', key: 'v', value }]);
      expect((await store.get('v'))?.value).toEqual(value);
    });

    it('snapshots every entry with the revision they belong to, also during commits', async () => {
      await store.commit([{ type: 'put', key: 'apps/a', value: app('a') }]);
      await store.commit([{ type: 'put', key: 'nodes/pi-1', value: { cordoned: false } }]);
      expect(await store.snapshot()).toEqual({ revision: 2, entries: await store.list('') });
      const writes = Array.from({ length: 20 }, (_, i) => store.commit([{ type: 'put', key: `apps/w${i}`, value: app(`w${i}`) }]));
      const snapshots = await Promise.all([store.snapshot(), store.snapshot()]);
      await Promise.all(writes);
      for (const snap of snapshots) {
        // Consistent: exactly the entries written up to the snapshot's revision.
        expect(snap.entries.map((e) => e.key).sort()).toEqual(
          ['apps/a', 'nodes/pi-1', ...Array.from({ length: snap.revision - 2 }, (_, i) => `apps/w${i}`)].sort(),
        );
        expect(Math.max(...snap.entries.map((e) => e.revision))).toBe(snap.revision);
      }
    });

    it('replaceAll leaves exactly the given entries, in one commit above minRevision', async () => {
      await store.commit([
        { type: 'put', key: 'apps/keep', value: app('keep') },
        { type: 'put', key: 'apps/change', value: app('change', 1) },
        { type: 'put', key: 'apps/gone', value: app('gone') },
      ]);
      const changes = record();
      const rev = await store.replaceAll(
        [
          { key: 'apps/keep', value: app('keep') },
          { key: 'apps/change', value: app('change', 2) },
          { key: 'apps/new', value: app('new') },
        ],
        10,
      );
      expect(rev).toBe(11);
      expect(store.revision()).toBe(11);
      expect(await store.list('')).toEqual([
        { key: 'apps/change', value: app('change', 2), revision: 11 },
        { key: 'apps/keep', value: app('keep'), revision: 1 },
        { key: 'apps/new', value: app('new'), revision: 11 },
      ]);
      expect(changes).toHaveLength(1);
      expect(changes[0]!.ops.map((op) => `${op.type} ${op.key}`).sort()).toEqual(['delete apps/gone', 'put apps/change', 'put apps/new']);
      // Below the current revision the floor changes nothing; identical contents write nothing.
      expect(await store.replaceAll([{ key: 'apps/keep', value: app('keep') }], 3)).toBe(12);
      expect(await store.replaceAll([{ key: 'apps/keep', value: app('keep') }], 50)).toBe(12);
      expect(await store.replaceAll([])).toBe(13);
      expect(await store.list('')).toEqual([]);
    });

    it('replaceAll rejects bad entries and bad floors without changing anything', async () => {
      await store.commit([{ type: 'put', key: 'apps/a', value: app('a') }]);
      await expect(store.replaceAll([{ key: '\x01bad', value: 1 }])).rejects.toThrow(/invalid store key/);
      await expect(store.replaceAll([{ key: 'x', value: undefined }])).rejects.toThrow(/undefined/);
      await expect(store.replaceAll([], -1)).rejects.toThrow(/minimum revision/);
      expect(store.revision()).toBe(1);
      expect((await store.list('')).map((e) => e.key)).toEqual(['apps/a']);
    });

    it('advanceRevision moves the revision past a floor, never back, and changes no entry', async () => {
      await store.commit([{ type: 'put', key: 'a', value: 1 }]);
      const changes = record();
      expect(await store.advanceRevision(0)).toBe(1);
      expect(await store.advanceRevision(1)).toBe(2);
      expect(await store.advanceRevision(40)).toBe(41);
      expect(await store.advanceRevision(10)).toBe(41);
      expect(store.revision()).toBe(41);
      expect(changes).toEqual([]);
      expect(await store.get('a')).toEqual({ key: 'a', value: 1, revision: 1 });
      expect(await store.commit([{ type: 'put', key: 'a', value: 2 }])).toBe(42);
      await expect(store.advanceRevision(-1)).rejects.toThrow(/minimum revision/);
      await expect(store.advanceRevision(1.5)).rejects.toThrow(/minimum revision/);
      expect(store.revision()).toBe(42);
    });

    if (durable) {
      it('keeps an advanced revision across a reopen', async () => {
        await store.commit([{ type: 'put', key: 'a', value: 1 }]);
        await store.advanceRevision(99);
        const reopened = await fixture.reopen!();
        expect(reopened.revision()).toBe(100);
        expect(await reopened.commit([{ type: 'put', key: 'a', value: 2 }])).toBe(101);
      });

      it('persists entries and revision across a reopen', async () => {
        await store.commit([
          { type: 'put', key: 'apps/web', value: app('web', 3) },
          { type: 'put', key: 'nodes/pi-1', value: { cordoned: false } },
        ]);
        await store.commit([{ type: 'delete', key: 'nodes/pi-1' }]);
        const reopened = await fixture.reopen!();
        expect(reopened.revision()).toBe(2);
        expect(await reopened.list('')).toEqual([{ key: 'apps/web', value: app('web', 3), revision: 1 }]);
        expect(await reopened.commit([{ type: 'put', key: 'apps/web', value: app('web', 3) }])).toBe(2);
        expect(await reopened.commit([{ type: 'put', key: 'apps/web', value: app('web', 4) }])).toBe(3);
        expect((await reopened.get('apps/web'))?.revision).toBe(3);
      });

      it('keeps a replaceAll across a reopen', async () => {
        await store.commit([{ type: 'put', key: 'apps/old', value: app('old') }]);
        await store.replaceAll([{ key: 'apps/web', value: app('web') }], 7);
        const reopened = await fixture.reopen!();
        expect(reopened.revision()).toBe(8);
        expect(await reopened.snapshot()).toEqual({ revision: 8, entries: [{ key: 'apps/web', value: app('web'), revision: 8 }] });
      });
    }
  });
}
