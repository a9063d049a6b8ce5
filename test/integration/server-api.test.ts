import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { ControlPlane } from '../../src/server/server.js';
import type { App } from '../../src/core/model.js';
import type { StoredNode } from '../../src/server/status-cache.js';
import type { NodeRegistration } from '../../src/server/nodes.js';
import { hashPassword } from '../../src/server/security/credentials.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { decodeBackup } from '../../src/store/backup.js';
import { app, fixtureClock } from '../unit/server-fixtures.js';
import { clustersPerTest, ADMIN, FakeNode, startCluster, waitFor, type Cluster } from './server-harness.js';

const { cluster, cleanups } = clustersPerTest();

async function node(c: Cluster, name: string): Promise<FakeNode> {
  const n = await FakeNode.connect(c.broker.url, name);
  cleanups.push(() => n.close());
  return n;
}

async function join(c: Cluster, nodeName: string, labels?: Record<string, string>) {
  const token = await c.call<{ token: string }>('POST', '/v1/tokens', {});
  expect(token.status).toBe(201);
  const res = await c.call<{ node: string; mqtt: { username: string; password: string } }>('POST', '/v1/join', { token: token.body.token, nodeName, ...(labels ? { labels } : {}) }, null);
  expect(res.status).toBe(200);
  return res.body;
}

describe('API: auth, limits, errors', () => {
  it('healthz is public; everything else needs the admin token', async () => {
    const c = await cluster();
    expect(await c.call('GET', '/healthz', undefined, null)).toMatchObject({ status: 200, body: { ok: true } });
    const none = await c.call('GET', '/v1/apps', undefined, null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('admin token') } });
    expect((await c.call('GET', '/v1/apps', undefined, ADMIN + 'x')).status).toBe(401);
    expect((await c.call('POST', '/v1/tokens', {}, null)).status).toBe(401);
    expect(await c.call('GET', '/v1/apps')).toMatchObject({ status: 200, body: [] });
  });

  it('404 for unknown routes and resources, 405 for a wrong method, 400 for bad JSON', async () => {
    const c = await cluster();
    expect((await c.call('GET', '/v1/nope')).status).toBe(404);
    expect(await c.call('GET', '/v1/apps/web')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await c.call('PUT', '/v1/apps')).status).toBe(405);
    expect(await c.call('POST', '/v1/apply', '{nope')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
    expect((await c.call('GET', '/v1/apps/Bad_Name')).status).toBe(400);
  });

  it('refuses a body over 4 MiB with 413', async () => {
    const c = await cluster();
    const started = c.store.revision();
    const big = JSON.stringify({ resources: [{ kind: 'ConfigMap', meta: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } }] });
    const res = await c.call('POST', '/v1/apply', big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'SIZE_LIMIT' } });
    expect(c.store.revision()).toBe(started);
  });

  it('GET /v1/ca: 404 without TLS, the PEM with it', async () => {
    const c = await cluster();
    expect((await c.call('GET', '/v1/ca', undefined, null)).status).toBe(404);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const t = await cluster({ extra: { caCertPem: pem } });
    const res = await t.call('GET', '/v1/ca', undefined, null);
    expect(res.status).toBe(200);
    expect(res.text).toBe(pem);
  });
});

