/**
 * Services end to end in one process (issue 15): a real control plane, the embedded broker with
 * real node authentication and ACLs, the HTTP API and a real agent (MemoryRuntime: pod
 * addresses and probe answers under the test's control) that joined over the API. A Deployment
 * and a Service applied through the API reach the agent's persisted network view with a ready
 * endpoint; a failing readiness probe makes it not ready there; the Service's deletion removes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentKeys } from '../../src/core/keys.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import type { WireNetworkCluster, WireNetworkService } from '../../src/core/wire-network.js';
import { startApiServer, type ApiServer } from '../../src/server/api.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { createAuthenticator, storeNodeLookup } from '../../src/server/security/credentials.js';
import { ControlPlane } from '../../src/server/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { waitFor } from './server-harness.js';

const CLUSTER = 'svc';
const ADMIN = 'b'.repeat(40);
const logger = silentLogger();
const FACTS = (): NodeFacts => ({
  arch: process.arch, os: 'linux', cpus: 2, memoryBytes: 2 ** 31, memoryAvailableBytes: 2 ** 30, diskFreeBytes: 2 ** 33,
  kernel: 'test', ociRuntime: 'memory', cgroupVersion: 2, agentVersion: 'test', labels: {},
  addresses: [{ type: 'InternalIP', address: '192.168.77.10' }],
});

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'main', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1 } }] },
    },
  },
};
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };

describe('Services: objects → EndpointSlices → the network view on the node', () => {
  let store: MemoryStore;
  let broker: EmbeddedBroker;
  let cp: ControlPlane;
  let api: ApiServer;
  let agent: Agent;
  const agentStore = new MemoryStore();
  const runtime = new MemoryRuntime();

  const call = async <T = unknown>(method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const res = await fetch(api.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as T };
  };

  /** The view as the agent persisted it: "<svc> <clusterIP> <ip>:<port> ready=<bool>". */
  const persisted = async (): Promise<string[] | undefined> => {
    const entry = await agentStore.get<{ index: WireNetworkCluster; services: WireNetworkService[] }>(AgentKeys.networkView);
    return entry?.value.services.map((m) => `${m.service.name} ${m.service.clusterIP} ${m.service.ports.map((p) => `${p.port}:${p.nodePort}`).join(',')} ${m.service.endpoints.map((e) => `${e.ip}:${e.ports.http} ready=${e.ready}`).join(',')}`);
  };

  beforeAll(async () => {
    store = new MemoryStore();
    await store.open();
    const server = { username: 'grove-server' as const, password: 's'.repeat(43) };
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: CLUSTER, authenticate: createAuthenticator(server, storeNodeLookup(store)), logger });
    cp = new ControlPlane({ store, cluster: CLUSTER, mqtt: { url: broker.url, password: server.password }, logger, adminToken: ADMIN, brokerUrlForNodes: broker.url, debounceMs: 5, nodeGraceMs: 3000 });
    await cp.start();
    api = await startApiServer({ host: '127.0.0.1', port: 0, controlPlane: cp, logger });
    const token = await call<{ token: string }>('POST', '/v1/tokens', {});
    const joined = await call<{ mqtt: { username: string; password: string } }>('POST', '/v1/join', { token: token.body.token, nodeName: 'node-a' }, null);
    expect(joined.status).toBe(200);
    agent = new Agent({ nodeName: 'node-a', cluster: CLUSTER, store: agentStore, runtime, mqtt: { url: broker.url, ...joined.body.mqtt }, logger, facts: async () => FACTS(), heartbeatSeconds: 1, reconnectSeconds: 0.2, pollSeconds: 1 });
    await agent.start();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
    await broker?.close().catch(() => undefined);
  });

  it('a Deployment and a Service reach the node\'s persisted view with a ready endpoint; readiness failing takes it out', async () => {
    const applied = await call('POST', '/v1/apply', { objects: [deployment, service] });
    expect(applied.status, applied.text).toBe(200);
    const svc = await call<{ spec: { clusterIP: string; ports: { nodePort: number }[] } }>('GET', '/api/v1/namespaces/default/services/web');
    expect(svc.body.spec.clusterIP).toBe('10.43.0.1');
    expect(svc.body.spec.ports[0]!.nodePort).toBe(30000);
    const ready = await waitFor(async () => {
      const v = await persisted();
      return v?.length === 1 && v[0]!.endsWith('ready=true') ? v : undefined;
    }, 'the ready endpoint in the agent\'s persisted view', 20_000);
    expect(ready[0]).toMatch(/^web 10\.43\.0\.1 80:30000 10\.42\.\d+\.\d+:8080 ready=true$/);
    // The server's node-ipam controller gives the one node the first block of the cluster CIDR.
    expect(agent.networkView()?.nodes).toEqual([{ name: 'node-a', internalIP: '192.168.77.10', podCIDR: '10.42.0.0/24' }]);
    const slices = await call<{ items: { endpoints: unknown[] }[] }>('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
    expect(slices.body.items).toHaveLength(1);

    // The readiness probe starts failing: the endpoint stays, not ready.
    const pods = await runtime.list();
    for (const c of pods) runtime.answerProbes(c.name, false);
    await waitFor(async () => (await persisted())?.[0]?.endsWith('ready=false'), 'the endpoint not ready in the persisted view', 20_000);

    const deleted = await call('DELETE', '/api/v1/namespaces/default/services/web');
    expect(deleted.status).toBe(200);
    await waitFor(async () => (await persisted())?.length === 0, 'the Service gone from the persisted view', 10_000);
  }, 60_000);
});
