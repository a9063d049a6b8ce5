/**
 * The Kubernetes write paths over HTTP (a real node:http server on the Router, an ObjectStore on
 * a MemoryStore): create, update, the four patch types, status and scale, DeleteOptions, dryRun,
 * fieldValidation and bad input, each answered as the API server would and changing nothing
 * when it fails.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { addKubernetesRoutes } from '../../src/server/k8s-api/routes.js';
import { garbageCollector } from '../../src/server/controllers/gc.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { ALL_KINDS } from '../../src/core/objects/kinds.js';
import { ManualClock } from '../support/manual-clock.js';
import { configMap, deployment } from '../contract/object-store.contract.js';

const TOKEN = 'admin-token';
let server: http.Server;
let base: string;
let store: MemoryStore;
let objects: ObjectStore;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  let n = 0;
  const clock = new ManualClock();
  objects = new ObjectStore({ store, clock, newUid: () => `uid-${++n}` });
  await ensureDefaultNamespace(objects);
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN, maxBodyBytes: 64 * 1024 });
  const feed = new ObjectFeed({ objects, clock });
  feed.start();
  addKubernetesRoutes(router, objects, (o) => o, { feed, clock });
  server = http.createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

interface Reply {
  status: number;
  body: any;
  warnings: string | null;
}

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'user-agent': 'kubectl/v1.32.0 (linux/amd64)', ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json(), warnings: res.headers.get('warning') };
}

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

/** Runs the garbage collector until it has nothing left to do (as the controller loop would). */
async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const snapshot: Record<string, AnyObject[]> = {};
    for (const info of ALL_KINDS) snapshot[info.kind] = (await objects.list(info.kind)).items as AnyObject[];
    const { changes } = garbageCollector().reconcile({ objects: snapshot } as never);
    if (changes.length === 0) return;
    await objects.commit(changes);
  }
}

