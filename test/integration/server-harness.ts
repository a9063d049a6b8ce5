/**
 * A real control plane for tests: MemoryStore, the embedded broker on a random port (accepting
 * any credentials: broker security is tested on its own), the HTTP API on a random port, and
 * fake nodes that speak the MQTT protocol like an agent would.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeNodeTarget2, type WireNodeTarget } from '../../src/core/wire-target.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import type { LogsRpcRequest, NodeStatus, RpcResponse } from '../../src/core/wire-types.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/server/api.js';
import { ControlPlane, type ControlPlaneOptions } from '../../src/server/server.js';
import type { Clock } from '../../src/core/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/store.js';

export const ADMIN = 'admin-token-for-tests';
export const CLUSTER = 'test';
const logger = silentLogger();

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A Deployment (or DaemonSet) of one nginx container, as `grove apply` sends it; pods labelled app=<name>. */
export function workload(name: string, o: { kind?: 'Deployment' | 'DaemonSet'; replicas?: number; nodeSelector?: Record<string, string>; image?: string } = {}) {
  const template = { metadata: { labels: { app: name } }, spec: { ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), containers: [{ name: 'main', image: o.image ?? 'nginx:1.27' }] } };
  return o.kind === 'DaemonSet'
    ? { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template } }
    : { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: o.replicas ?? 1, selector: { matchLabels: { app: name } }, template } };
}

export const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

export interface PodObject {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[]; containerStatuses?: { name: string; ready: boolean; restartCount: number; state: Record<string, unknown> }[] };
}

/** The Pods of namespace default (optionally `?labelSelector=…`). */
export async function listPods(c: Pick<Cluster, 'call'>, query = ''): Promise<PodObject[]> {
  return (await c.call<{ items: PodObject[] }>('GET', '/api/v1/namespaces/default/pods' + query)).body.items;
}

export interface NodeObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

export const isReadyNode = (n: NodeObject): boolean => n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';

export async function listNodes(c: Pick<Cluster, 'call'>): Promise<NodeObject[]> {
  return (await c.call<{ items: NodeObject[] }>('GET', '/api/v1/nodes')).body.items;
}

export interface Cluster {
  store: Store;
  broker: EmbeddedBroker;
  cp: ControlPlane;
  api: ApiServer;
  call<T = unknown>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T; text: string }>;
  /** Stops API and control plane (not the broker or the store). */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `cluster()` for the tests of one file: each cluster it starts, and every cleanup pushed on
 * `cleanups`, is undone after the test that made it (last first), even when the test failed.
 */
export function clustersPerTest(): { cluster: (o?: Parameters<typeof startCluster>[0]) => Promise<Cluster>; cleanups: (() => Promise<void>)[] } {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  const cluster = async (o: Parameters<typeof startCluster>[0] = {}): Promise<Cluster> => {
    const c = await startCluster(o);
    cleanups.push(() => c.close());
    return c;
  };
  return { cluster, cleanups };
}

export async function startCluster(
  o: { store?: Store; broker?: EmbeddedBroker; clock?: Clock; extra?: Partial<ControlPlaneOptions>; api?: Pick<ApiServerOptions, 'requestTimeoutMs' | 'maxConnections'> } = {},
): Promise<Cluster> {
  const store = o.store ?? new MemoryStore();
  await store.open();
  const broker = o.broker ?? (await startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: CLUSTER, authenticate: async () => true, logger }));
  const cp = new ControlPlane({
    store,
    cluster: CLUSTER,
    mqtt: { url: broker.url, password: 'server-password' },
    logger,
    adminToken: ADMIN,
    brokerUrlForNodes: 'mqtt://grove.example:1883',
    debounceMs: 5,
    ...(o.clock ? { clock: o.clock } : {}),
    ...o.extra,
  });
  await cp.start();
  const api = await startApiServer({ host: '127.0.0.1', port: 0, controlPlane: cp, logger, ...o.api });
  let serverStopped = false;
  const stopServer = async (): Promise<void> => {
    if (serverStopped) return;
    serverStopped = true;
    await api.close();
    await cp.stop();
  };
  return {
    store,
    broker,
    cp,
    api,
    async call(method, path, body, token = ADMIN) {
      const res = await fetch(api.url + path, {
        method,
        headers: {
          ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed as never, text };
    },
    stopServer,
    async close() {
      await stopServer();
      await broker.close();
    },
  };
}

/** Speaks the agent's side of the protocol over a real MQTT connection. */
export class FakeNode {
  readonly targets: WireNodeTarget[] = [];
  private seq = 0;
  private logAnswer: ((req: LogsRpcRequest) => RpcResponse[]) | undefined;

  private constructor(
    readonly name: string,
    private readonly client: MqttClient,
  ) {}

  static async connect(url: string, name: string, o: { presence?: boolean } = {}): Promise<FakeNode> {
    const client = await mqtt.connectAsync(url, { username: `node.${name}`, password: 'x', protocolVersion: 4, reconnectPeriod: 0 });
    const node = new FakeNode(name, client);
    const topics = topicsFor(CLUSTER, name);
    client.on('message', (topic, payload) => {
      if (topic === topics.target && payload.length > 0) node.targets.push(decodeNodeTarget2(payload));
      if (topic === topics.rpcRequest && node.logAnswer) {
        const req = decodeRpcRequest(payload);
        if (req.method !== 'logs') return;
        for (const r of node.logAnswer(req)) void client.publishAsync(topics.rpcResponse, encodeMessage(r), { qos: 1 });
      }
    });
    await client.subscribeAsync([topics.target, topics.rpcRequest], { qos: 1 });
    if (o.presence !== false) await node.presence(true);
    return node;
  }

  latest(): WireNodeTarget | undefined {
    return this.targets.at(-1);
  }

  async presence(online: boolean): Promise<void> {
    const p = { schema: 1, node: this.name, online, at: new Date().toISOString() };
    await this.client.publishAsync(topicsFor(CLUSTER, this.name).presence, encodeMessage(p), { qos: 1, retain: true });
  }

  async status(partial: Partial<NodeStatus> = {}): Promise<void> {
    const status: NodeStatus = {
      schema: 1,
      node: this.name,
      seq: ++this.seq,
      observedRevision: this.latest()?.revision ?? 0,
      heartbeat: false,
      facts: {
        arch: 'arm64',
        os: 'linux',
        cpus: 4,
        memoryBytes: 1024 ** 3,
        memoryAvailableBytes: 800 * 1024 ** 2,
        diskFreeBytes: 1024 ** 3,
        kernel: '6.6',
        ociRuntime: 'crun',
        cgroupVersion: 2,
        agentVersion: '0.1.0',
        labels: {},
      },
      pods: [],
      sentAt: new Date(Date.now() + this.seq).toISOString(),
      ...partial,
    };
    await this.client.publishAsync(topicsFor(CLUSTER, this.name).status, encodeMessage(status), { qos: 1 });
  }

  answerLogs(fn: (req: LogsRpcRequest) => RpcResponse[]): void {
    this.logAnswer = fn;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
