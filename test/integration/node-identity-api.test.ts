/**
 * Node identity through the real HTTP API, control plane and embedded broker (issue 12,
 * defects 2, 4 and 8): a join token cannot take over a live node, tokens are listable,
 * revocable and use-limited, a deleted node loses its broker login and its retained topics,
 * its pods move, a node's self-reported labels attract nothing, failed joins are logged and
 * rate-limited per address, and the admin token rotates.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { joinCluster, nodeHttpFetch } from '../../agent/src/agent/join-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { startApiServer } from '../../src/server/api.js';
import { startEmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { JoinFailureLimiter } from '../../src/server/join-failures.js';
import { createAuthenticator, nodeUsername, SERVER_USERNAME, storeNodeLookup } from '../../src/server/security/credentials.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { captureLog } from '../support/log-capture.js';
import { clustersPerTest, isReadyNode, listNodes, listPods, workload, ADMIN, CLUSTER, FakeNode, waitFor, type Cluster } from './server-harness.js';

const { cluster, cleanups } = clustersPerTest();

interface Joined {
  node: string;
  mqtt: { url: string; username: string; password: string };
}

async function token(c: Cluster, body: Record<string, unknown> = {}): Promise<{ token: string; id: string }> {
  const res = await c.call<{ token: string; id: string }>('POST', '/v1/tokens', body);
  expect(res.status).toBe(201);
  return res.body;
}

function join(c: Cluster, body: Record<string, unknown>) {
  return c.call<Joined & { error?: { code: string; message: string } }>('POST', '/v1/join', body, null);
}

function facts(o: Partial<NodeFacts> = {}): NodeFacts {
  return { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1024 ** 3, memoryAvailableBytes: 800 * 1024 ** 2, diskFreeBytes: 1024 ** 3, kernel: '6.6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: '0.1.0', labels: {}, ...o };
}

/** Retained messages a fresh subscriber gets on a node's target and config topics. */
async function retained(url: string, node: string): Promise<string[]> {
  const client = await mqtt.connectAsync(url, { username: nodeUsername(node), password: 'x', protocolVersion: 4, reconnectPeriod: 0 });
  const seen: string[] = [];
  client.on('message', (topic, payload) => {
    if (payload.length > 0) seen.push(topic);
  });
  const t = topicsFor(CLUSTER, node);
  await client.subscribeAsync([t.target, t.config], { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await client.endAsync(true);
  return seen;
}

describe('joining under a taken name', () => {
  it('refuses a valid token for a live node, accepts the node\'s credential, and frees the name on delete', async () => {
    const c = await cluster();
    const { token: t } = await token(c);
    const first = await join(c, { token: t, nodeName: 'pi-3' });
    expect(first.status).toBe(200);

    const impostor = await join(c, { token: t, nodeName: 'pi-3' });
    expect(impostor).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', message: 'node pi-3 already exists: delete it first (grove node delete pi-3) or join with its current credential' } } });
    expect(impostor.text).not.toContain('configKey');

    const owner = await join(c, { token: t, nodeName: 'pi-3', credential: first.body.mqtt.password });
    expect(owner.status).toBe(200);
    // The old credential is spent: it proves nothing any more.
    expect((await join(c, { token: t, nodeName: 'pi-3', credential: first.body.mqtt.password })).status).toBe(409);

    expect(await c.call('DELETE', '/v1/nodes/pi-3')).toMatchObject({ status: 200, body: { node: 'pi-3', deleted: true } });
    expect((await c.call('GET', '/api/v1/nodes/pi-3')).status).toBe(404);
    expect((await c.call('DELETE', '/v1/nodes/pi-3')).status).toBe(404);
    expect((await c.call('DELETE', '/v1/nodes/pi-3', undefined, null)).status).toBe(401);
    expect((await join(c, { token: t, nodeName: 'pi-3' })).status).toBe(200);
  });

  it('a join whose answer was lost is repeated by the join client and accepted (it proposed its credential)', async () => {
    const c = await cluster();
    const { token: t } = await token(c);
    let dropped = false;
    const config = await joinCluster({
      serverUrl: c.api.url,
      token: t,
      nodeName: 'pi-4',
      dataDir: '/nonexistent',
      persist: false,
      sleep: async () => undefined,
      fetch: async (request) => {
        const res = await nodeHttpFetch(request);
        if (request.method === 'POST' && !dropped) {
          dropped = true; // the server committed the join; its answer never arrives
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return res;
      },
    });
    expect(dropped).toBe(true);
    expect(config.node).toBe('pi-4');
    const nodes = (await listNodes(c)).map((n) => n.metadata.name);
    expect(nodes).toEqual(['pi-4']);
  });
});

describe('join tokens: list, revoke, uses', () => {
  it('a --uses 1 token joins once; a revoked token is refused; the list never shows secrets', async () => {
    const c = await cluster();
    const once = await token(c, { ttlSeconds: 600, uses: 1 });
    const plain = await token(c, { ttlSeconds: 600 });
    expect((await join(c, { token: once.token, nodeName: 'a' })).status).toBe(200);
    expect(await join(c, { token: once.token, nodeName: 'b' })).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED', message: 'join token used up' } } });

    const list = await c.call<{ id: string; usesLeft: number | null; createdAt: string; expiresAt: string }[]>('GET', '/v1/tokens');
    expect(list.body.map((t) => [t.id, t.usesLeft])).toEqual(expect.arrayContaining([[once.id, 0], [plain.id, null]]));
    for (const t of [once, plain]) expect(list.text).not.toContain(t.token.split('.')[3]);
    expect(list.text).not.toContain('secretHash');
    expect((await c.call('GET', '/v1/tokens', undefined, null)).status).toBe(401);

    expect(await c.call('DELETE', `/v1/tokens/${plain.id}`)).toMatchObject({ status: 200, body: { id: plain.id, revoked: true } });
    expect(await join(c, { token: plain.token, nodeName: 'c' })).toMatchObject({ status: 403, body: { error: { message: 'join token not recognised' } } });
    expect((await c.call('DELETE', `/v1/tokens/${plain.id}`)).status).toBe(404);
    expect((await c.call('DELETE', '/v1/tokens/not-an-id')).status).toBe(400);
    expect((await c.call('POST', '/v1/tokens', { uses: 0 })).status).toBe(400);
    expect((await c.call('POST', '/v1/tokens', { uses: 'many' })).status).toBe(400);
  });
});

describe('grove node delete', () => {
  it('refuses the deleted node\'s MQTT login, ends its session, clears its retained topics and moves its pods', async () => {
    const store = new MemoryStore();
    await store.open();
    const server = { username: SERVER_USERNAME, password: 'server-password' } as const;
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: CLUSTER, authenticate: createAuthenticator(server, storeNodeLookup(store)), logger: silentLogger() });
    cleanups.push(() => broker.close());
    const c = await cluster({ store, broker, extra: { onNodeDeleted: (n) => void broker.disconnect(nodeUsername(n)) } });
    const { token: t } = await token(c);
    const a = (await join(c, { token: t, nodeName: 'node-a' })).body;
    const b = (await join(c, { token: t, nodeName: 'node-b' })).body;
    const session = await mqtt.connectAsync(broker.url, { username: a.mqtt.username, password: a.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const targets: string[] = [];
    session.on('message', (topic, payload) => payload.length > 0 && targets.push(topic));
    await session.subscribeAsync(topicsFor(CLUSTER, 'node-a').target, { qos: 1 });

    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    const placed = async () => (await listPods(c, '?labelSelector=app%3Dweb')).map((p) => ({ node: p.spec.nodeName }));
    await waitFor(async () => (await placed()).filter((p) => p.node !== undefined).length === 2, 'two pods');
    await waitFor(() => targets.length > 0, 'node-a gets its target');
    const onA = (await placed()).filter((p) => p.node === 'node-a');
    expect(onA.length).toBeGreaterThan(0);

    expect((await c.call('DELETE', '/v1/nodes/node-a')).status).toBe(200);
    await closed; // its open session is ended at once
    const refused = await mqtt.connectAsync(broker.url, { username: a.mqtt.username, password: a.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 }).then(
      (client) => void client.end(true),
      (err: { code?: number }) => err.code,
    );
    expect(refused).toBe(4); // bad user name or password
    // node-b is not touched.
    const stillB = await mqtt.connectAsync(broker.url, { username: b.mqtt.username, password: b.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 });
    await stillB.endAsync(true);

    // Its pods go to the node that is left; nothing is assigned to the deleted node any more.
    await waitFor(async () => {
      const pods = await placed();
      return pods.length === 2 && pods.every((p) => p.node === 'node-b');
    }, 'pods moved to node-b');
    await c.cp.settle();
    const apiKeys = (await store.list('')).map((e) => e.key);
    expect(apiKeys.filter((k) => k.endsWith('/node-a'))).toEqual([]);
  });

  it('clears the deleted node\'s retained target and config, so a reused name never replays them', async () => {
    const c = await cluster();
    const { token: t } = await token(c);
    await join(c, { token: t, nodeName: 'node-a' });
    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 1 })] });
    await waitFor(async () => (await retained(c.broker.url, 'node-a')).length > 0, 'retained target before the delete');
    await c.call('DELETE', '/v1/nodes/node-a');
    await c.cp.settle();
    expect(await retained(c.broker.url, 'node-a')).toEqual([]);
  });
});