describe('API: apply and resources', () => {
  it('apply is atomic: one bad resource and nothing is stored', async () => {
    const c = await cluster();
    const started = c.store.revision();
    const bad = app('bad');
    (bad.spec as unknown as Record<string, unknown>).replicas = 'many';
    const res = await c.call('POST', '/v1/apply', { resources: [app('web'), { kind: 'ConfigMap', meta: { name: 'c' }, data: {} }, bad] });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('resources[2].spec.replicas') } } });
    expect(c.store.revision()).toBe(started);
    expect((await c.call('GET', '/v1/apps')).body).toEqual([]);
  });

  it('an unchanged apply writes nothing', async () => {
    const c = await cluster();
    const first = await c.call<{ revision: number; results: unknown[] }>('POST', '/v1/apply', { resources: [app('web'), { kind: 'ConfigMap', meta: { name: 'c' }, data: { k: 'v' } }] });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { kind: 'App', name: 'web', action: 'created' },
      { kind: 'ConfigMap', name: 'c', action: 'created' },
    ]);
    await c.cp.settle();
    const rev = c.store.revision();
    const again = await c.call<{ revision: number; results: { action: string }[] }>('POST', '/v1/apply', { resources: [app('web'), { kind: 'ConfigMap', meta: { name: 'c' }, data: { k: 'v' } }] });
    expect(again.body.results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    expect(again.body.revision).toBe(rev);
    await c.cp.settle();
    expect(c.store.revision()).toBe(rev);
  });

  it('secrets are shown as byte lengths unless showValues=true', async () => {
    const c = await cluster();
    await c.call('POST', '/v1/apply', { resources: [{ kind: 'Secret', meta: { name: 'db' }, data: { password: 'pässword' } }] });
    const hidden = await c.call<{ data: unknown }[]>('GET', '/v1/secrets');
    expect(hidden.body[0]!.data).toEqual({ password: 9 });
    expect(hidden.text).not.toContain('pässword');
    expect((await c.call<{ data: unknown }>('GET', '/v1/secrets/db')).body.data).toEqual({ password: 9 });
    expect((await c.call<{ data: unknown }>('GET', '/v1/secrets/db?showValues=true')).body.data).toEqual({ password: 'pässword' });
    expect((await c.call('DELETE', '/v1/secrets/db')).status).toBe(200);
    expect((await c.call('GET', '/v1/secrets/db')).status).toBe(404);
  });

  it('configmaps: list, get, delete', async () => {
    const c = await cluster();
    // The server's first start wrote namespace default.
    const started = c.store.revision();
    await c.call('POST', '/v1/apply', { resources: [{ kind: 'ConfigMap', meta: { name: 'c' }, data: { k: 'v' } }] });
    expect((await c.call<unknown[]>('GET', '/v1/configmaps')).body).toHaveLength(1);
    expect((await c.call('GET', '/v1/configmaps/c')).body).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' }, meta: { revision: started + 1 } });
    expect((await c.call('DELETE', '/v1/configmaps/c')).status).toBe(200);
    expect((await c.call('DELETE', '/v1/configmaps/c')).status).toBe(404);
  });
});

describe('API: backup', () => {
  it('GET /v1/backup needs the admin token and returns the store as a checked backup file', async () => {
    const c = await cluster();
    await c.call('POST', '/v1/apply', { resources: [app('web')] });
    await c.cp.settle(); // the controller's own writes (revision, rollout record) land first
    expect((await c.call('GET', '/v1/backup', undefined, null)).status).toBe(401);
    const res = await fetch(`${c.api.url}/v1/backup`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/cbor');
    const { header, entries } = decodeBackup(new Uint8Array(await res.arrayBuffer()));
    expect(header).toMatchObject({ cluster: c.cp.cluster, revision: c.store.revision() });
    expect(entries).toEqual(await c.store.list(''));
  });
});

describe('API: tokens and join', () => {
  it('joins with a valid token, rotates credentials on a rejoin that proves the name, refuses an expired token', async () => {
    const clock = fixtureClock(Date.now());
    const registered: NodeRegistration[] = [];
    const c = await cluster({ clock, extra: { registerNode: async (r) => void registered.push(r) } });
    const token = (await c.call<{ token: string; expiresAt: string }>('POST', '/v1/tokens', { ttlSeconds: 60 })).body;
    expect(token.token).toMatch(/^grove1\.insecure\./);
    const first = await c.call<{ cluster: string; node: string; mqtt: { url: string; username: string; password: string } }>(
      'POST', '/v1/join', { token: token.token, nodeName: 'pi-1', labels: { zone: 'a' } }, null);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ cluster: 'test', node: 'pi-1', mqtt: { url: 'mqtt://grove.example:1883', username: 'node.pi-1' } });
    expect(first.body).not.toHaveProperty('caCert');
    const rec1 = (await c.store.get<StoredNode>('nodes/pi-1'))!.value;
    expect(rec1.credentialHash).toBe(hashPassword(first.body.mqtt.password));
    expect(rec1.meta.labels).toEqual({ zone: 'a' });
    expect(registered.map((r) => r.username)).toEqual(['node.pi-1']);

    const again = await c.call<{ mqtt: { password: string } }>('POST', '/v1/join', { token: token.token, nodeName: 'pi-1', credential: first.body.mqtt.password }, null);
    expect(again.status).toBe(200);
    expect(again.body.mqtt.password).not.toBe(first.body.mqtt.password);
    const rec2 = (await c.store.get<StoredNode>('nodes/pi-1'))!.value;
    expect(rec2.credentialHash).toBe(hashPassword(again.body.mqtt.password));
    expect(rec2.meta.labels).toEqual({ zone: 'a' });

    clock.advance(61_000);
    const expired = await c.call('POST', '/v1/join', { token: token.token, nodeName: 'pi-2' }, null);
    expect(expired).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED', message: 'join token expired' } } });
    const forged = await c.call('POST', '/v1/join', { token: 'grove1.insecure.00000000.' + 'a'.repeat(43), nodeName: 'pi-2' }, null);
    expect(forged.status).toBe(403);
    const badName = await c.call('POST', '/v1/join', { token: token.token, nodeName: 'Pi_2' }, null);
    expect(badName.status).toBe(400);
    expect(await c.store.get('nodes/pi-2')).toBeUndefined();
  });

  it('POST /v1/tokens defaults to 24 h and validates the TTL', async () => {
    const clock = fixtureClock(Date.parse('2025-05-01T00:00:00Z'));
    const c = await cluster({ clock });
    expect((await c.call('POST', '/v1/tokens', {})).body).toMatchObject({ expiresAt: '2025-05-02T00:00:00.000Z' });
    expect((await c.call('POST', '/v1/tokens', { ttlSeconds: -5 })).status).toBe(400);
  });
});

