import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { silentLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { ensureClusterCa, issueServerCert, type ClusterCa, type ServerCertificate } from '../../src/server/security/ca.js';
import { SERVER_USERNAME, generatePassword, hashPassword, nodeUsername, verifyPassword } from '../../src/server/security/credentials.js';
import { brokerContract, type BrokerUser } from '../contract/broker.contract.js';

function tableAuthenticator(users: BrokerUser[]): (u: string, p: string) => Promise<boolean> {
  const hashes = new Map(users.map((u) => [u.username, hashPassword(u.password)]));
  return async (username, password) => {
    const hash = hashes.get(username);
    return hash !== undefined && verifyPassword(password, hash);
  };
}

brokerContract('embedded (aedes)', async (users, cluster) => {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    cluster,
    authenticate: tableAuthenticator(users),
    logger: silentLogger(),
  });
  return { url: broker.url, stop: () => broker.close() };
});

describe('embedded broker', () => {
  const server: BrokerUser = { username: SERVER_USERNAME, password: generatePassword() };
  const node: BrokerUser = { username: nodeUsername('pi-1'), password: generatePassword() };
  let dir: string;
  let ca: ClusterCa;
  let leaf: ServerCertificate;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-broker-'));
    ca = await ensureClusterCa(dir, { logger: silentLogger() });
    leaf = await issueServerCert(ca, { hosts: ['127.0.0.1'] });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: Partial<Parameters<typeof startEmbeddedBroker>[0]> = {}): Promise<EmbeddedBroker> {
    return startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      cluster: 'c1',
      authenticate: tableAuthenticator([server, node]),
      logger: silentLogger(),
      ...extra,
    });
  }

  it('reports its URL, counts clients and closes with clients still connected', async () => {
    const broker = await start();
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    const client = await connectAsync(broker.url, { ...server, reconnectPeriod: 0 });
    expect(broker.clientCount()).toBe(1);
    await broker.close();
    await broker.close(); // idempotent
    await expect(connectAsync(broker.url, { ...server, reconnectPeriod: 0, connectTimeout: 1000 }, false)).rejects.toThrow();
    await client.endAsync(true);
  });

  it('disconnects a user on demand (a deleted node), whatever client id it sent', async () => {
    const broker = await start();
    try {
      const client = await connectAsync(broker.url, { ...node, clientId: 'anything', reconnectPeriod: 0 });
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      expect(broker.disconnect(node.username)).toBe(true);
      await closed;
      expect(broker.disconnect(node.username)).toBe(false);
      await client.endAsync(true);
    } finally {
      await broker.close();
    }
  });

  it('serves mqtts with the issued certificate to clients that trust the cluster CA', async () => {
    const broker = await start({ tls: leaf });
    try {
      expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.port}`);
      const client = await connectAsync(broker.url, { ...node, ca: ca.caCertPem, reconnectPeriod: 0 });
      const granted = await client.subscribeAsync('grove/v1/c1/nodes/pi-1/target', { qos: 1 });
      expect(granted[0]?.qos).toBe(1);
      await client.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('is refused over TLS by a client that trusts a different CA', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'grove-broker-other-'));
    const broker = await start({ tls: leaf });
    try {
      const other = await ensureClusterCa(otherDir, { logger: silentLogger() });
      await expect(
        connectAsync(broker.url, { ...node, ca: other.caCertPem, reconnectPeriod: 0, connectTimeout: 3000 }, false),
      ).rejects.toThrow(/certificate/);
      // Plain MQTT against the TLS port does not get through either.
      await expect(
        connectAsync(`mqtt://127.0.0.1:${broker.port}`, { ...node, reconnectPeriod: 0, connectTimeout: 1500 }, false),
      ).rejects.toThrow();
    } finally {
      await broker.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('cuts a connection whose packet header announces more than the limit, before CONNECT', async () => {
    const broker = await start({ maxPacketBytes: 1024 * 1024 });
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = netConnect(broker.port, '127.0.0.1', () => {
          // CONNECT with remaining length 200 MiB (varint 0x80 0x80 0x80 0x64).
          socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]));
        });
        socket.on('close', () => resolve(true));
        socket.on('error', () => undefined);
        setTimeout(() => resolve(false), 3000);
      });
      expect(closed).toBe(true);
    } finally {
      await broker.close();
    }
  });

  it('accepts a 1 MiB retained target and refuses a packet over the limit', async () => {
    const broker = await start({ maxPacketBytes: 1024 * 1024 + 4096 });
    try {
      const s = await connectAsync(broker.url, { ...server, reconnectPeriod: 0 });
      const payload = Buffer.alloc(1024 * 1024, 7);
      await s.publishAsync('grove/v1/c1/nodes/pi-1/target', payload, { qos: 1, retain: true });
      const n = await connectAsync(broker.url, { ...node, reconnectPeriod: 0 });
      const got = new Promise<Buffer>((resolve) => n.on('message', (_t, p) => resolve(p)));
      await n.subscribeAsync('grove/v1/c1/nodes/pi-1/target', { qos: 1 });
      expect((await got).length).toBe(payload.length);
      await n.endAsync();

      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.on('error', () => undefined);
      s.publish('grove/v1/c1/big', Buffer.alloc(2 * 1024 * 1024), { qos: 0 });
      await closed;
      await s.endAsync(true);
    } finally {
      await broker.close();
    }
  });

  it('answers CONNACK 5 for a missing login and 4 for a wrong one, 3 when authentication throws', async () => {
    let fail = false;
    const broker = await start({
      authenticate: async (u, p) => {
        if (fail) throw new Error('store down');
        return tableAuthenticator([server])(u, p);
      },
    });
    try {
      await expect(connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toMatchObject({ code: 5 });
      await expect(connectAsync(broker.url, { username: SERVER_USERNAME, password: 'nope', reconnectPeriod: 0 })).rejects.toMatchObject({ code: 4 });
      fail = true;
      await expect(connectAsync(broker.url, { ...server, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 3 });
    } finally {
      await broker.close();
    }
  });

  it('fails to start on a port in use', async () => {
    const first = await start();
    try {
      await expect(start({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
