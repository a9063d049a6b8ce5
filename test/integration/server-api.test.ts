import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { ControlPlane } from '../../src/server/server.js';
import type { NodeRegistration } from '../../src/server/nodes.js';
import { hashPassword } from '../../src/server/security/credentials.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { decodeBackup } from '../../src/store/backup.js';
import { fixtureClock } from '../unit/server-fixtures.js';
import { clustersPerTest, configMap, isReadyNode, listPods, workload, ADMIN, FakeNode, startCluster, waitFor, type Cluster, type NodeObject, type PodObject } from './server-harness.js';

const { cluster, cleanups } = clustersPerTest();

async function node(c: Cluster, name: string): Promise<FakeNode> {
  const n = await FakeNode.connect(c.broker.url, name);
  cleanups.push(() => n.close());
  return n;
}

const PODS = '/api/v1/namespaces/default/pods';

async function pods(c: Cluster, query = ''): Promise<PodObject[]> {
  return listPods(c, query);
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
    const none = await c.call('GET', '/v1/tokens', undefined, null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('admin token') } });
    // The Kubernetes paths say it as a Status.
    expect(await c.call('GET', PODS, undefined, null)).toMatchObject({ status: 401, body: { kind: 'Status', reason: 'Unauthorized', message: expect.stringContaining('admin token') } });
    expect((await c.call('GET', PODS, undefined, ADMIN + 'x')).status).toBe(401);
    expect((await c.call('POST', '/v1/tokens', {}, null)).status).toBe(401);
    expect(await c.call('GET', PODS)).toMatchObject({ status: 200, body: { kind: 'PodList', items: [] } });
  });

  it('404 for unknown routes and objects, 405 for a wrong method, 400 for bad JSON', async () => {
    const c = await cluster();
    expect((await c.call('GET', '/v1/nope')).status).toBe(404);
    expect((await c.call('GET', '/v1/apps')).status).toBe(404);
    expect(await c.call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound' } });
    expect((await c.call('PUT', '/v1/apply')).status).toBe(405);
    expect(await c.call('POST', '/v1/apply', '{nope')).toMatchObject({ status: 400, body: { kind: 'Status', reason: 'BadRequest' } });
    // A name no object can have is simply not found, as the Kubernetes API server answers it.
    expect(await c.call('GET', '/apis/apps/v1/namespaces/default/deployments/Bad_Name')).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound' } });
  });

  it('refuses a body over 4 MiB with 413', async () => {
    const c = await cluster();
    const started = c.store.revision();
    const big = JSON.stringify({ objects: [configMap('big', { a: 'x'.repeat(4 * 1024 * 1024) })] });
    const res = await c.call('POST', '/v1/apply', big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
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

describe('API: apply and objects', () => {
  it('apply is atomic: one bad object and nothing is stored', async () => {
    const c = await cluster();
    const started = c.store.revision();
    const bad = workload('bad') as { spec: Record<string, unknown> };
    bad.spec.replicas = 'many';
    const res = await c.call<{ details: { causes: { field: string }[] } }>('POST', '/v1/apply', { objects: [workload('web'), configMap('c', {}), bad] });
    expect(res).toMatchObject({ status: 422, body: { kind: 'Status', reason: 'Invalid' } });
    expect(res.body.details.causes.map((x) => x.field)).toContain('objects[2].spec.replicas');
    expect(c.store.revision()).toBe(started);
    expect((await c.call<{ items: unknown[] }>('GET', '/apis/apps/v1/deployments')).body.items).toEqual([]);
  });

  it('an unchanged apply writes nothing, also after the controllers have acted on it', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    const first = await c.call<{ results: unknown[] }>('POST', '/v1/apply', { objects: [workload('web'), configMap('c', { k: 'v' })] });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { kind: 'Deployment', namespace: 'default', name: 'web', action: 'created' },
      { kind: 'ConfigMap', namespace: 'default', name: 'c', action: 'created' },
    ]);
    await c.cp.settle();
    expect((await pods(c)).map((p) => p.spec.nodeName)).toEqual(['pi-1']);
    const rev = c.store.revision();
    const again = await c.call<{ results: { action: string }[] }>('POST', '/v1/apply', { objects: [workload('web'), configMap('c', { k: 'v' })] });
    expect(again.body.results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    await c.cp.settle();
    expect(c.store.revision()).toBe(rev);
  });

  it('secrets: served as Kubernetes serves them, to the admin token only (data in base64, never the stringData given)', async () => {
    const c = await cluster();
    const applied = await c.call('POST', '/v1/apply', { objects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'pässword' } }] });
    expect(applied.status, applied.text).toBe(200);
    const b64 = Buffer.from('pässword').toString('base64');
    const list = await c.call<{ items: { data: Record<string, string>; stringData?: unknown }[] }>('GET', '/api/v1/namespaces/default/secrets');
    expect(list.body.items.map((x) => x.data)).toEqual([{ password: b64 }]);
    expect(list.text).not.toContain('pässword');
    const one = await c.call<{ data: Record<string, string>; type: string }>('GET', '/api/v1/namespaces/default/secrets/db');
    expect(one.body).toMatchObject({ type: 'Opaque', data: { password: b64 } });
    expect(one.body).not.toHaveProperty('stringData');
    expect(one.text).not.toContain('pässword');
    expect((await c.call('GET', '/api/v1/namespaces/default/secrets/db', undefined, null)).status).toBe(401);
    expect((await c.call('DELETE', '/api/v1/namespaces/default/secrets/db')).status).toBe(200);
    expect((await c.call('GET', '/api/v1/namespaces/default/secrets/db')).status).toBe(404);
  });

  it('configmaps: apply, get, delete on the Kubernetes paths', async () => {
    const c = await cluster();
    await c.call('POST', '/v1/apply', { objects: [configMap('c', { k: 'v' })] });
    const written = c.store.revision();
    expect((await c.call<{ items: unknown[] }>('GET', '/api/v1/namespaces/default/configmaps')).body.items).toHaveLength(1);
    expect((await c.call('GET', '/api/v1/namespaces/default/configmaps/c')).body).toMatchObject({
      kind: 'ConfigMap',
      data: { k: 'v' },
      metadata: { name: 'c', namespace: 'default', resourceVersion: String(written), uid: expect.any(String), creationTimestamp: expect.any(String) },
    });
    expect((await c.call('DELETE', '/api/v1/namespaces/default/configmaps/c')).status).toBe(200);
    expect((await c.call('DELETE', '/api/v1/namespaces/default/configmaps/c')).status).toBe(404);
  });
});

