/**
 * The object apply and the Kubernetes read/delete paths over HTTP (a real node:http server on
 * the Router, an ObjectStore on a MemoryStore): bodies, Lists, selectors and Status errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { applyObjects } from '../../src/server/k8s-api/apply.js';
import { addKubernetesRoutes, type ServedObject } from '../../src/server/k8s-api/routes.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { statusErrorFormat } from '../../src/server/k8s-api/status.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap, deployment, namespace } from '../contract/object-store.contract.js';

const TOKEN = 'admin-token';

let server: http.Server;
let base: string;
let store: MemoryStore;
let objects: ObjectStore;
/** What the server adds to objects as GET serves them (the control plane: a Node's last heartbeat). */
let served: ServedObject;
let feed: ObjectFeed;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  let n = 0;
  const clock = new ManualClock();
  objects = new ObjectStore({ store, clock, newUid: () => `uid-${++n}` });
  await ensureDefaultNamespace(objects);
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  router.add('POST', '/v1/apply', async (ctx) => applyObjects(objects, await ctx.body()), 'admin', statusErrorFormat);
  served = (o) => o;
  feed = new ObjectFeed({ objects, clock });
  feed.start();
  addKubernetesRoutes(router, objects, (o) => served(o), { feed, clock });
  server = http.createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  feed.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