describe('API: nodes, pods and placement', () => {
  it('a node label PATCH moves a DaemonSet (published targets change)', async () => {
    const c = await cluster();
    await join(c, 'pi-1', { role: 'edge' });
    await join(c, 'pi-2');
    const n1 = await node(c, 'pi-1');
    const n2 = await node(c, 'pi-2');
    const ds = app('agent', { kind: 'DaemonSet', nodeSelector: { role: 'edge' } });
    await c.call('POST', '/v1/apply', { resources: [ds] });
    await waitFor(() => n1.latest()?.pods.length === 1, 'pod on pi-1');
    expect(n2.latest()?.pods ?? []).toEqual([]);

    const patched = await c.call<{ labels: Record<string, string> }>('PATCH', '/v1/nodes/pi-2', { labels: { role: 'edge' } });
    expect(patched.body.labels).toEqual({ role: 'edge', 'kubernetes.io/hostname': 'pi-2' });
    await waitFor(() => n2.latest()?.pods.length === 1, 'pod on pi-2');
    await c.call('PATCH', '/v1/nodes/pi-1', { labels: { role: null } });
    await waitFor(() => n1.latest()?.pods.length === 0, 'pod gone from pi-1');
    const pods = (await c.call<{ node: string }[]>('GET', '/v1/pods?app=agent')).body;
    expect(pods.map((p) => p.node)).toEqual(['pi-2']);

    for (const n of [n1, n2]) {
      const revs = n.targets.map((t) => t.revision);
      for (let i = 1; i < revs.length; i++) expect(revs[i]!).toBeGreaterThan(revs[i - 1]!);
    }
    expect((await c.call('PATCH', '/v1/nodes/ghost', { cordoned: true })).status).toBe(404);
    expect((await c.call('PATCH', '/v1/nodes/pi-1', { labels: { 'bad key!': 'x' } })).status).toBe(400);
    expect((await c.call('PATCH', '/v1/nodes/pi-1', { cordoned: 'yes' })).status).toBe(400);
  });

  it('cordon stops new placements', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    await join(c, 'pi-2');
    await c.call('PATCH', '/v1/nodes/pi-1', { cordoned: true });
    await c.call('POST', '/v1/apply', { resources: [app('web', { replicas: 2 })] });
    await c.cp.settle();
    const pods = (await c.call<{ node: string }[]>('GET', '/v1/pods')).body;
    expect(pods.map((p) => p.node)).toEqual(['pi-2', 'pi-2']);
    expect((await c.call('GET', '/v1/nodes/pi-1')).body).toMatchObject({ cordoned: true, pods: [] });
  });

  it('pods: Pending until reported, then the node’s phase; Unknown when the node is not ready', async () => {
    const c = await cluster({ extra: { nodeGraceMs: 300, sweepIntervalMs: 50 } });
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    await c.call('POST', '/v1/apply', { resources: [app('web')] });
    const target = await waitFor(() => n1.latest()?.pods.length === 1 && n1.latest(), 'target');
    const [pod] = (await c.call<{ phase: string; revision: number }[]>('GET', '/v1/pods')).body;
    expect(pod).toMatchObject({ phase: 'Unknown' }); // node never reported: not ready
    await n1.status();
    await waitFor(async () => (await c.call<{ ready: boolean }>('GET', '/v1/nodes/pi-1')).body.ready, 'node ready');
    expect((await c.call<{ phase: string }[]>('GET', '/v1/pods')).body[0]).toMatchObject({ phase: 'Pending', ready: false });

    const p = target.pods[0]!;
    await n1.status({
      observedRevision: target.revision,
      pods: [{ name: p.name, app: 'web', templateHash: p.templateHash, phase: 'Running', ready: true, restarts: 2, containers: [{ name: 'main', state: 'running', oomKilled: false, restarts: 2 }] }],
    });
    const running = await waitFor(async () => {
      const [x] = (await c.call<Record<string, unknown>[]>('GET', '/v1/pods?node=pi-1')).body;
      return x?.phase === 'Running' && x;
    }, 'Running');
    expect(running).toMatchObject({ name: p.name, app: 'web', node: 'pi-1', ready: true, restarts: 2, revision: 1, templateHash: p.templateHash, containers: [{ name: 'main', state: 'running', oomKilled: false }] });
    expect(running.createdAt).toEqual(expect.any(String));

    const detail = (await c.call<Record<string, unknown>>('GET', '/v1/nodes/pi-1')).body;
    expect(detail).toMatchObject({ name: 'pi-1', ready: true, online: true, pods: [p.name], observedRevision: target.revision, targetRevision: target.revision, facts: { arch: 'arm64' } });
    const appView = (await c.call<{ pods: unknown }>('GET', '/v1/apps/web')).body;
    expect(appView.pods).toEqual({ desired: 1, current: 1, ready: 1, upToDate: 1 });

    // Heartbeats stop: the node goes NotReady and its pods Unknown.
    await waitFor(async () => (await c.call<{ phase: string }[]>('GET', '/v1/pods')).body[0]?.phase === 'Unknown', 'Unknown');
    // The store learns it at the next sweep: exactly one transition write.
    await waitFor(async () => (await c.store.get<StoredNode>('nodes/pi-1'))!.value.ready === false, 'NotReady stored');
  });

  it('deleting an app removes its pods from the nodes', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    await c.call('POST', '/v1/apply', { resources: [app('web', { replicas: 2 })] });
    await waitFor(() => n1.latest()?.pods.length === 2, 'two pods');
    expect((await c.call('DELETE', '/v1/apps/web')).status).toBe(200);
    await waitFor(() => n1.latest()?.pods.length === 0, 'no pods');
    expect(await c.store.list('pods/')).toEqual([]);
  });
});

