/**
 * The discovery, OpenAPI and Table answers over HTTP (the Router on node:http, an ObjectStore on
 * a MemoryStore): content types, ETags, 406 for protobuf-only clients, Tables for kubectl get.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { addKubernetesRoutes } from '../../src/server/k8s-api/routes.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap } from '../contract/object-store.contract.js';

const TOKEN = 'admin-token';
const NOW = new Date('2026-03-01T12:00:00Z');
let server: http.Server;
let base: string;
let store: MemoryStore;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  const clock = new ManualClock();
  const objects = new ObjectStore({ store, clock, newUid: () => 'uid-1' });
  await ensureDefaultNamespace(objects);
  await objects.commit([{ op: 'put', object: configMap('settings', { a: '1' }) }]);
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  const feed = new ObjectFeed({ objects, clock });
  feed.start();
  addKubernetesRoutes(router, objects, (o) => o, { feed, clock }, { now: () => NOW, discovery: { groveVersion: '9.9.9', platform: 'linux/arm64' } });
  server = http.createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

async function get(path: string, headers: Record<string, string> = {}, token: string | null = TOKEN) {
  const res = await fetch(base + path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), etag: res.headers.get('etag'), body, json: () => JSON.parse(body.toString()) as Record<string, any> };
}

describe('discovery routes', () => {
  it('/version is public (as in Kubernetes), legacy discovery needs the token, both answer JSON', async () => {
    expect((await get('/api', {}, null)).status).toBe(401);
    expect((await get('/version', {}, null)).json()).toMatchObject({ gitVersion: 'v1.32.0+grove.9.9.9' });
    expect((await get('/version')).json()).toMatchObject({ gitVersion: 'v1.32.0+grove.9.9.9', platform: 'linux/arm64' });
    expect((await get('/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((await get('/apis')).json().groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'batch', 'discovery.k8s.io', 'networking.k8s.io', 'storage.k8s.io']);
    expect((await get('/apis/apps')).json()).toMatchObject({ kind: 'APIGroup', name: 'apps' });
    expect((await get('/apis/batch/v1')).json().resources.map((r: { name: string }) => r.name)).toEqual(['cronjobs', 'jobs']);
    const missing = await get('/apis/policy/v1');
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  it('aggregated discovery when asked, labelled so client-go recognises it', async () => {
    const res = await get('/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    expect(res.type).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(res.json()).toMatchObject({ kind: 'APIGroupDiscoveryList', items: [{ metadata: { name: 'apps' } }, { metadata: { name: 'batch' } }, { metadata: { name: 'discovery.k8s.io' } }, { metadata: { name: 'networking.k8s.io' } }, { metadata: { name: 'storage.k8s.io' } }] });
  });

  it('OpenAPI: the v3 index points at documents by hash; an unchanged document revalidates to 304', async () => {
    const index = (await get('/openapi/v3')).json();
    const url: string = index.paths['apis/apps/v1'].serverRelativeURL;
    const doc = await get(url);
    expect(doc.json().components.schemas).toHaveProperty(['io.k8s.api.apps.v1.Deployment']);
    expect(url).toContain(`hash=${doc.etag!.slice(1, -1)}`);
    const again = await get(url, { 'if-none-match': doc.etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const proto = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(proto.type).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(proto.body.subarray(0, 5)).toEqual(Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30])); // field 1: "2.0"
    expect(proto.etag).not.toBe((await get('/openapi/v2')).etag);
  });
});

describe('object GETs', () => {
  const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

  it("answer kubectl get's Table for lists and single objects, the List or object to plain JSON clients", async () => {
    const list = await get('/api/v1/namespaces/default/configmaps', { accept: TABLE });
    expect(list.type).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(list.json()).toMatchObject({ kind: 'Table', metadata: { resourceVersion: expect.any(String) }, rows: [{ cells: ['settings', 1, expect.any(String)], object: { kind: 'PartialObjectMetadata' } }] });
    const one = await get('/api/v1/namespaces/default/configmaps/settings?includeObject=Object', { accept: TABLE });
    expect(one.json().rows[0].object).toMatchObject({ kind: 'ConfigMap', data: { a: '1' } });
    expect((await get('/api/v1/namespaces/default/configmaps')).json()).toMatchObject({ kind: 'ConfigMapList' });
    expect((await get('/api/v1/namespaces?includeObject=All', { accept: TABLE })).status).toBe(400);
  });

  it('refuse a client that accepts only protobuf with a 406 Status, anywhere under /api and /apis', async () => {
    for (const path of ['/api/v1/namespaces/default/configmaps', '/apis/apps/v1/deployments', '/api']) {
      const res = await get(path, { accept: 'application/vnd.kubernetes.protobuf' });
      expect(res.status, path).toBe(406);
      expect(res.json()).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', code: 406 });
    }
  });
});
