/**
 * What any broker Grove runs on must enforce (src/server/security/acl.ts): the embedded aedes
 * broker and an external Mosquitto configured with mosquitto.ts's files both run this.
 *
 * Negative cases wait a fixed second for a message that must never come: a broker delivers
 * within milliseconds on loopback, so silence for 1 s is a meaningful "no".
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { SERVER_USERNAME, generatePassword, nodeUsername } from '../../src/server/security/credentials.js';
import { topicsFor } from '../../src/core/topics.js';

export interface BrokerUser {
  username: string;
  password: string;
}

export interface StartedBroker {
  url: string;
  stop(): Promise<void>;
}

export type StartBroker = (users: BrokerUser[], cluster: string) => Promise<StartedBroker>;

export const CONTRACT_CLUSTER = 'contract';
const QUIET_MS = 1000;

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export function brokerContract(name: string, start: StartBroker): void {
  describe(`broker contract: ${name}`, () => {
    const cluster = CONTRACT_CLUSTER;
    const server: BrokerUser = { username: SERVER_USERNAME, password: generatePassword() };
    // pi-10 starts with pi-1: a prefix match anywhere would leak between them.
    const a: BrokerUser = { username: nodeUsername('pi-1'), password: generatePassword() };
    const b: BrokerUser = { username: nodeUsername('pi-10'), password: generatePassword() };
    const topicsA = topicsFor(cluster, 'pi-1');
    const topicsB = topicsFor(cluster, 'pi-10');
    let broker: StartedBroker;
    const clients: MqttClient[] = [];

    beforeAll(async () => {
      broker = await start([server, a, b], cluster);
    });
    afterAll(async () => {
      await broker?.stop();
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    });

    async function connect(user: BrokerUser, extra: IClientOptions = {}): Promise<MqttClient> {
      const client = await connectAsync(broker.url, {
        username: user.username,
        password: user.password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        protocolVersion: 4,
        ...extra,
      });
      clients.push(client);
      // A denied publish makes some brokers drop the connection; that must not fail the test.
      client.on('error', () => undefined);
      return client;
    }

    function collect(client: MqttClient): Received[] {
      const got: Received[] = [];
      client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
      return got;
    }

    async function waitFor(got: Received[], predicate: (r: Received) => boolean, ms = 5000): Promise<Received> {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = got.find(predicate);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const quiet = () => new Promise((r) => setTimeout(r, QUIET_MS));

    /** Subscribes and reports whether the broker granted it (false: SUBACK failure or error). */
    async function trySubscribe(client: MqttClient, topic: string): Promise<boolean> {
      try {
        const granted = await client.subscribeAsync(topic, { qos: 1 });
        return granted.every((g) => g.qos !== 128 && g.qos < 0x80);
      } catch {
        return false;
      }
    }

    async function expectConnectRefused(options: IClientOptions): Promise<void> {
      await expect(connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options }, false)).rejects.toThrow();
    }

    it('lets the server publish and subscribe anywhere under its cluster', async () => {
      const s = await connect(server);
      const got = collect(s);
      expect(await trySubscribe(s, `grove/v1/${cluster}/#`)).toBe(true);
      await s.publishAsync(`grove/v1/${cluster}/probe/x`, 'hello', { qos: 1 });
      await s.publishAsync(topicsA.target, 'not retained', { qos: 1 });
      await waitFor(got, (r) => r.topic === `grove/v1/${cluster}/probe/x` && r.payload === 'hello');
      await waitFor(got, (r) => r.topic === topicsA.target);
    });

    it('does not let the server outside its cluster', async () => {
      const listener = await connect(server);
      const got = collect(listener);
      // Mosquitto grants the SUBACK and filters per message, aedes refuses it: either way
      // nothing may arrive, and the publish itself is refused.
      await trySubscribe(listener, 'grove/v1/other/#');
      await trySubscribe(listener, '$SYS/#');
      const publisher = await connect(server);
      publisher.publish('grove/v1/other/nodes/pi-1/target', 'cross-cluster', { qos: 0 });
      await quiet();
      expect(got.filter((r) => r.payload === 'cross-cluster' || r.topic.startsWith('$SYS'))).toEqual([]);
    });

    it('delivers a node its retained target and RPC requests', async () => {
      const s = await connect(server);
      await s.publishAsync(topicsA.target, 'target-A', { qos: 1, retain: true });
      const nodeA = await connect(a);
      const got = collect(nodeA);
      expect(await trySubscribe(nodeA, topicsA.target)).toBe(true);
      expect(await trySubscribe(nodeA, topicsA.rpcRequest)).toBe(true);
      const target = await waitFor(got, (r) => r.topic === topicsA.target);
      expect(target.payload).toBe('target-A');
      expect(target.retain).toBe(true);
      await s.publishAsync(topicsA.rpcRequest, 'req-1', { qos: 1 });
      await waitFor(got, (r) => r.topic === topicsA.rpcRequest && r.payload === 'req-1');
    });

    it("refuses a node another node's target (pi-1 vs pi-10)", async () => {
      const s = await connect(server);
      await s.publishAsync(topicsB.target, 'target-B', { qos: 1, retain: true });
      const nodeA = await connect(a);
      const got = collect(nodeA);
      await trySubscribe(nodeA, topicsB.target);
      await trySubscribe(nodeA, topicsB.rpcRequest);
      await s.publishAsync(topicsB.rpcRequest, 'req-B', { qos: 1 });
      await quiet();
      expect(got).toEqual([]);
    });

    it('gives a node nothing of other nodes through wildcard subscriptions', async () => {
      const s = await connect(server);
      await s.publishAsync(topicsB.target, 'target-B', { qos: 1, retain: true });
      const nodeA = await connect(a);
      const got = collect(nodeA);
      for (const filter of ['#', `grove/v1/${cluster}/#`, `grove/v1/${cluster}/nodes/+/target`, 'grove/v1/+/nodes/pi-10/target', `grove/v1/${cluster}/nodes/pi-1+/target`]) {
        await trySubscribe(nodeA, filter);
      }
      await s.publishAsync(topicsB.target, 'target-B2', { qos: 1, retain: true });
      await s.publishAsync(topicsB.status, 'status-B', { qos: 1 });
      await quiet();
      // Mosquitto may grant a wildcard and then filter per message; a node's own topics may
      // then legitimately arrive. Nothing else may.
      expect(got.filter((r) => !Object.values(topicsA).includes(r.topic))).toEqual([]);
    });

    it('lets a node publish its own status, presence and RPC responses', async () => {
      const s = await connect(server);
      const got = collect(s);
      expect(await trySubscribe(s, `grove/v1/${cluster}/nodes/+/#`)).toBe(true);
      const nodeA = await connect(a);
      await nodeA.publishAsync(topicsA.status, 'status-A', { qos: 1 });
      await nodeA.publishAsync(topicsA.presence, 'online', { qos: 1, retain: true });
      await nodeA.publishAsync(topicsA.rpcResponse, 'res-A', { qos: 1 });
      await waitFor(got, (r) => r.topic === topicsA.status && r.payload === 'status-A');
      await waitFor(got, (r) => r.topic === topicsA.presence && r.payload === 'online');
      await waitFor(got, (r) => r.topic === topicsA.rpcResponse && r.payload === 'res-A');
    });

    it("stops a node publishing another node's status or presence, or any target", async () => {
      const s = await connect(server);
      const got = collect(s);
      expect(await trySubscribe(s, `grove/v1/${cluster}/nodes/+/status`)).toBe(true);
      expect(await trySubscribe(s, `grove/v1/${cluster}/nodes/+/presence`)).toBe(true);
      expect(await trySubscribe(s, `grove/v1/${cluster}/nodes/+/target`)).toBe(true);
      got.length = 0;
      const rogue = async (topic: string) => {
        // QoS 0: a broker that drops the connection never acknowledges.
        const nodeA = await connect(a);
        nodeA.publish(topic, 'forged', { qos: 0 });
      };
      await rogue(topicsB.status);
      await rogue(topicsB.presence);
      await rogue(topicsA.target);
      await rogue(`grove/v1/${cluster}/nodes/pi-1/status/extra`);
      await quiet();
      expect(got.filter((r) => r.payload === 'forged')).toEqual([]);
    });

    it('refuses a wrong password, an unknown user and an anonymous client', async () => {
      await expectConnectRefused({ username: a.username, password: b.password });
      await expectConnectRefused({ username: nodeUsername('ghost'), password: a.password });
      await expectConnectRefused({});
    });

    it("does not let one node take over another's session by client id", async () => {
      const nodeB = await connect(b, { clientId: 'shared-id' });
      await connect(a, { clientId: 'shared-id' });
      await quiet();
      expect(nodeB.connected).toBe(true);
    });

    it("delivers a node's Last Will on its own presence", async () => {
      const s = await connect(server);
      const got = collect(s);
      expect(await trySubscribe(s, topicsA.presence)).toBe(true);
      const nodeA = await connect(a, { will: { topic: topicsA.presence, payload: Buffer.from('offline-A'), qos: 1, retain: false } });
      nodeA.stream.destroy();
      await waitFor(got, (r) => r.topic === topicsA.presence && r.payload === 'offline-A');
    });

    it("drops a Last Will aimed at another node's presence", async () => {
      const s = await connect(server);
      const got = collect(s);
      expect(await trySubscribe(s, topicsB.presence)).toBe(true);
      got.length = 0;
      let nodeA: MqttClient | undefined;
      try {
        nodeA = await connect(a, { will: { topic: topicsB.presence, payload: Buffer.from('fake-offline'), qos: 1, retain: true } });
      } catch {
        // Refusing the CONNECT outright is an acceptable way to refuse the will.
      }
      nodeA?.stream.destroy();
      await quiet();
      expect(got.filter((r) => r.payload === 'fake-offline')).toEqual([]);
    });
  });
}