describe('targets across restarts', () => {
  it('re-publishes retained targets at restart without bumping revisions', async () => {
    const store = new MemoryStore();
    const c1 = await startCluster({ store });
    await join(c1, 'pi-1');
    await c1.call('POST', '/v1/apply', { resources: [app('web')] });
    const n1 = await FakeNode.connect(c1.broker.url, 'pi-1');
    const before = await waitFor(() => n1.latest()?.pods.length === 1 && n1.latest(), 'target');
    await n1.close();
    await c1.cp.settle();
    const rev = store.revision();
    // A whole new server and a fresh broker (no retained messages) on the same store.
    await c1.close();
    const c2 = await cluster({ store });
    const late = await node(c2, 'pi-1');
    const after = await waitFor(() => late.latest(), 'retained target');
    expect(after).toEqual(before);
    expect(store.revision()).toBe(rev);
    // And a real change afterwards gets a higher revision.
    await c2.call('POST', '/v1/apply', { resources: [app('web', { replicas: 2 })] });
    const next = await waitFor(() => late.latest()?.pods.length === 2 && late.latest(), 'next target');
    expect(next.revision).toBeGreaterThan(before.revision);
  });
});

describe('logs over MQTT', () => {
  it('streams NDJSON from the node, for a pod and for an app', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    n1.answerLogs((req) => [
      { schema: 1, id: req.id, seq: 0, done: false, lines: [{ time: '2025-05-01T00:00:00.000Z', stream: 'stdout', text: `hello from ${req.params.pod}`, container: 'main' }] },
      { schema: 1, id: req.id, seq: 1, done: true, lines: [{ time: '2025-05-01T00:00:01.000Z', stream: 'stderr', text: `tail=${req.params.tail}`, container: 'main' }] },
    ]);
    await c.call('POST', '/v1/apply', { resources: [app('web', { replicas: 2 })] });
    const t = await waitFor(() => n1.latest()?.pods.length === 2 && n1.latest(), 'pods');
    const pod = t.pods[0]!.name;
    const one = await c.call('GET', `/v1/logs?pod=${pod}&tail=5`);
    expect(one.status).toBe(200);
    expect(one.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { pod, container: 'main', time: '2025-05-01T00:00:00.000Z', stream: 'stdout', text: `hello from ${pod}` },
      { pod, container: 'main', time: '2025-05-01T00:00:01.000Z', stream: 'stderr', text: 'tail=5' },
    ]);
    const all = await c.call('GET', '/v1/logs?app=web');
    const lines = all.text.trim().split('\n').map((l) => JSON.parse(l) as { pod: string });
    expect(new Set(lines.map((l) => l.pod))).toEqual(new Set(t.pods.map((p) => p.name)));
    expect(lines).toHaveLength(4);
    expect((await c.call('GET', '/v1/logs')).status).toBe(400);
    expect((await c.call('GET', '/v1/logs?pod=nope-123456-abcde')).status).toBe(404);
  });

  it('a node that does not answer gives 503 with a clear message', async () => {
    const c = await cluster({ extra: { rpcTimeoutMs: 200 } });
    await join(c, 'pi-1');
    await c.call('POST', '/v1/apply', { resources: [app('web')] });
    await c.cp.settle();
    const [pod] = (await c.call<{ name: string }[]>('GET', '/v1/pods')).body;
    const res = await c.call('GET', `/v1/logs?pod=${pod!.name}`);
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'NODE_UNAVAILABLE', message: 'node pi-1 did not answer (offline?)' } } });
  });
});