async function call(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

const apply = (objectsToApply: unknown[], dryRun?: boolean) => call('POST', '/v1/apply', { objects: objectsToApply, ...(dryRun !== undefined ? { dryRun } : {}) });

describe('POST /v1/apply', () => {
  it('creates, then reports unchanged, then configured; namespace defaulted', async () => {
    const { metadata: { namespace: _ns, ...meta }, ...rest } = deployment('web') as any;
    const web = { ...rest, metadata: meta };
    const first = await apply([web, configMap('cfg', { a: '1' })]);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { kind: 'Deployment', namespace: 'default', name: 'web', action: 'created' },
      { kind: 'ConfigMap', namespace: 'default', name: 'cfg', action: 'created' },
    ]);
    const rev = store.revision();
    expect((await apply([web, configMap('cfg', { a: '1' })])).body.results.map((r: any) => r.action)).toEqual(['unchanged', 'unchanged']);
    expect(store.revision()).toBe(rev);
    expect((await apply([configMap('cfg', { a: '2' })])).body.results[0].action).toBe('configured');
  });

  it('what GET returns applies back unchanged (server-owned fields and status ignored)', async () => {
    await apply([deployment('web')]);
    await objects.commit([{ op: 'status', ref: { kind: 'Deployment', namespace: 'default', name: 'web' }, status: { replicas: 1 } }]);
    const got = await call('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(got.body.status).toEqual({ replicas: 1 });
    const rev = store.revision();
    expect((await apply([got.body])).body.results[0].action).toBe('unchanged');
    expect(store.revision()).toBe(rev);
  });

  it('creates a namespace and what goes in it in one apply, in one commit, whatever the order', async () => {
    const rev = store.revision();
    const r = await apply([configMap('cfg', { a: '1' }, 'shop'), namespace('shop')]);
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { kind: 'ConfigMap', namespace: 'shop', name: 'cfg', action: 'created' },
      { kind: 'Namespace', name: 'shop', action: 'created' },
    ]);
    expect(store.revision()).toBe(rev + 1);
  });

  it('answers every problem of every object in one 422 Status and writes nothing', async () => {
    const rev = store.revision();
    const badDeploy = deployment('web', { replicas: -1 });
    const unknownKind = { apiVersion: 'v1', kind: 'Ingress', metadata: { name: 's' } };
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi' } };
    const r = await apply([configMap('fine', { a: '1' }), badDeploy, unknownKind, node]);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
    const fields = r.body.details.causes.map((c: any) => c.field);
    expect(fields).toEqual(['objects[1].spec.replicas', 'objects[2].kind', 'objects[3].kind']);
    expect(r.body.details.causes[0].message).toMatch(/^Deployment default\/web: /);
    expect(r.body.details.causes[2].message).toMatch(/grove join/);
    expect(store.revision()).toBe(rev);
  });

  it('refuses a CronJob schedule or time zone the nodes cannot run, each cause at its field (as the client does)', async () => {
    const cron = (schedule: string, timeZone?: string) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'backup' },
      spec: { schedule, ...(timeZone ? { timeZone } : {}), jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'b', image: 'busybox:1' }] } } } } },
    });
    const rev = store.revision();
    const r = await apply([cron('61 * * * *', 'Mars/Olympus')]);
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toEqual([
      { field: 'objects[0].spec.schedule', reason: 'FieldValueInvalid', message: 'CronJob default/backup: "61 * * * *" is not a cron expression (5 fields, or 6 with seconds first)' },
      { field: 'objects[0].spec.timeZone', reason: 'FieldValueInvalid', message: 'CronJob default/backup: "Mars/Olympus" is not a known time zone (e.g. Europe/Berlin, UTC)' },
    ]);
    expect((await apply([cron('CRON_TZ=UTC 0 * * * *')])).body.details.causes[0].field).toBe('objects[0].spec.schedule');
    expect(store.revision()).toBe(rev);
    // Every write of a CronJob goes through the same rules, whatever the path.
    await expect(objects.commit([{ op: 'put', object: { ...cron('0 3 * * 1-5'), metadata: { name: 'backup', namespace: 'default' } } as never }])).resolves.toBeDefined();
    await expect(objects.commit([{ op: 'put', object: { ...cron('* * * * * * *'), metadata: { name: 'other', namespace: 'default' } } as never }])).rejects.toMatchObject({
      details: { causes: [{ field: 'spec.schedule', message: '"* * * * * * *" is not a cron expression (5 fields, or 6 with seconds first)' }] },
    });
    expect((await apply([cron('0 2 * * *', 'Europe/Berlin')])).status).toBe(200);
  });

  it('refuses a namespace that does not exist (404 Status) and duplicates (422)', async () => {
    const missing = await apply([configMap('cfg', { a: '1' }, 'nowhere')]);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', details: { name: 'nowhere', kind: 'namespaces' } });
    const twice = await apply([configMap('cfg', { a: '1' }), configMap('cfg', { a: '2' })]);
    expect(twice.status).toBe(422);
  });

  it('answers a stale resourceVersion with a 409 Conflict Status', async () => {
    await apply([deployment('web')]);
    const got = (await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body;
    await apply([deployment('web', { replicas: 3 })]);
    const r = await apply([got]);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ reason: 'Conflict', details: { name: 'web', group: 'apps', kind: 'deployments' } });
  });

  it('applies a saved object after it was deleted (uid and resourceVersion of the old one ignored)', async () => {
    await apply([deployment('web')]);
    const got = (await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body;
    await call('DELETE', '/apis/apps/v1/namespaces/default/deployments/web');
    const r = await apply([got]);
    expect(r.body.results[0].action).toBe('created');
    expect((await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' }))?.metadata.uid).not.toBe(got.metadata.uid);
  });

  it('folds a Secret\'s stringData into data and applies it again unchanged', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { user: Buffer.from('old').toString('base64'), host: Buffer.from('h').toString('base64') }, stringData: { user: 'admin' } };
    expect((await apply([secret])).body.results[0].action).toBe('created');
    const got = (await call('GET', '/api/v1/namespaces/default/secrets/db')).body;
    expect(got.data).toEqual({ user: Buffer.from('admin').toString('base64'), host: Buffer.from('h').toString('base64') });
    expect(got.stringData).toBeUndefined();
    expect((await apply([secret])).body.results[0].action).toBe('unchanged');
  });

  it('dry run answers what would happen and writes nothing', async () => {
    const rev = store.revision();
    const r = await apply([deployment('web')], true);
    expect(r.body).toEqual({ results: [{ kind: 'Deployment', namespace: 'default', name: 'web', action: 'created' }], dryRun: true });
    expect(store.revision()).toBe(rev);
  });

  it('refuses a malformed body with a 400 Status', async () => {
    const r = await call('POST', '/v1/apply', { resources: [] });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});

describe('Kubernetes read and delete paths', () => {
  beforeEach(async () => {
    await apply([
      namespace('shop'),
      deployment('web', { labels: { tier: 'front', env: 'prod' } }),
      deployment('api', { labels: { tier: 'back' } }),
      deployment('cart', { namespace: 'shop', labels: { tier: 'front' } }),
      configMap('cfg', { a: '1' }),
    ]);
  });

  it('lists a namespace, all namespaces, and cluster-scoped kinds as <Kind>List', async () => {
    const ns = await call('GET', '/apis/apps/v1/namespaces/default/deployments');
    expect(ns.status).toBe(200);
    expect(ns.body).toMatchObject({ apiVersion: 'apps/v1', kind: 'DeploymentList', metadata: { resourceVersion: String(store.revision()) } });
    expect(ns.body.items.map((i: any) => i.metadata.name)).toEqual(['api', 'web']);
    const all = await call('GET', '/apis/apps/v1/deployments');
    expect(all.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/api', 'default/web', 'shop/cart']);
    const namespaces = await call('GET', '/api/v1/namespaces');
    expect(namespaces.body.kind).toBe('NamespaceList');
    expect(namespaces.body.items.map((i: any) => i.metadata.name)).toEqual(['default', 'shop']);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps')).body.items).toHaveLength(1);
    expect((await call('GET', '/api/v1/nodes')).body).toMatchObject({ kind: 'NodeList', items: [] });
  });

  it('filters by labelSelector and refuses a bad one with 400', async () => {
    const q = (s: string) => call('GET', `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(s)}`);
    expect((await q('tier=front')).body.items.map((i: any) => i.metadata.name)).toEqual(['web', 'cart']);
    expect((await q('tier=front,env!=prod')).body.items.map((i: any) => i.metadata.name)).toEqual(['cart']);
    expect((await q('tier notin (front)')).body.items.map((i: any) => i.metadata.name)).toEqual(['api']);
    const bad = await q('tier in (front');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
  });

  it('gets one object, and answers a missing one with a NotFound Status', async () => {
    const web = await call('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(web.body).toMatchObject({ kind: 'Deployment', metadata: { name: 'web', uid: expect.any(String) } });
    const ns = await call('GET', '/api/v1/namespaces/shop');
    expect(ns.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Active' } });
    const missing = await call('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'deployments.apps "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'apps', kind: 'deployments' }, code: 404 });
    for (const path of ['/apis/apps/v1/namespaces/default/widgets', '/api/v1/namespaces/default/nodes', '/api/v1/pods/x', '/apis/apps/v2/deployments', '/api/v1/namespaces/default/pods/x/log']) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body.kind, path).toBe('Status');
    }
  });

  it('deletes an item and answers the object; a Namespace is marked Terminating', async () => {
    const del = await call('DELETE', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(del.status).toBe(200);
    expect(del.body.metadata.name).toBe('web');
    expect((await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(404);
    expect((await call('DELETE', '/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(404);
    const ns = await call('DELETE', '/api/v1/namespaces/shop');
    expect(ns.body).toMatchObject({ kind: 'Namespace', metadata: { deletionTimestamp: expect.any(String) }, status: { phase: 'Terminating' } });
    const forbidden = await call('DELETE', '/api/v1/namespaces/default');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.reason).toBe('Forbidden');
  });

  it('needs the admin token: a 401 Unauthorized Status otherwise', async () => {
    const r = await call('GET', '/api/v1/namespaces', undefined, 'wrong');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('serves objects through the server\'s overlay (item and list), the store untouched', async () => {
    served = (o) => (o.kind === 'ConfigMap' ? ({ ...o, data: { ...(o as { data?: object }).data, live: 'yes' } } as typeof o) : o);
    const item = await call('GET', '/api/v1/namespaces/default/configmaps/cfg');
    expect(item.body.data).toMatchObject({ live: 'yes' });
    expect((await call('GET', '/api/v1/configmaps')).body.items.map((i: any) => i.data.live)).toEqual(['yes']);
    expect((await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body.data).toBeUndefined();
    expect((await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'cfg' }) as { data?: object })?.data).not.toHaveProperty('live');
  });
});
