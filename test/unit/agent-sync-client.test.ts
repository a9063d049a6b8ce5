/**
 * The agent against a real MQTT broker (aedes, in process, random loopback port). The agent
 * reaches the broker through a small TCP proxy the test controls, so it can cut the agent off
 * abruptly (Last Will) or keep it offline while the observer stays connected.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { APPLIED_REVISION_KEY, SyncClient, TARGET_KEY } from '../../agent/src/agent/sync-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus, decodePresence, decodeRpcResponse } from '../../src/core/wire-from-agent.js';
import type { NodeFacts, NodeStatus, NodeTarget, PodTarget, Presence, RpcResponse } from '../../src/core/wire-types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/store.js';

const CLUSTER = 'lab';
const NODE = 'pi-1';
const topics = topicsFor(CLUSTER, NODE);

const FACTS: NodeFacts = {
  arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4e9, memoryAvailableBytes: 2e9, diskFreeBytes: 1e10,
  kernel: '6.1.0', ociRuntime: 'runc', cgroupVersion: 1, agentVersion: '0.1.0', labels: { zone: 'a' },
};

function pod(name: string, policy: PodTarget['restartPolicy'] = 'Always'): PodTarget {
  return { name, app: name.split('-')[0] as string, templateHash: 'h1', restartPolicy: policy, hostNetwork: false, containers: [{ name: 'main', image: 'reg.lan/app:1', env: [], resources: {} }] };
}

function target(revision: number, pods: PodTarget[]): NodeTarget {
  return makeNodeTarget({ cluster: CLUSTER, node: NODE, revision, pods, issuedAt: '2025-01-01T00:00:00Z' });
}

async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fixture {
  broker: Aedes;
  brokerServer: net.Server;
  proxy: net.Server;
  proxyPort: number;
  proxied: Set<net.Socket>;
  observer: MqttClient;
  statuses: NodeStatus[];
  presences: Presence[];
  responses: RpcResponse[];
  blackhole: boolean;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

describe('agent sync over MQTT', () => {
  let f: Fixture;
  const agents: Agent[] = [];

  /** Agents reach the broker through this proxy; `cut` drops them, `refuse` keeps them out. */
  async function startProxy(brokerPort: number, port = 0): Promise<{ server: net.Server; port: number }> {
    const server = net.createServer((down) => {
      const up = net.connect(brokerPort, '127.0.0.1');
      f.proxied.add(down);
      f.proxied.add(up);
      const kill = (): void => {
        down.destroy();
        up.destroy();
        f.proxied.delete(down);
        f.proxied.delete(up);
      };
      down.on('error', kill).on('close', kill);
      up.on('error', kill).on('close', kill);
      up.pipe(down);
      // In blackhole mode the agent's packets vanish: it still believes it is connected.
      down.on('data', (d: Buffer) => {
        if (!f.blackhole) up.write(d);
      });
    });
    return { server, port: await listen(server, port) };
  }

  function cut(): void {
    for (const s of f.proxied) s.destroy();
  }

  async function goOffline(): Promise<void> {
    // close() waits for open connections, so cut them while it waits.
    const closed = new Promise<void>((r) => f.proxy.close(() => r()));
    cut();
    await closed;
  }

  async function goOnline(): Promise<void> {
    f.proxy = (await startProxy((f.brokerServer.address() as net.AddressInfo).port, f.proxyPort)).server;
  }

  beforeEach(async () => {
    const broker = await Aedes.createBroker();
    const brokerServer = net.createServer(broker.handle);
    const brokerPort = await listen(brokerServer);
    f = { broker, brokerServer, proxied: new Set(), statuses: [], presences: [], responses: [], blackhole: false } as unknown as Fixture;
    const proxy = await startProxy(brokerPort);
    f.proxy = proxy.server;
    f.proxyPort = proxy.port;
    f.observer = connect(`mqtt://127.0.0.1:${brokerPort}`, { clientId: 'observer', reconnectPeriod: 100 });
    f.observer.on('message', (topic, payload) => {
      if (topic === topics.status) f.statuses.push(decodeNodeStatus(payload));
      if (topic === topics.presence && payload.length > 0) f.presences.push(decodePresence(payload));
      if (topic === topics.rpcResponse) f.responses.push(decodeRpcResponse(payload));
    });
    await f.observer.subscribeAsync([topics.status, topics.presence, topics.rpcResponse], { qos: 1 });
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await f.observer.endAsync(true);
    if (f.proxy.listening) await goOffline();
    cut();
    await new Promise<void>((r) => f.broker.close(() => r()));
    await new Promise<void>((r) => f.brokerServer.close(() => r()));
  });

  function makeAgent(opts: { store?: Store; runtime?: MemoryRuntime; clock?: ManualClock; url?: string; heartbeatSeconds?: number; logFollowSeconds?: number } = {}) {
    const clock = opts.clock ?? new ManualClock();
    const runtime = opts.runtime ?? new MemoryRuntime({ now: () => clock.now() });
    const store = opts.store ?? new MemoryStore();
    const agent = new Agent({
      nodeName: NODE,
      cluster: CLUSTER,
      store,
      runtime,
      mqtt: { url: opts.url ?? `mqtt://127.0.0.1:${f.proxyPort}`, username: 'node-pi-1', password: 'secret' },
      logger: silentLogger(),
      clock,
      facts: async () => FACTS,
      heartbeatSeconds: opts.heartbeatSeconds ?? 15,
      reconnectSeconds: 0.1,
      ...(opts.logFollowSeconds !== undefined ? { logFollowSeconds: opts.logFollowSeconds } : {}),
    });
    agents.push(agent);
    return { agent, clock, runtime, store };
  }

  const publishTarget = (payload: Buffer | NodeTarget) =>
    f.observer.publishAsync(topics.target, Buffer.isBuffer(payload) ? payload : encodeMessage(payload), { qos: 1, retain: true });

  it('applies a retained target, persists it, and reports Running with the facts', async () => {
    await publishTarget(target(5, [pod('web-a'), pod('db-a')]));
    const { agent, runtime, store } = makeAgent();
    await agent.start();
    const status = await waitFor(() => f.statuses.find((s) => s.observedRevision === 5 && s.pods.every((p) => p.phase === 'Running')), 'a Running status');
    expect(status).toMatchObject({ node: NODE, heartbeat: false, facts: FACTS });
    expect(status.pods.map((p) => p.name)).toEqual(['web-a', 'db-a']);
    expect((await runtime.list()).map((c) => c.name)).toEqual(['web-a_main', 'db-a_main']);
    expect((await store.get<NodeTarget>(TARGET_KEY))?.value.revision).toBe(5);
    expect((await store.get<number>(APPLIED_REVISION_KEY))?.value).toBe(5);
    expect(agent.appliedRevision()).toBe(5);
    await waitFor(() => f.presences.find((p) => p.online), 'online presence');
  });

  it('ignores targets with an older or equal revision', async () => {
    const { agent, runtime } = makeAgent();
    await agent.start();
    await publishTarget(target(5, [pod('web-a')]));
    await waitFor(() => agent.status()?.observedRevision === 5, 'revision 5');
    await publishTarget(target(5, [pod('evil-a')]));
    await publishTarget(target(3, [pod('old-a')]));
    await publishTarget(target(6, [pod('web-a'), pod('db-a')]));
    await waitFor(() => agent.status()?.observedRevision === 6, 'revision 6');
    await agent.idle();
    expect(runtime.calls).toEqual(['start web-a_main', 'start db-a_main']);
  });

  it('drops invalid payloads without crashing', async () => {
    const { agent, runtime } = makeAgent();
    await agent.start();
    await waitFor(() => agent.connected, 'connection');
    await publishTarget(Buffer.from('not cbor at all \xff\xfe'));
    const tampered = target(7, [pod('web-a')]);
    tampered.pods[0]!.containers[0]!.image = 'evil.example/miner:1'; // checksum no longer matches
    await publishTarget(tampered);
    await publishTarget(makeNodeTarget({ cluster: CLUSTER, node: 'pi-2', revision: 8, pods: [pod('x-a')], issuedAt: '2025-01-01T00:00:00Z' }));
    await publishTarget(Buffer.alloc(0)); // a cleared retained message
    await publishTarget(target(9, [pod('web-a')]));
    await waitFor(() => agent.status()?.observedRevision === 9, 'revision 9');
    expect(runtime.calls).toEqual(['start web-a_main']);
    expect((await runtime.list())[0]?.image).toBe('reg.lan/app:1');
    expect(agent.connected).toBe(true);
  });

  it('persists a target in one commit before applying it, and does not apply what it cannot persist', async () => {
    const store = new MemoryStore();
    const commits: string[][] = [];
    const commit = store.commit.bind(store);
    let failCommits = false;
    store.commit = async (ops) => {
      if (failCommits) throw new Error('flash is read-only');
      commits.push(ops.map((o) => o.key));
      return commit(ops);
    };
    const applied: { revision: number; persisted: number | undefined }[] = [];
    const clock = new ManualClock();
    const client = new SyncClient({
      cluster: CLUSTER,
      node: NODE,
      mqtt: { url: `mqtt://127.0.0.1:${f.proxyPort}`, username: 'u', password: 'p' },
      store,
      runtime: new MemoryRuntime(),
      clock,
      logger: silentLogger(),
      facts: async () => FACTS,
      onTarget: async (t) => {
        applied.push({ revision: t.revision, persisted: (await store.get<NodeTarget>(TARGET_KEY))?.value.revision });
      },
    });
    client.start();
    try {
      await waitFor(() => client.connected, 'connection');
      await publishTarget(target(2, [pod('web-a')]));
      await waitFor(() => applied.length === 1, 'apply');
      expect(applied).toEqual([{ revision: 2, persisted: 2 }]);
      expect(commits).toEqual([[TARGET_KEY, APPLIED_REVISION_KEY]]);
      failCommits = true;
      await publishTarget(target(3, [pod('web-a')]));
      await sleep(200);
      expect(applied).toHaveLength(1);
      expect(client.appliedRevision()).toBe(2);
    } finally {
      await client.stop();
    }
  });

  it('starts offline from the stored target, then reports once the broker is reachable', async () => {
    const store = new MemoryStore();
    await store.commit([
      { type: 'put', key: TARGET_KEY, value: target(4, [pod('web-a')]) },
      { type: 'put', key: APPLIED_REVISION_KEY, value: 4 },
    ]);
    await goOffline();
    const { agent, runtime } = makeAgent({ store });
    await agent.start();
    await agent.idle();
    expect((await runtime.list()).map((c) => [c.name, c.state])).toEqual([['web-a_main', 'running']]);
    expect(agent.status()?.pods[0]?.phase).toBe('Running');
    await sleep(300);
    expect(agent.connected).toBe(false);
    expect(f.statuses).toEqual([]);
    await goOnline();
    const s = await waitFor(() => f.statuses[0], 'a status after connecting');
    expect(s).toMatchObject({ observedRevision: 4, heartbeat: false });
    // The retained copy (same revision) is not applied again.
    await publishTarget(target(4, [pod('web-a')]));
    await sleep(100);
    expect(runtime.calls).toEqual(['start web-a_main']);
  });

  it('on reconnect sends exactly one status, the latest, and nothing queued while offline', async () => {
    const { agent, runtime, clock } = makeAgent();
    await agent.start();
    await publishTarget(target(1, [pod('web-a')]));
    await waitFor(() => f.statuses.find((s) => s.observedRevision === 1 && s.pods[0]?.phase === 'Running'), 'Running');
    await goOffline();
    await waitFor(() => !agent.connected, 'disconnect');
    const before = f.statuses.length;
    // Three crashes while offline, each held (CrashLoopBackOff) then restarted: each change
    // would have been a status.
    for (let i = 0; i < 3; i++) {
      runtime.exit('web-a_main', 1);
      await agent.reconcileNow();
      clock.advance(10_000 * 2 ** i);
      await agent.reconcileNow();
    }
    expect(agent.status()?.pods[0]?.restarts).toBe(3);
    await sleep(200);
    expect(f.statuses.length).toBe(before);
    await goOnline();
    await waitFor(() => f.statuses.length > before, 'the status after reconnect');
    await sleep(500);
    const after = f.statuses.slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ heartbeat: false, observedRevision: 1 });
    expect(after[0]?.pods[0]?.restarts).toBe(3);
    expect(after[0]!.seq).toBeGreaterThan(f.statuses[before - 1]!.seq);
  });

  it('drops a status that was in flight when the connection died instead of replaying it', async () => {
    const { agent, runtime, clock } = makeAgent();
    await agent.start();
    await publishTarget(target(1, [pod('web-a')]));
    await waitFor(() => f.statuses.find((s) => s.pods[0]?.phase === 'Running'), 'Running');
    const before = f.statuses.length;
    f.blackhole = true;
    runtime.exit('web-a_main', 1);
    await agent.reconcileNow(); // held for the first 10 s of the crash-loop series
    clock.advance(10_000);
    await agent.reconcileNow(); // restarted: a status is published, never acknowledged
    await sleep(100);
    expect(f.statuses.length).toBe(before);
    f.blackhole = false;
    cut();
    await waitFor(() => f.statuses.length > before, 'the status after reconnect');
    await sleep(500);
    expect(f.statuses.slice(before).map((s) => [s.heartbeat, s.pods[0]?.restarts])).toEqual([[false, 1]]);
  });

  it('sends a heartbeat every heartbeatSeconds of silence', async () => {
    const { agent, clock } = makeAgent({ heartbeatSeconds: 2 });
    await agent.start();
    await waitFor(() => f.statuses.length === 1, 'the connect status');
    clock.advance(1999);
    await sleep(100);
    expect(f.statuses).toHaveLength(1);
    for (let i = 1; i <= 3; i++) {
      clock.advance(i === 1 ? 1 : 2000);
      await waitFor(() => f.statuses.length === 1 + i, `heartbeat ${i}`);
    }
    expect(f.statuses.map((s) => s.heartbeat)).toEqual([false, true, true, true]);
    expect(f.statuses.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
  });

  it('every status carries the run id of this agent start; the next start picks another', async () => {
    const first = makeAgent();
    await first.agent.start();
    await waitFor(() => f.statuses.length === 1, 'the first run status');
    await first.agent.stop();
    const second = makeAgent();
    await second.agent.start();
    await waitFor(() => f.statuses.length === 2, 'the second run status');
    const [a, b] = f.statuses;
    expect(a!.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b!.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b!.runId).not.toBe(a!.runId);
    expect([a!.seq, b!.seq]).toEqual([1, 1]);
  });

  it('the broker publishes offline presence (Last Will) when the connection dies, online again after', async () => {
    const { agent } = makeAgent();
    await agent.start();
    await waitFor(() => f.presences.at(-1)?.online === true, 'online presence');
    cut();
    await waitFor(() => f.presences.at(-1)?.online === false, 'the Last Will');
    await waitFor(() => f.presences.at(-1)?.online === true, 'online again after reconnect');
  });

  it('stop() says offline and leaves containers running', async () => {
    const { agent, runtime } = makeAgent();
    await agent.start();
    await publishTarget(target(1, [pod('web-a')]));
    await waitFor(() => agent.status()?.observedRevision === 1, 'apply');
    await waitFor(() => f.presences.at(-1)?.online === true, 'online');
    await agent.stop();
    await waitFor(() => f.presences.at(-1)?.online === false, 'offline presence');
    expect((await runtime.list()).map((c) => c.state)).toEqual(['running']);
    expect(runtime.calls.filter((c) => !c.startsWith('start'))).toEqual([]);
  });

  describe('logs RPC', () => {
    const request = (id: string, params: Record<string, unknown>) =>
      f.observer.publishAsync(topics.rpcRequest, encodeMessage({ schema: 1, id, method: 'logs', params }), { qos: 1 });
    const answers = (id: string) => f.responses.filter((r) => r.id === id);

    it('answers with the tail in chunks of at most 500 lines', async () => {
      const { agent, runtime } = makeAgent();
      await agent.start();
      await publishTarget(target(1, [pod('web-a')]));
      await waitFor(() => agent.status()?.observedRevision === 1, 'apply');
      for (let i = 0; i < 1300; i++) runtime.appendLog('web-a_main', `line ${i}`, i % 2 ? 'stderr' : 'stdout');
      await request('r1', { pod: 'web-a', tail: 1200 });
      await waitFor(() => answers('r1').some((r) => r.done), 'the last chunk');
      const chunks = answers('r1');
      expect(chunks.map((c) => [c.seq, c.lines?.length, c.done])).toEqual([[0, 500, false], [1, 500, false], [2, 200, true]]);
      const lines = chunks.flatMap((c) => c.lines ?? []);
      expect(lines[0]).toMatchObject({ text: 'line 100', stream: 'stdout', container: 'main' });
      expect(lines.at(-1)?.text).toBe('line 1299');

      await request('r2', { pod: 'nope-a' });
      await waitFor(() => answers('r2').length === 1, 'the error');
      expect(answers('r2')[0]).toMatchObject({ seq: 0, done: true, error: { code: 'NOT_FOUND' } });
    });

    it('follows new lines until the container exits', async () => {
      const { agent, runtime } = makeAgent();
      await agent.start();
      await publishTarget(target(1, [pod('web-a')]));
      await waitFor(() => agent.status()?.observedRevision === 1, 'apply');
      runtime.appendLog('web-a_main', 'old');
      await request('f1', { pod: 'web-a', container: 'main', follow: true, tail: 1 });
      await waitFor(() => answers('f1').length >= 1, 'the backlog');
      runtime.appendLog('web-a_main', 'new 1');
      runtime.appendLog('web-a_main', 'new 2');
      await waitFor(() => answers('f1').flatMap((r) => r.lines ?? []).length === 3, 'the new lines');
      runtime.exit('web-a_main', 0);
      await waitFor(() => answers('f1').some((r) => r.done), 'the end of the follow');
      expect(answers('f1').flatMap((r) => r.lines ?? []).map((l) => l.text)).toEqual(['old', 'new 1', 'new 2']);
      expect(answers('f1').map((r) => r.seq)).toEqual(answers('f1').map((_, i) => i));
    });

    it('ends a follow when its window closes', async () => {
      const { agent, runtime, clock } = makeAgent({ logFollowSeconds: 5 });
      await agent.start();
      await publishTarget(target(1, [pod('web-a')]));
      await waitFor(() => agent.status()?.observedRevision === 1, 'apply');
      runtime.appendLog('web-a_main', 'x');
      await request('f2', { pod: 'web-a', follow: true });
      await waitFor(() => answers('f2').length >= 1, 'the backlog');
      clock.advance(5000);
      await waitFor(() => answers('f2').some((r) => r.done), 'the end of the window');
      expect(runtime.get('web-a_main')?.state).toBe('running');
    });
  });
});