describe('API: backup', () => {
  it('GET /v1/backup needs the admin token and returns the store as a checked backup file', async () => {
    const c = await cluster();
    await c.call('POST', '/v1/apply', { objects: [workload('web')] });
    await c.cp.settle(); // the controllers' own writes land first
    expect((await c.call('GET', '/v1/backup', undefined, null)).status).toBe(401);
    const res = await fetch(`${c.api.url}/v1/backup`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/cbor');
    const { header, entries } = decodeBackup(new Uint8Array(await res.arrayBuffer()));
    expect(header).toMatchObject({ cluster: c.cp.cluster, revision: c.store.revision() });
    expect(entries).toEqual(await c.store.list(''));
    expect(entries.map((e) => e.key)).toEqual(expect.arrayContaining(['deployments/default/web', 'namespaces/default']));
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
    const credential = async () => (await c.store.get<{ credentialHash: string }>('grove/nodecreds/pi-1'))!.value.credentialHash;
    const labels = async () => (await c.call<{ metadata: { labels: Record<string, string> } }>('GET', '/api/v1/nodes/pi-1')).body.metadata.labels;
    expect(await credential()).toBe(hashPassword(first.body.mqtt.password));
    expect(await labels()).toEqual({ zone: 'a', 'kubernetes.io/hostname': 'pi-1' });
    expect(registered.map((r) => r.username)).toEqual(['node.pi-1']);

    const again = await c.call<{ mqtt: { password: string } }>('POST', '/v1/join', { token: token.token, nodeName: 'pi-1', credential: first.body.mqtt.password }, null);
    expect(again.status).toBe(200);
    expect(again.body.mqtt.password).not.toBe(first.body.mqtt.password);
    expect(await credential()).toBe(hashPassword(again.body.mqtt.password));
    expect(await labels()).toEqual({ zone: 'a', 'kubernetes.io/hostname': 'pi-1' });

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
    await c.call('POST', '/v1/apply', { objects: [workload('agent', { kind: 'DaemonSet', nodeSelector: { role: 'edge' } })] });
    await waitFor(() => n1.latest()?.pods.length === 1, 'pod on pi-1');
    expect(n1.latest()!.pods[0]).toMatchObject({ namespace: 'default', owner: { kind: 'DaemonSet', name: 'agent' } });
    expect(n2.latest()?.pods ?? []).toEqual([]);

    const patched = await c.call<{ metadata: { labels: Record<string, string> }; kind: string }>('PATCH', '/v1/nodes/pi-2', { labels: { role: 'edge' } });
    expect(patched.body).toMatchObject({ kind: 'Node', metadata: { labels: { role: 'edge', 'kubernetes.io/hostname': 'pi-2' } } });
    await waitFor(() => n2.latest()?.pods.length === 1, 'pod on pi-2', 10_000);
    await c.call('PATCH', '/v1/nodes/pi-1', { labels: { role: null } });
    await waitFor(() => n1.latest()?.pods.length === 0, 'pod gone from pi-1', 10_000);
    await c.cp.settle();
    expect((await pods(c)).map((p) => p.spec.nodeName)).toEqual(['pi-2']);

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
    const cordoned = await c.call('PATCH', '/v1/nodes/pi-1', { cordoned: true });
    expect(cordoned.body).toMatchObject({ spec: { unschedulable: true } });
    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    await c.cp.settle();
    expect((await pods(c)).map((p) => p.spec.nodeName)).toEqual(['pi-2', 'pi-2']);
  });

  it('pod status: Pending until the node reports it, then the node\'s phase; node revisions and facts; not ready when the node is not', async () => {
    const c = await cluster({ extra: { nodeGraceMs: 300, sweepIntervalMs: 50 } });
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    await c.call('POST', '/v1/apply', { objects: [workload('web')] });
    const target = await waitFor(() => n1.latest()?.pods.length === 1 && n1.latest(), 'target');
    const p = target.pods[0]!;
    await c.cp.settle();
    // Bound to the node, not reported by it yet: Pending and not ready.
    const [bound] = await pods(c);
    expect(bound).toMatchObject({ metadata: { name: p.name, labels: { app: 'web', 'pod-template-hash': p.templateHash }, ownerReferences: [{ kind: 'ReplicaSet' }] }, spec: { nodeName: 'pi-1' }, status: { phase: 'Pending' } });
    expect(bound!.status?.conditions?.find((x) => x.type === 'Ready')?.status).not.toBe('True');
    // The node reports, without the pod yet: the node is Ready, the pod still Pending and not ready.
    await n1.status();
    await waitFor(async () => isReadyNode((await c.call<NodeObject>('GET', '/api/v1/nodes/pi-1')).body), 'node Ready');
    await c.cp.settle();
    const [waiting] = await pods(c);
    expect(waiting!.status?.phase).toBe('Pending');
    expect(waiting!.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False' });

    await n1.status({
      observedRevision: target.revision,
      pods: [{ name: p.name, namespace: 'default', uid: p.uid, app: 'web', templateHash: p.templateHash, phase: 'Running', ready: true, restarts: 2, containers: [{ name: 'main', state: 'running', ready: true, oomKilled: false, restarts: 2 }] }],
    });
    const running = await waitFor(async () => {
      const [x] = await pods(c);
      return x?.status?.phase === 'Running' && x;
    }, 'Running');
    expect(running.status).toMatchObject({ phase: 'Running', containerStatuses: [{ name: 'main', ready: true, restartCount: 2, state: { running: {} } }] });
    expect(running.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    expect((running.metadata as { creationTimestamp?: string }).creationTimestamp).toEqual(expect.any(String));
    // The node: Ready, the target it runs (0.1's "Revisions: target N, observed N"), its facts.
    const detail = (await c.call<NodeObject & { status: { nodeInfo?: { architecture?: string }; conditions: { type: string; status: string; message?: string }[] } }>('GET', '/api/v1/nodes/pi-1')).body;
    expect(isReadyNode(detail)).toBe(true);
    expect(detail.status.conditions.find((x) => x.type === 'TargetApplied')).toMatchObject({ status: 'True', message: `target revision ${target.revision} applied` });
    expect(detail.status.nodeInfo?.architecture).toBe('arm64');
    // The Deployment counts the pod (0.1's pods summary: desired, current, ready, up to date).
    await waitFor(async () => (await c.call<{ status?: { readyReplicas?: number } }>('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body.status?.readyReplicas === 1, 'web ready');
    expect((await c.call<{ status: unknown }>('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body.status).toMatchObject({ replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });

    // Heartbeats stop: the node goes NotReady, its condition written once, and its pods not ready.
    const notReady = await waitFor(async () => {
      const n = (await c.call<NodeObject & { metadata: { resourceVersion: string } }>('GET', '/api/v1/nodes/pi-1')).body;
      return !isReadyNode(n) && n;
    }, 'NotReady', 10_000);
    await waitFor(async () => (await pods(c))[0]?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False', 'pod not ready', 10_000);
    // Sweeps go on (every 50 ms): nothing more is written to the Node.
    await new Promise((r) => setTimeout(r, 500));
    expect((await c.call<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/nodes/pi-1')).body.metadata.resourceVersion).toBe(notReady.metadata.resourceVersion);
  });

  it('deleting a Deployment removes its pods from the nodes', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    await waitFor(() => n1.latest()?.pods.length === 2, 'two pods');
    expect((await c.call('DELETE', '/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(200);
    await waitFor(() => n1.latest()?.pods.length === 0, 'no pods', 10_000);
    await c.cp.settle();
    expect(await pods(c)).toEqual([]);
  });

  it('a Pod no node can take is Pending with the scheduler\'s reason', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    await c.call('POST', '/v1/apply', { objects: [workload('web', { nodeSelector: { zone: 'mars' } })] });
    await c.cp.settle();
    const [pending] = await pods(c);
    expect(pending!.spec.nodeName).toBeUndefined();
    expect(pending!.status?.conditions?.find((x) => x.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expect.stringMatching(/^0\/1 nodes are available: /) });
  });
});

describe('targets across restarts', () => {
  it('re-publishes retained targets at restart without bumping revisions', async () => {
    const store = new MemoryStore();
    const c1 = await startCluster({ store });
    await join(c1, 'pi-1');
    await c1.call('POST', '/v1/apply', { objects: [workload('web')] });
    const n1 = await FakeNode.connect(c1.broker.url, 'pi-1');
    const before = await waitFor(() => n1.latest()?.pods.length === 1 && n1.latest(), 'target');
    await n1.close();
    await c1.cp.settle();
    // A whole new server and a fresh broker (no retained messages) on the same store. (Stopping
    // saves the events recorded since the last save: counted before the restart.)
    await c1.close();
    const rev = store.revision();
    const c2 = await cluster({ store });
    const late = await node(c2, 'pi-1');
    const after = await waitFor(() => late.latest(), 'retained target');
    expect(after).toEqual(before);
    await c2.cp.settle();
    expect(store.revision()).toBe(rev);
    // And a real change afterwards gets a higher revision.
    await c2.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    const next = await waitFor(() => late.latest()?.pods.length === 2 && late.latest(), 'next target');
    expect(next.revision).toBeGreaterThan(before.revision);
  });
});

describe('logs over MQTT', () => {
  it('streams NDJSON from the node, for a pod and for a workload', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    const n1 = await node(c, 'pi-1');
    n1.answerLogs((req) => [
      { schema: 1, id: req.id, seq: 0, done: false, lines: [{ time: '2025-05-01T00:00:00.000Z', stream: 'stdout', text: `hello from ${req.params.namespace}/${req.params.pod}`, container: 'main' }] },
      { schema: 1, id: req.id, seq: 1, done: true, lines: [{ time: '2025-05-01T00:00:01.000Z', stream: 'stderr', text: `tail=${req.params.tail}`, container: 'main' }] },
    ]);
    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    const t = await waitFor(() => n1.latest()?.pods.length === 2 && n1.latest(), 'pods');
    const pod = t.pods[0]!.name;
    const one = await c.call('GET', `/v1/logs?pod=${pod}&tail=5`);
    expect(one.status).toBe(200);
    expect(one.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { pod, container: 'main', time: '2025-05-01T00:00:00.000Z', stream: 'stdout', text: `hello from default/${pod}` },
      { pod, container: 'main', time: '2025-05-01T00:00:01.000Z', stream: 'stderr', text: 'tail=5' },
    ]);
    const all = await c.call('GET', '/v1/logs?workload=deploy/web');
    const lines = all.text.trim().split('\n').map((l) => JSON.parse(l) as { pod: string });
    expect(new Set(lines.map((l) => l.pod))).toEqual(new Set(t.pods.map((p) => p.name)));
    expect(lines).toHaveLength(4);
    expect((await c.call('GET', '/v1/logs')).status).toBe(400);
    expect((await c.call('GET', '/v1/logs?pod=nope-123456-abcde')).status).toBe(404);
    expect((await c.call('GET', '/v1/logs?workload=configmap/x')).status).toBe(400);
  });

  it('a node that does not answer gives 503 with a clear message', async () => {
    const c = await cluster({ extra: { rpcTimeoutMs: 200 } });
    await join(c, 'pi-1');
    await c.call('POST', '/v1/apply', { objects: [workload('web')] });
    await c.cp.settle();
    const [pod] = await pods(c);
    const res = await c.call('GET', `/v1/logs?pod=${pod!.metadata.name}`);
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'NODE_UNAVAILABLE', message: 'node pi-1 did not answer (offline?)' } } });
  });
});

describe('workloads view', () => {
  it('lists Deployments with their replica counts (0.1: apps with a pods summary)', async () => {
    const c = await cluster();
    await join(c, 'pi-1');
    await c.call('POST', '/v1/apply', { objects: [workload('web', { replicas: 3 })] });
    await c.cp.settle();
    const list = (await c.call<{ kind: string; items: { metadata: { name: string; generation?: number }; status?: { replicas?: number; updatedReplicas?: number; readyReplicas?: number } }[] }>('GET', '/apis/apps/v1/namespaces/default/deployments')).body;
    expect(list.kind).toBe('DeploymentList');
    expect(list.items.map((d) => d.metadata.name)).toEqual(['web']);
    expect(list.items[0]).toMatchObject({ metadata: { generation: 1 }, status: { replicas: 3, updatedReplicas: 3 } });
    expect(list.items[0]!.status?.readyReplicas ?? 0).toBe(0);
    expect(await pods(c)).toHaveLength(3);
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