describe('apps view', () => {
  it('lists apps with a pods summary', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    await c.call('POST', '/v1/apply', { resources: [app('web', { replicas: 3 })] });
    await c.cp.settle();
    const [web] = (await c.call<(App & { pods: unknown })[]>('GET', '/v1/apps')).body;
    expect(web).toMatchObject({ kind: 'App', generation: 1, meta: { name: 'web' }, pods: { desired: 3, current: 3, ready: 0, upToDate: 3 } });
  });
});

describe('ControlPlane MQTT connection', () => {
  it('fails start() when the broker refuses the server credentials', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: 'test', authenticate: async () => false, logger: silentLogger() });
    cleanups.push(() => broker.close());
    const cp = new ControlPlane({ store: new MemoryStore(), cluster: 'test', mqtt: { url: broker.url, password: 'wrong' }, logger: silentLogger(), adminToken: ADMIN, brokerUrlForNodes: broker.url });
    await expect(cp.start()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await cp.stop();
  });

  it('uses the injected connect factory as grove-server', async () => {
    const seen: { url: string; username?: string; clientId?: string }[] = [];
    const c = await cluster({
      extra: {
        connect: async (url, options) => {
          seen.push({ url, ...(options.username ? { username: options.username } : {}), ...(options.clientId ? { clientId: options.clientId } : {}) });
          return mqtt.connectAsync(url, options);
        },
      },
    });
    expect(seen).toEqual([{ url: c.broker.url, username: 'grove-server', clientId: 'grove-server' }]);
  });
});
