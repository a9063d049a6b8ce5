/**
 * Lists and watches over HTTP (the Router, the collection routes, an ObjectFeed on a
 * MemoryStore, a ManualClock for bookmarks and timeouts): pages read at one revision, expired
 * continue tokens, watch streams from every kind of start, bookmarks, timeouts, slow clients cut.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { addKubernetesRoutes } from '../../src/server/k8s-api/routes.js';
import { SNAPSHOT_TTL_MS } from '../../src/server/k8s-api/list-snapshots.js';
import type { WatchLimits } from '../../src/server/k8s-api/watch.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap } from '../contract/object-store.contract.js';

const TOKEN = 'admin-token';
const CMS = '/api/v1/namespaces/default/configmaps';

let server: http.Server;
let port: number;
let store: MemoryStore;
let objects: ObjectStore;
let feed: ObjectFeed;
let clock: ManualClock;

async function setup(limits: Partial<WatchLimits> = {}, historyChanges = 1000): Promise<void> {
  store = new MemoryStore();
  await store.open();
  clock = new ManualClock();
  objects = new ObjectStore({ store, clock });
  await ensureDefaultNamespace(objects);
  feed = new ObjectFeed({ objects, clock, historyChanges });
  feed.start();
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  addKubernetesRoutes(router, objects, (o) => o, { feed, clock, limits, random: () => 0.5 });
  server = http.createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
}

afterEach(async () => {
  feed.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

const cm = (name: string, v = '1', labels?: Record<string, string>): AnyObject => {
  const o = configMap(name, { v }) as AnyObject & { metadata: { labels?: Record<string, string> } };
  if (labels) o.metadata.labels = labels;
  return o;
};
const put = (...os: AnyObject[]) => objects.commit(os.map((object) => ({ op: 'put' as const, object })));

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

/** A watch request whose lines are collected as they come. */
function watch(path: string) {
  const lines: any[] = [];
  let status = 0;
  let ended = false;
  let req!: http.ClientRequest;
  const opened = new Promise<void>((resolve, reject) => {
    req = http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      status = res.statusCode ?? 0;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          lines.push(JSON.parse(buffer.slice(0, i)));
          buffer = buffer.slice(i + 1);
        }
      });
      res.on('end', () => (ended = true));
      res.on('error', () => (ended = true));
      resolve();
    });
    req.on('error', reject);
  });
  return {
    lines,
    opened,
    get status() {
      return status;
    },
    get ended() {
      return ended;
    },
    close: () => req.destroy(),
    /** Waits until `n` lines have come (real time: the server writes at once). */
    async until(n: number): Promise<any[]> {
      for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(lines.length).toBeGreaterThanOrEqual(n);
      return lines;
    },
    async untilEnded(): Promise<void> {
      for (let i = 0; i < 200 && !ended; i++) await new Promise((r) => setTimeout(r, 10));
      expect(ended).toBe(true);
    },
  };
}

const summary = (lines: any[]) => lines.map((l) => `${l.type} ${l.object.metadata?.name ?? l.object.metadata?.resourceVersion ?? l.object.code}`);

