/**
 * mqtt.js's connect() for the two transports an agent uses, mqtt:// and mqtts:// (also spelled
 * tcp:// and ssl:// / tls://). Importing 'mqtt' itself loads every transport it knows (WebSocket,
 * SOCKS, WeChat, Alipay) with their dependencies: ~8 MiB of an idle agent's RSS for code it
 * never runs. The client, its reconnects and the `servers` rotation are mqtt.js's own; only
 * the stream builder is ours, written after mqtt.js's tcp.js/tls.js.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IClientOptions, MqttClient as MqttClientType } from 'mqtt';
import MqttClientModule from 'mqtt/lib/client';
import { PACKET_NUMBERS_UNCACHED } from '../../../src/core/mqtt-packet-numbers.js';

// The CommonJS module's default export, however the ESM interop presents it.
const MqttClient = ((MqttClientModule as unknown as { default?: unknown }).default ?? MqttClientModule) as unknown as new (
  streamBuilder: (client: MqttClientType) => net.Socket,
  options: IClientOptions,
) => MqttClientType;

const SECURE = new Set(['mqtts', 'ssl', 'tls']);
const PLAIN = new Set(['mqtt', 'tcp']);

type Options = IClientOptions & { hostname?: string; servername?: string; _reconnectCount?: number };

function buildStream(client: MqttClientType, opts: Options): net.Socket {
  const protocol = String(opts.protocol);
  if (PLAIN.has(protocol)) {
    return net.createConnection({ port: opts.port || 1883, host: opts.hostname || opts.host || 'localhost' });
  }
  const host = opts.hostname || opts.host || 'localhost';
  const rejectUnauthorized = opts.rejectUnauthorized !== false;
  const { protocol: _p, servers: _s, ...rest } = opts as Record<string, unknown>;
  const connection = tls.connect({
    ...(rest as tls.ConnectionOptions),
    host,
    port: opts.port || 8883,
    ...(net.isIP(host) === 0 && !opts.servername ? { servername: host } : {}),
    rejectUnauthorized,
  });
  const onError = (err: Error): void => {
    if (rejectUnauthorized) client.emit('error', err);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', onError);
  });
  connection.on('error', onError);
  return connection;
}

/** Same contract as mqtt.connect(url, options) for mqtt(s):// URLs; anything else throws. */
export function connectMqtt(brokerUrl: string, options: IClientOptions): MqttClientType {
  const url = new URL(brokerUrl);
  const protocol = url.protocol.replace(/:$/, '');
  if (!PLAIN.has(protocol) && !SECURE.has(protocol)) throw new Error(`unsupported MQTT transport ${protocol}:// (use mqtt:// or mqtts://)`);
  const opts: Options = {
    protocol: protocol as IClientOptions['protocol'],
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    // No 6 MiB cache of packet numbers (src/core/mqtt-packet-numbers.ts), unless asked for.
    ...PACKET_NUMBERS_UNCACHED,
    ...options,
  };
  const defaultProtocol = opts.protocol;
  const client = new MqttClient((c) => {
    // mqtt.js's rotation: each (re)connect takes the next of `servers`.
    const self = c as MqttClientType & { _reconnectCount?: number };
    if (opts.servers?.length) {
      if (!self._reconnectCount || self._reconnectCount === opts.servers.length) self._reconnectCount = 0;
      const server = opts.servers[self._reconnectCount]!;
      opts.host = server.host;
      opts.port = server.port;
      opts.protocol = server.protocol ?? defaultProtocol;
      opts.hostname = server.host;
      self._reconnectCount++;
    }
    return buildStream(c, opts);
  }, opts);
  // As mqtt.connect does: an 'error' without listeners must not crash the process.
  client.on('error', () => undefined);
  return client;
}
