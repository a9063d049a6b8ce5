/**
 * Paging a list (list.ts serveList with a fake WatchSource): pages in namespace/name order,
 * later pages sliced from the kept snapshot (one source read for all of them), a read again at
 * the token's version once the snapshot is gone, and snapshots bounded in number and time.
 */
import { describe, expect, it } from 'vitest';
import { serveList, type ListedResource } from '../../src/server/k8s-api/list.js';
import { parseListOptions } from '../../src/server/k8s-api/list-options.js';
import { ListSnapshots, MAX_SNAPSHOTS, SNAPSHOT_TTL_MS } from '../../src/server/k8s-api/list-snapshots.js';
import type { ApiObject, SourceListOptions } from '../../src/server/k8s-api/watch-source.js';
import { ManualClock } from '../support/manual-clock.js';

const item = (namespace: string, name: string): ApiObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name } });

/** A source answering `items` at version 7, recording what it was asked. */
function fakeSource(items: ApiObject[]) {
  const calls: SourceListOptions[] = [];
  const resource: ListedResource = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    source: {
      list: async (opts) => {
        calls.push(opts);
        return { resourceVersion: opts.resourceVersion ?? '7', items: [...items] };
      },
      watch: () => () => undefined,
    },
  };
  return { resource, calls };
}

const q = (text: string) => parseListOptions(new URLSearchParams(text));

describe('paging', () => {
  const items = [item('b', 'x'), item('a', 'z'), item('a', 'y'), item('c', 'w'), item('a', 'a-b')];

  it('pages in namespace, then name order, reading the source once for every page', async () => {
    const { resource, calls } = fakeSource(items);
    const snapshots = { cache: new ListSnapshots(new ManualClock()), which: 'cms' };
    const seen: string[] = [];
    let cont = '';
    for (;;) {
      const page = await serveList(resource, q(`limit=2${cont ? `&continue=${cont}` : ''}`), {}, snapshots);
      seen.push(...page.items.map((o) => `${(o as ApiObject).metadata.namespace}/${(o as ApiObject).metadata.name}`));
      if (!page.metadata.continue) break;
      cont = page.metadata.continue;
    }
    expect(seen).toEqual(['a/a-b', 'a/y', 'a/z', 'b/x', 'c/w']);
    expect(calls).toEqual([{}]);
    // Its last page served, the snapshot is gone: nothing stays in memory for 30 s.
    expect(snapshots.cache.size).toBe(0);
  });

  it('serves later pages from the snapshot as the objects were when listed', async () => {
    const withData = [{ ...item('a', 'x'), data: { k: 'v' } }, item('a', 'y'), item('a', 'z')];
    const { resource } = fakeSource(withData);
    const snapshots = { cache: new ListSnapshots(new ManualClock()), which: 'cms' };
    const first = await serveList(resource, q('limit=1'), {}, snapshots);
    expect(snapshots.cache.size).toBe(1);
    // A later change of a listed object does not reach the snapshot: it holds the list's state.
    withData[1]!.metadata.labels = { changed: 'yes' };
    const second = await serveList(resource, q(`limit=1&continue=${first.metadata.continue}`), {}, snapshots);
    expect(second.items).toEqual([item('a', 'y')]);
    const third = await serveList(resource, q(`limit=1&continue=${second.metadata.continue}`), {}, snapshots);
    expect(third.items).toEqual([item('a', 'z')]);
    expect(first.items).toEqual([{ ...item('a', 'x'), data: { k: 'v' } }]);
    expect(snapshots.cache.size).toBe(0);
  });

  it('reads again at the token\'s version (Exact) when no snapshot is kept', async () => {
    const { resource, calls } = fakeSource(items);
    const first = await serveList(resource, q('limit=3'), {});
    expect(first.metadata).toMatchObject({ resourceVersion: '7', remainingItemCount: 2 });
    const second = await serveList(resource, q(`limit=3&continue=${first.metadata.continue}`), {});
    expect(second.items.map((o) => (o as ApiObject).metadata.name)).toEqual(['x', 'w']);
    expect(calls).toEqual([{}, { resourceVersion: '7', match: 'Exact' }]);
  });

  it('an unpaged list, or one that fits in a page, keeps no snapshot', async () => {
    const { resource } = fakeSource(items);
    const cache = new ListSnapshots(new ManualClock());
    await serveList(resource, q(''), {}, { cache, which: 'a' });
    await serveList(resource, q('limit=5'), {}, { cache, which: 'a' });
    expect(cache.size).toBe(0);
  });
});

describe('ListSnapshots', () => {
  it('keeps at most MAX_SNAPSHOTS, each for SNAPSHOT_TTL_MS after its last use', () => {
    const clock = new ManualClock();
    const cache = new ListSnapshots(clock);
    for (let i = 0; i <= MAX_SNAPSHOTS; i++) cache.put(`k${i}`, []);
    expect(cache.size).toBe(MAX_SNAPSHOTS);
    expect(cache.get('k0')).toBeUndefined();
    clock.advance(SNAPSHOT_TTL_MS - 1);
    expect(cache.get('k1')).toEqual([]);
    clock.advance(SNAPSHOT_TTL_MS - 1);
    expect(cache.get('k1')).toEqual([]);
    expect(cache.get(`k${MAX_SNAPSHOTS}`)).toBeUndefined();
    clock.advance(SNAPSHOT_TTL_MS);
    expect(cache.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
