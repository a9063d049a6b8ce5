/**
 * Several broker URLs (a clustered broker): parsing, spreading a fleet over the members, an
 * agent moving to another member when its own dies, and a refused subscription being retried.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import { connect } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { brokerServer, parseBrokerUrls, rotateForKey } from '../../src/core/broker-urls.js';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const FACTS: NodeFacts = {
  arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4e9, memoryAvailableBytes: 2e9, diskFreeBytes: 1e10,
  kernel: '6.1.0', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '0.1.0', labels: {},
};

describe('broker URL lists', () => {
  it('parses comma-separated lists, drops duplicates and rejects what is not an MQTT URL', () => {
    expect(parseBrokerUrls('mqtt://a:1883, mqtt://b:1884,mqtt://a:1883')).toEqual(['mqtt://a:1883', 'mqtt://b:1884']);
    expect(parseBrokerUrls(['mqtts://a:8883', 'mqtt://[::1]:1883'])).toEqual(['mqtts://a:8883', 'mqtt://[::1]:1883']);
    expect(() => parseBrokerUrls('')).toThrow(/no broker URL/);
    expect(() => parseBrokerUrls('http://a:80')).toThrow(/not an mqtt/);
    expect(() => parseBrokerUrls('mqtt://a:1/path')).toThrow(/not an mqtt/);
    expect(() => parseBrokerUrls(Array.from({ length: 17 }, (_, i) => `mqtt://h${i}:1`))).toThrow(/at most 16/);
    expect(brokerServer('mqtts://[::1]:8884')).toEqual({ host: '::1', port: 8884, protocol: 'mqtts' });
    expect(brokerServer('mqtt://b')).toEqual({ host: 'b', port: 1883, protocol: 'mqtt' });
  });

  it('rotates the list per node so that a fleet spreads over every member', () => {
    const urls = ['mqtt://a:1', 'mqtt://b:1', 'mqtt://c:1'];
    const firsts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const rotated = rotateForKey(urls, `node-${i}`);
      expect([...rotated].sort()).toEqual(urls);
      firsts.set(rotated[0]!, (firsts.get(rotated[0]!) ?? 0) + 1);
      expect(rotateForKey(urls, `node-${i}`)).toEqual(rotated); // stable
    }
    for (const url of urls) expect(firsts.get(url)).toBeGreaterThan(50);
  });
});

interface Broker {
  aedes: Aedes;
  server: net.Server;
  sockets: Set<net.Socket>;
  url: string;
  close(): Promise<void>;
}

async function startBroker(options: { refuseSubscriptions?: number } = {}): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  let refusals = options.refuseSubscriptions ?? 0;
  aedes.authorizeSubscribe = (_client, sub, done) => {
    if (sub.topic.endsWith('/target') && refusals > 0) {
      refusals--;
      done(null, null); // negated: SUBACK 128, the connection stays up

    } else done(null, sub);
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    aedes,
    server,
    sockets,
    url,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

async function publishTarget(url: string, node: string, revision: number): Promise<void> {
  const client = connect(url, { clientId: `pub-${revision}` });
  await new Promise<void>((r) => client.once('connect', () => r()));
  const target = makeNodeTarget({ cluster: 'lab', node, revision, pods: [], issuedAt: '2025-01-01T00:00:00Z' });
  await client.publishAsync(topicsFor('lab', node).target, encodeMessage(target), { qos: 1, retain: true });
  await client.endAsync();
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent on several brokers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  function agentOn(urls: string[], node: string): Agent {
    const agent = new Agent({
      nodeName: node,
      cluster: 'lab',
      store: new MemoryStore(),
      runtime: new MemoryRuntime(),
      mqtt: { url: urls[0]!, urls, username: 'n', password: 'p' },
      logger: silentLogger(),
      facts: async () => FACTS,
      reconnectSeconds: 0.1,
    });
    cleanups.push(() => agent.stop());
    return agent;
  }

  it('moves to another member when its broker dies and receives targets there', async () => {
    const a = await startBroker();
    const b = await startBroker();
    cleanups.push(() => a.close(), () => b.close());
    // The node whose rotation starts at `a`: it must move to `b` when `a` dies.
    const node = ['n-0', 'n-1', 'n-2', 'n-3'].find((n) => rotateForKey([a.url, b.url], n)[0] === a.url)!;
    const agent = agentOn([a.url, b.url], node);
    await agent.start();
    await waitFor(() => agent.connected && a.sockets.size > 0, 'agent on broker a');
    await a.close();
    await waitFor(() => agent.connected && b.sockets.size > 0, 'agent on broker b');
    await publishTarget(b.url, node, 7);
    await waitFor(() => agent.appliedRevision() === 7, 'target from broker b');
  });

  it('retries a refused subscription instead of staying deaf', async () => {
    const broker = await startBroker({ refuseSubscriptions: 2 });
    cleanups.push(() => broker.close());
    await publishTarget(broker.url, 'n-9', 3);
    const agent = agentOn([broker.url], 'n-9');
    await agent.start();
    await waitFor(() => agent.appliedRevision() === 3, 'target after refused subscriptions');
  });
});
