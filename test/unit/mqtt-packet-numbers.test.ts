/**
 * mqtt-packet's cache of the 65,536 packet numbers (~6 MiB of Buffers, kept for good) must not be
 * built by a daemon: neither by the embedded broker (aedes) nor by an agent's mqtt.js client.
 * The switch is process-wide, so each side is checked on its own from the cached default.
 */
import { createRequire } from 'node:module';
import mqttPacket from 'mqtt-packet';
import { beforeEach, describe, expect, it } from 'vitest';
import { connectMqtt } from '../../agent/src/agent/mqtt-lean.js';
import { silentLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker } from '../../src/server/broker/embedded-broker.js';

// The cache object the encoder fills (mqtt-packet/numbers.js), as the encoder itself sees it.
const numberCache = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'))('./numbers.js').cache as Record<number, Buffer>;

const startBroker = () => startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: 'c1', authenticate: async () => true, logger: silentLogger() });

describe('mqtt packet numbers', () => {
  // mqtt-packet's default (the cache is only built at the first write after this).
  beforeEach(() => {
    mqttPacket.writeToStream.cacheNumbers = true;
  });

  it('the embedded broker switches the cache off before it listens', async () => {
    const broker = await startBroker();
    try {
      expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    } finally {
      await broker.close();
    }
  });

  it('an agent client switches the cache off when it is made', async () => {
    const client = connectMqtt('mqtt://127.0.0.1:1', { reconnectPeriod: 0 });
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    await client.endAsync(true);
  });

  it('after packets with numbers both ways (CONNECT keepalive, SUBSCRIBE/SUBACK ids) no cache exists', async () => {
    const broker = await startBroker();
    const client = connectMqtt(broker.url, { username: 'node-pi-1', password: 'x', reconnectPeriod: 0 });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      // Granted or refused, the broker answers with a SUBACK carrying the packet id.
      await new Promise<void>((resolve) => client.subscribe('grove/c1/anything', { qos: 1 }, () => resolve()));
      expect(Object.keys(numberCache)).toHaveLength(0);
    } finally {
      await client.endAsync(true);
      await broker.close();
    }
  });
});