describe('lists', () => {
  beforeEach(() => setup());

  it('pages with limit/continue, every page at the first page\'s revision; remainingItemCount', async () => {
    await put(cm('a'), cm('b'), cm('c'), cm('d'), cm('e'));
    const first = await get(`${CMS}?limit=2`);
    expect(first.body.items.map((i: any) => i.metadata.name)).toEqual(['a', 'b']);
    expect(first.body.metadata).toMatchObject({ resourceVersion: String(store.revision()), remainingItemCount: 3, continue: expect.any(String) });
    // Changes after the first page are not seen by the next pages.
    await put(cm('c', '2'), cm('bb'), cm('f'));
    await objects.commit([{ op: 'delete', ref: { kind: 'ConfigMap', namespace: 'default', name: 'd' } }]);
    const second = await get(`${CMS}?limit=2&continue=${first.body.metadata.continue}`);
    expect(second.body.items.map((i: any) => `${i.metadata.name}:${i.data.v}`)).toEqual(['c:1', 'd:1']);
    expect(second.body.metadata).toMatchObject({ resourceVersion: first.body.metadata.resourceVersion, remainingItemCount: 1 });
    // The snapshot of the first page goes: the last page is rebuilt from the history, the same.
    clock.advance(SNAPSHOT_TTL_MS);
    const last = await get(`${CMS}?limit=2&continue=${second.body.metadata.continue}`);
    expect(last.body.items.map((i: any) => `${i.metadata.name}:${i.data.v}`)).toEqual(['e:1']);
    expect(last.body.metadata.continue).toBeUndefined();
    expect(last.body.metadata.remainingItemCount).toBeUndefined();
    // A new list sees everything.
    expect((await get(CMS)).body.items.map((i: any) => i.metadata.name)).toEqual(['a', 'b', 'bb', 'c', 'e', 'f']);
  });

  it('filters by labels and fields before paging', async () => {
    await put(cm('a', '1', { tier: 'front' }), cm('b', '1', { tier: 'back' }), cm('c', '1', { tier: 'front' }));
    const r = await get(`${CMS}?labelSelector=tier%3Dfront&limit=1`);
    expect(r.body.items.map((i: any) => i.metadata.name)).toEqual(['a']);
    expect(r.body.metadata.remainingItemCount).toBe(1);
    expect((await get(`/api/v1/configmaps?fieldSelector=metadata.name%3Dc`)).body.items.map((i: any) => i.metadata.name)).toEqual(['c']);
    const bad = await get(`${CMS}?fieldSelector=data.v%3D1`);
    expect(bad).toMatchObject({ status: 400, body: { kind: 'Status', reason: 'BadRequest', message: '"data.v" is not a known field selector: only "metadata.name", "metadata.namespace"' } });
  });

  it('resourceVersion: "0" any, a number not older than it, Exact that one (410 when gone)', async () => {
    await put(cm('a'));
    const then = String(store.revision());
    await put(cm('a', '2'));
    expect((await get(`${CMS}?resourceVersion=0`)).body.items[0].data.v).toBe('2');
    expect((await get(`${CMS}?resourceVersion=${then}`)).body.items[0].data.v).toBe('2');
    const exact = await get(`${CMS}?resourceVersion=${then}&resourceVersionMatch=Exact`);
    expect(exact.body.metadata.resourceVersion).toBe(then);
    expect(exact.body.items[0].data.v).toBe('1');
    // With a limit, a version means that exact one (Kubernetes' table).
    expect((await get(`${CMS}?resourceVersion=${then}&limit=5`)).body.items[0].data.v).toBe('1');
    expect((await get(`${CMS}?resourceVersion=${store.revision() + 10}`)).body).toMatchObject({ code: 504, reason: 'Timeout' });
  });
});