describe('create and update', () => {
  it('POST creates (201), a second time is 409 AlreadyExists; the namespace comes from the path', async () => {
    const { metadata, ...rest } = configMap('cfg', { a: '1' }) as any;
    const created = await call('POST', CONFIGMAPS, { ...rest, metadata: { name: metadata.name } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default', uid: expect.any(String), resourceVersion: expect.any(String) }, data: { a: '1' } });
    expect(created.body.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
    const again = await call('POST', CONFIGMAPS, configMap('cfg', { a: '2' }));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', message: 'configmaps "cfg" already exists' });
  });

  it('PUT replaces; a stale resourceVersion is 409 Conflict with Kubernetes’ message; none is unconditional', async () => {
    const created = (await call('POST', CONFIGMAPS, configMap('cfg', { a: '1' }))).body;
    const updated = await call('PUT', `${CONFIGMAPS}/cfg`, { ...created, data: { a: '2' } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toEqual({ a: '2' });
    const stale = await call('PUT', `${CONFIGMAPS}/cfg`, { ...created, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again');
    const { resourceVersion: _rv, ...meta } = created.metadata;
    expect((await call('PUT', `${CONFIGMAPS}/cfg`, { ...created, metadata: meta, data: { a: '4' } })).body.data).toEqual({ a: '4' });
    expect((await call('PUT', `${CONFIGMAPS}/nope`, configMap('nope', {}))).status).toBe(404);
  });

  it('refuses a body that does not match the path, malformed JSON and too-large bodies; nothing changes', async () => {
    const rev = store.revision();
    const wrongName = await call('PUT', `${CONFIGMAPS}/cfg`, configMap('other', {}));
    expect(wrongName).toMatchObject({ status: 400, body: { reason: 'BadRequest', message: 'the name of the object (other) does not match the name on the URL (cfg)' } });
    expect((await call('POST', CONFIGMAPS, configMap('cfg', {}, 'kube-system'))).body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    expect((await call('POST', CONFIGMAPS, { ...deployment('web'), metadata: { name: 'web' } })).body.message).toContain('does not match the expected API version (v1)');
    expect((await call('POST', CONFIGMAPS, '{"kind": "ConfigMap",')).body).toMatchObject({ reason: 'BadRequest', message: expect.stringContaining('not valid JSON') });
    const huge = await call('POST', CONFIGMAPS, configMap('big', { a: 'x'.repeat(70 * 1024) }));
    expect(huge).toMatchObject({ status: 413, body: { reason: 'RequestEntityTooLarge', message: 'request body larger than 65536 bytes' } });
    expect(store.revision()).toBe(rev);
  });

  it('fieldValidation: Strict names unknown and duplicate fields (400), Warn drops them with Warning headers, Ignore drops them', async () => {
    const body = JSON.stringify({ ...configMap('cfg', { a: '1' }), colour: 'red' }).replace('"data":', '"data":{"a":"0"},"data":');
    const strict = await call('POST', `${CONFIGMAPS}?fieldValidation=Strict`, body);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "colour", duplicate field "data"');
    const warn = await call('POST', `${CONFIGMAPS}?fieldValidation=Warn`, body);
    expect(warn.status, JSON.stringify(warn.body)).toBe(201);
    expect(warn.warnings).toBe('299 - "unknown field \\"colour\\"", 299 - "duplicate field \\"data\\""');
    expect(warn.body.colour).toBeUndefined();
    expect((await call('POST', `${CONFIGMAPS}?fieldValidation=Ignore`, { ...configMap('cfg2', {}), colour: 'red' })).status).toBe(201);
    // A field Grove knows and refuses is refused whatever the mode.
    const refused = await call('POST', `${DEPLOYMENTS}?fieldValidation=Ignore`, { ...deployment('web'), spec: { ...(deployment('web') as any).spec, template: { ...(deployment('web') as any).spec.template, spec: { ...(deployment('web') as any).spec.template.spec, overhead: {} } } } });
    expect(refused).toMatchObject({ status: 422, body: { reason: 'Invalid', details: { causes: [{ field: 'spec.template.spec.overhead' }] } } });
  });

  it('dryRun=All answers as if and writes nothing', async () => {
    const rev = store.revision();
    const dry = await call('POST', `${CONFIGMAPS}?dryRun=All`, configMap('cfg', { a: '1' }));
    expect(dry.status).toBe(201);
    expect(dry.body.metadata.name).toBe('cfg');
    expect(store.revision()).toBe(rev);
    expect((await call('GET', `${CONFIGMAPS}/cfg`)).status).toBe(404);
  });
});

describe('patch', () => {
  beforeEach(async () => {
    expect((await call('POST', DEPLOYMENTS, deployment('web', { image: 'nginx:1.27' }))).status).toBe(201);
  });

  it('strategic merge (kubectl set image), merge and JSON patches', async () => {
    const smp = await call('PATCH', `${DEPLOYMENTS}/web`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.28' }] } } } }, 'application/strategic-merge-patch+json');
    expect(smp.status).toBe(200);
    expect(smp.body.spec.template.spec.containers).toEqual([expect.objectContaining({ name: 'main', image: 'nginx:1.28' })]);
    expect(smp.body.metadata.generation).toBe(2);
    const merge = await call('PATCH', `${DEPLOYMENTS}/web`, { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
    expect(merge.body.metadata.labels).toMatchObject({ tier: 'front' });
    const json = await call('PATCH', `${DEPLOYMENTS}/web`, [{ op: 'test', path: '/spec/replicas', value: 1 }, { op: 'replace', path: '/spec/replicas', value: 3 }], 'application/json-patch+json');
    expect(json.body.spec.replicas).toBe(3);
    const failed = await call('PATCH', `${DEPLOYMENTS}/web`, [{ op: 'test', path: '/spec/replicas', value: 1 }], 'application/json-patch+json');
    expect(failed).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    expect((await call('PATCH', `${DEPLOYMENTS}/web`, {}, 'text/plain')).status).toBe(415);
  });

  it('a patch producing an invalid object is 422 naming the field, and changes nothing', async () => {
    const rev = store.revision();
    const bad = await call('PATCH', `${DEPLOYMENTS}/web`, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    expect(bad).toMatchObject({ status: 422, body: { reason: 'Invalid', details: { causes: [{ field: 'spec.replicas' }] } } });
    expect(store.revision()).toBe(rev);
  });

  it('server-side apply: creates, records the manager, answers conflicts as 409, takes fields with force', async () => {
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { a: '1' } };
    const created = await call('PATCH', `${CONFIGMAPS}/ssa?fieldManager=kubectl`, config, 'application/apply-patch+yaml');
    expect(created.status).toBe(201);
    expect(created.body.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
    await call('PATCH', `${CONFIGMAPS}/ssa?fieldManager=other`, { data: { a: '2' } }, 'application/merge-patch+json');
    const conflict = await call('PATCH', `${CONFIGMAPS}/ssa?fieldManager=kubectl`, config, 'application/apply-patch+yaml');
    expect(conflict).toMatchObject({ status: 409, body: { reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "other" using v1: .data.a', details: { causes: [{ reason: 'FieldManagerConflict', field: '.data.a' }] } } });
    const forced = await call('PATCH', `${CONFIGMAPS}/ssa?fieldManager=kubectl&force=true`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n', 'application/apply-patch+yaml');
    expect(forced.status).toBe(200);
    expect(forced.body.data).toEqual({ a: '1' });
    expect(forced.body.metadata.managedFields.map((e: { manager: string }) => e.manager)).toEqual(['kubectl']);
    expect((await call('PATCH', `${CONFIGMAPS}/ssa`, config, 'application/apply-patch+yaml')).body.message).toContain('requires a fieldManager');
  });
});

describe('status and scale subresources', () => {
  beforeEach(async () => {
    expect((await call('POST', DEPLOYMENTS, deployment('web'))).status).toBe(201);
  });

  it('the object ignores status; the status subresource writes only status', async () => {
    const got = (await call('GET', `${DEPLOYMENTS}/web`)).body;
    const viaObject = await call('PUT', `${DEPLOYMENTS}/web`, { ...got, status: { replicas: 9 } });
    expect(viaObject.body.status).toBeUndefined();
    const viaStatus = await call('PATCH', `${DEPLOYMENTS}/web/status`, { status: { replicas: 2 }, spec: { replicas: 7 } }, 'application/merge-patch+json');
    expect(viaStatus.body.status).toEqual({ replicas: 2 });
    expect(viaStatus.body.spec.replicas).toBe(1);
    expect((await call('GET', `${CONFIGMAPS}/x/status`)).status).toBe(404);
  });

  it('scale: GET the Scale, PATCH and PUT replicas (kubectl scale)', async () => {
    const scale = await call('GET', `${DEPLOYMENTS}/web/scale`);
    expect(scale.body).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=web' } });
    const patched = await call('PATCH', `${DEPLOYMENTS}/web/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    expect(patched.body.spec.replicas).toBe(3);
    expect((await call('GET', `${DEPLOYMENTS}/web`)).body.spec.replicas).toBe(3);
    const put = await call('PUT', `${DEPLOYMENTS}/web/scale`, { ...patched.body, spec: { replicas: 0 } });
    expect(put.body.spec.replicas).toBe(0);
    expect((await call('PUT', `${DEPLOYMENTS}/web/scale`, { ...patched.body, spec: { replicas: 5 } })).status).toBe(409);
    expect((await call('PUT', `${DEPLOYMENTS}/web/scale`, { spec: { replicas: -2 } })).body).toMatchObject({ reason: 'Invalid', details: { causes: [{ field: 'spec.replicas' }] } });
    expect((await call('GET', `${CONFIGMAPS}/x/scale`)).status).toBe(404);
  });
});

describe('delete', () => {
  const owned = (name: string, owner: { uid: string }) => ({ ...configMap(name, {}), metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner.uid }] } });

  it('Foreground keeps the owner (deletionTimestamp, finalizer) until its dependents are gone', async () => {
    const web = (await call('POST', DEPLOYMENTS, deployment('web'))).body;
    await call('POST', CONFIGMAPS, owned('dep', web.metadata));
    const marked = await call('DELETE', `${DEPLOYMENTS}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' });
    expect(marked.status).toBe(200);
    expect(marked.body.metadata).toMatchObject({ deletionTimestamp: expect.any(String), finalizers: ['foregroundDeletion'] });
    expect((await call('GET', `${DEPLOYMENTS}/web`)).status).toBe(200);
    await collect();
    expect((await call('GET', `${CONFIGMAPS}/dep`)).status).toBe(404);
    expect((await call('GET', `${DEPLOYMENTS}/web`)).status).toBe(404);
  });

  it('Orphan releases the dependents; Background leaves them to the collector', async () => {
    const web = (await call('POST', DEPLOYMENTS, deployment('web'))).body;
    await call('POST', CONFIGMAPS, owned('dep', web.metadata));
    expect((await call('DELETE', `${DEPLOYMENTS}/web?propagationPolicy=Orphan`)).status).toBe(200);
    await collect();
    const dep = await call('GET', `${CONFIGMAPS}/dep`);
    expect(dep.status).toBe(200);
    expect(dep.body.metadata.ownerReferences).toBeUndefined();
  });

  it('preconditions, dryRun and collection delete by label', async () => {
    const cfg = (await call('POST', CONFIGMAPS, configMap('cfg', {}))).body;
    const wrong = await call('DELETE', `${CONFIGMAPS}/cfg`, { preconditions: { uid: 'someone-else' } });
    expect(wrong).toMatchObject({ status: 409, body: { reason: 'Conflict', message: expect.stringContaining('Precondition failed: UID in precondition: someone-else') } });
    expect((await call('DELETE', `${CONFIGMAPS}/cfg?dryRun=All`)).status).toBe(200);
    expect((await call('GET', `${CONFIGMAPS}/cfg`)).status).toBe(200);
    expect((await call('DELETE', `${CONFIGMAPS}/cfg`, { preconditions: { uid: cfg.metadata.uid, resourceVersion: cfg.metadata.resourceVersion } })).status).toBe(200);
    for (const [name, app] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) await call('POST', CONFIGMAPS, { ...configMap(name!, {}), metadata: { name, labels: { app } } });
    const deleted = await call('DELETE', `${CONFIGMAPS}?labelSelector=app%3Dx`);
    expect(deleted.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['a', 'b']);
    expect((await call('GET', CONFIGMAPS)).body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['c']);
  });
});