describe("a node's own labels", () => {
  it("a rogue node's self-reported zone=vault attracts no pod; the API's label and node.grove.io/ labels do; kubernetes.io/os selects every node", async () => {
    const c = await cluster();
    const { token: t } = await token(c);
    for (const n of ['rogue', 'plain']) expect((await join(c, { token: t, nodeName: n })).status).toBe(200);
    const rogue = await FakeNode.connect(c.broker.url, 'rogue');
    const plain = await FakeNode.connect(c.broker.url, 'plain');
    cleanups.push(() => rogue.close(), () => plain.close());
    await rogue.status({ facts: facts({ labels: { zone: 'vault', 'node.grove.io/sensor': 'bme280' } }) });
    await plain.status({ facts: facts({ arch: 'x64' }) });
    await waitFor(async () => (await listNodes(c)).every(isReadyNode), 'both Ready');

    const vault = workload('vault-reader', { nodeSelector: { zone: 'vault' } });
    const sensor = workload('sensor', { kind: 'DaemonSet', nodeSelector: { 'node.grove.io/sensor': 'bme280' } });
    const everywhere = workload('node-exporter', { kind: 'DaemonSet', nodeSelector: { 'kubernetes.io/os': 'linux' } });
    await c.call('POST', '/v1/apply', { objects: [vault, sensor, everywhere] });
    await c.cp.settle();
    const pods = async () => (await listPods(c)).map((p) => `${p.metadata.labels?.app}@${p.spec.nodeName ?? '<pending>'}`).sort();
    await waitFor(async () => (await pods()).length === 4, 'four pods');
    // No node may take vault-reader: it waits Pending, never on the rogue node.
    expect(await pods()).toEqual(['node-exporter@plain', 'node-exporter@rogue', 'sensor@rogue', 'vault-reader@<pending>']);
    const labels = async (n: string) => (await c.call<{ metadata: { labels: Record<string, string> } }>('GET', `/api/v1/nodes/${n}`)).body.metadata.labels;
    expect(await labels('rogue')).toEqual({ 'node.grove.io/sensor': 'bme280', 'kubernetes.io/hostname': 'rogue', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    expect((await labels('plain'))['kubernetes.io/arch']).toBe('amd64');

    // What the operator sets is the trust boundary.
    await c.call('PATCH', '/v1/nodes/plain', { labels: { zone: 'vault' } });
    await waitFor(async () => (await pods()).includes('vault-reader@plain'), 'vault-reader on the node labelled through the API');
  });
});

describe('failed joins', () => {
  it('are logged without the token and answered 429 + Retry-After after 10 from one address', async () => {
    const c = await cluster();
    const log = captureLog('info');
    const api = await startApiServer({ host: '127.0.0.1', port: 0, controlPlane: c.cp, logger: log.logger, joinFailures: new JoinFailureLimiter() });
    cleanups.push(() => api.close());
    const { token: good } = await token(c);
    const bad = 'grove1.insecure.00000000.' + 'Q'.repeat(43);
    const post = (body: unknown) => fetch(`${api.url}/v1/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // Successes do not count.
    for (const n of ['ok-1', 'ok-2']) expect((await post({ token: good, nodeName: n })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await post({ token: bad, nodeName: `x-${i}` })).status).toBe(403);
    const limited = await post({ token: good, nodeName: 'ok-3' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringContaining('too many failed joins from 127.0.0.1') } });
    const refused = log.lines().filter((l) => l.msg === 'join refused');
    expect(refused).toHaveLength(10);
    expect(refused[0]).toMatchObject({ remote: '127.0.0.1', code: 'PERMISSION_DENIED', reason: 'join token not recognised' });
    expect(log.text()).not.toContain('Q'.repeat(20));
    expect(log.text()).not.toContain(good.split('.')[3]);
  });
});

describe('admin token rotation', () => {
  it('persists the new token first, then the old one stops working at once', async () => {
    const persisted: string[] = [];
    const c = await cluster({ extra: { persistAdminToken: async (t) => void persisted.push(t) } });
    const rotated = await c.call<{ token: string }>('POST', '/v1/admin-token/rotate', {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).toMatch(/^[0-9a-f]{64}$/);
    expect(persisted).toEqual([rotated.body.token]);
    expect((await c.call('GET', '/api/v1/namespaces', undefined, ADMIN)).status).toBe(401);
    expect((await c.call('GET', '/api/v1/namespaces', undefined, rotated.body.token)).status).toBe(200);
    expect((await c.call('POST', '/v1/admin-token/rotate', {}, ADMIN)).status).toBe(401);
  });

  it('keeps the old token when the new one cannot be persisted', async () => {
    const c = await cluster({ extra: { persistAdminToken: async () => Promise.reject(new Error('read-only file system')) } });
    expect((await c.call('POST', '/v1/admin-token/rotate', {})).status).toBe(500);
    expect((await c.call('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});