describe('an expired continue token', () => {
  beforeEach(() => setup({}, 5));

  it('is 410 with a token that goes on from the latest state', async () => {
    await put(cm('a'), cm('b'), cm('c'));
    const first = await get(`${CMS}?limit=1`);
    for (let i = 0; i < 8; i++) await put(cm('b', String(i)));
    // The first page's snapshot is gone too (it would still answer, exactly).
    clock.advance(SNAPSHOT_TTL_MS);
    const expired = await get(`${CMS}?limit=1&continue=${first.body.metadata.continue}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410, metadata: { continue: expect.any(String) } });
    expect(expired.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result\./);
    const rest = await get(`${CMS}?limit=5&continue=${expired.body.metadata.continue}`);
    expect(rest.body.items.map((i: any) => `${i.metadata.name}:${i.data.v}`)).toEqual(['b:7', 'c:1']);
    expect(rest.body.metadata.resourceVersion).toBe(String(store.revision()));
    expect((await get(`${CMS}?resourceVersion=${first.body.metadata.resourceVersion}&resourceVersionMatch=Exact`)).body).toMatchObject({ code: 410, reason: 'Expired', message: expect.stringMatching(/^too old resource version/) });
  });
});

describe('watches', () => {
  beforeEach(() => setup({ maxQueuedEvents: 5, bookmarkIntervalMs: 60_000, minTimeoutMs: 1_800_000, maxTimeoutMs: 3_600_000 }, 20));

  it('without a version: ADDED for what exists, then every change as it happens', async () => {
    await put(cm('a'), cm('b'));
    const w = watch(`${CMS}?watch=1`);
    await w.opened;
    expect(w.status).toBe(200);
    await w.until(2);
    await put(cm('a', '2'));
    await objects.commit([{ op: 'delete', ref: { kind: 'ConfigMap', namespace: 'default', name: 'b' } }]);
    await w.until(4);
    expect(summary(w.lines)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']);
    expect(w.lines[3].object.metadata.resourceVersion).toBe(String(store.revision()));
    w.close();
  });

  it('from a version: every change after it; one older than the history: a single ERROR 410 event', async () => {
    await put(cm('a'));
    const from = store.revision();
    await put(cm('b'));
    const w = watch(`${CMS}?watch=true&resourceVersion=${from}`);
    await w.until(1);
    expect(summary(w.lines)).toEqual(['ADDED b']);
    w.close();
    for (let i = 0; i < 30; i++) await put(cm('c', String(i)));
    const old = watch(`${CMS}?watch=1&resourceVersion=${from}`);
    await old.untilEnded();
    expect(old.status).toBe(200);
    expect(old.lines).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', reason: 'Expired', code: 410, message: expect.stringMatching(new RegExp(`^too old resource version: ${from} \\(\\d+\\)$`)) }) }]);
  });

  it('a single object by metadata.name; label selectors turn leaving into DELETED', async () => {
    await put(cm('a', '1', { tier: 'front' }), cm('b', '1', { tier: 'front' }));
    const one = watch(`${CMS}?watch=1&fieldSelector=metadata.name%3Db`);
    const front = watch(`${CMS}?watch=1&labelSelector=tier%3Dfront`);
    await one.until(1);
    await front.until(2);
    await put(cm('a', '1', { tier: 'back' }), cm('b', '2', { tier: 'front' }));
    await one.until(2);
    await front.until(4);
    expect(summary(one.lines)).toEqual(['ADDED b', 'MODIFIED b']);
    expect(summary(front.lines)).toEqual(['ADDED a', 'ADDED b', 'DELETED a', 'MODIFIED b']);
    one.close();
    front.close();
  });

  it('bookmarks every interval and before the timeout, then ends', async () => {
    await put(cm('a'));
    const w = watch(`${CMS}?watch=1&allowWatchBookmarks=true&timeoutSeconds=150&resourceVersion=${store.revision()}`);
    await w.opened;
    await put(cm('b'));
    await w.until(1);
    // A commit of something else moves the version bookmarks carry.
    await objects.commit([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } } as AnyObject }]);
    clock.advance(60_000);
    await w.until(2);
    expect(w.lines[1]).toEqual({ type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: String(store.revision()) } } });
    clock.advance(90_000);
    await w.untilEnded();
    expect(summary(w.lines)).toEqual(['ADDED b', `BOOKMARK ${store.revision()}`, `BOOKMARK ${store.revision()}`, `BOOKMARK ${store.revision()}`]);
    expect(feed.stats().watchers).toBe(0);
    // No timer of the watch is left behind.
    expect(clock.pending()).toBe(0);
  });

  it('no bookmarks unless allowed; the default timeout is between 30 and 60 minutes', async () => {
    const w = watch(`${CMS}?watch=1&resourceVersion=${store.revision()}`);
    await w.opened;
    clock.advance(44 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.ended).toBe(false);
    // random() = 0.5: 45 minutes.
    clock.advance(60_000);
    await w.untilEnded();
    expect(w.lines).toEqual([]);
  });

  it('sendInitialEvents: the objects, then a bookmark marking their end, then the changes', async () => {
    await put(cm('a'));
    const w = watch(`${CMS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    await w.until(2);
    await put(cm('b'));
    await w.until(3);
    expect(summary(w.lines).map((s) => s.split(' ')[0])).toEqual(['ADDED', 'BOOKMARK', 'ADDED']);
    expect(w.lines[1].object.metadata).toEqual({ resourceVersion: String(store.revision() - 1), annotations: { 'k8s.io/initial-events-end': 'true' } });
    w.close();
  });

  it('refuses bad options with a Status before streaming', async () => {
    const r = await get(`${CMS}?watch=1&sendInitialEvents=true`);
    expect(r).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
    expect((await get(`${CMS}?watch=1&resourceVersion=${store.revision() + 3}`)).status).toBe(504);
    expect((await get(`${CMS}?watch=1&resourceVersion=x`)).status).toBe(400);
    expect(feed.stats().watchers).toBe(0);
  });

  it('a client that goes away is forgotten', async () => {
    const w = watch(`${CMS}?watch=1`);
    await w.opened;
    await new Promise((r) => setTimeout(r, 20));
    expect(feed.stats().watchers).toBe(1);
    w.close();
    for (let i = 0; i < 100 && feed.stats().watchers > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(feed.stats().watchers).toBe(0);
  });

  it('a client that stops reading is cut once its queue is full; the others go on', async () => {
    const reader = watch(`${CMS}?watch=1`);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET ${CMS}?watch=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    socket.pause();
    await reader.opened;
    for (let i = 0; i < 100 && feed.stats().watchers < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(feed.stats().watchers).toBe(2);
    const big = 'x'.repeat(256 * 1024);
    // One change at a time, each read by the reading client before the next: only the other falls behind.
    for (let i = 0; i < 40; i++) {
      await put(cm(`big-${i}`, big));
      await reader.until(i + 1);
    }
    expect(feed.stats().watchers).toBe(1);
    reader.close();
    socket.destroy();
  });
});
