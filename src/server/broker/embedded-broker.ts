/**
 * The MQTT broker `grove server` embeds (aedes), so a small cluster needs no Mosquitto.
 *
 * Security, in the order a connection meets it:
 *  1. packet-guard.ts caps every incoming packet (default 2 MiB: a 1 MiB target plus framing)
 *     before aedes buffers it; a bigger header cuts the connection.
 *  2. CONNECT: the client id is replaced by the username (as Mosquitto's
 *     use_username_as_clientid does), so one identity can never take over another's session;
 *     then the injected `authenticate` decides (CONNACK 4 on bad credentials, 5 without any).
 *  3. Every PUBLISH, SUBSCRIBE and Last Will goes through acl.ts. A refused subscription is
 *     answered with SUBACK 0x80; a refused publish closes the connection (MQTT 3.1.1 has no
 *     negative PUBACK) and a refused will is dropped, both logged at warn.
 *
 * Retained messages live in aedes's default in-memory persistence and are lost on restart.
 * That is deliberate: the server re-publishes every node's target from its store at startup,
 * so the store stays the only durable copy and nothing is written to flash twice.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../../core/logger.js';
import { indexRetained, type RetainedPersistence } from './retained-index.js';
import { errorMessage } from '../../core/errors.js';
import { authorize } from '../security/acl.js';
import { DEFAULT_MAX_PACKET_BYTES, GuardedConnection } from './packet-guard.js';
import { writePacketNumbersUncached } from '../../core/mqtt-packet-numbers.js';

const LISTEN_BACKLOG = 8192;

export { DEFAULT_MAX_PACKET_BYTES };

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls?: { certPem: string; keyPem: string };
  cluster: string;
  /** Decides CONNECT; must not throw for wrong credentials (resolve false). */
  authenticate: (username: string, password: string) => Promise<boolean>;
  logger: Logger;
  maxPacketBytes?: number;
  /** How long a socket may stay open without completing the TLS handshake and CONNECT. */
  connectTimeoutMs?: number;
  /** Open sockets beyond this are refused, so a flood cannot exhaust file descriptors. */
  maxConnections?: number;
}

export interface EmbeddedBroker {
  /** mqtt://host:port, or mqtts:// with TLS. */
  url: string;
  port: number;
  close(): Promise<void>;
  clientCount(): number;
  /**
   * Drops the live connection of `username` (client id = username, see above), e.g. right
   * after a node is deleted: authentication only runs at CONNECT. True when one was open.
   */
  disconnect(username: string): boolean;
}

// aedes.d.ts declares the codes as a const enum, which isolated modules cannot import.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.logger.child({ component: 'broker' });
  const { cluster } = options;
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  // Who each connection authenticated as; aedes's Client has no username field.
  const usernames = new WeakMap<Client, string>();
  // Before the first CONNACK: otherwise aedes builds mqtt-packet's 6 MiB number cache.
  writePacketNumbersUncached();

  const aedes = await Aedes.createBroker({
    connectTimeout: connectTimeoutMs,
    preConnect(_client, packet, callback) {
      if (typeof packet.username === 'string') packet.clientId = packet.username;
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      if (username === undefined || password === undefined) {
        log.warn({ clientId: client.id }, 'connection without credentials refused');
        done(authError('credentials required', NOT_AUTHORIZED), false);
        return;
      }
      options.authenticate(username, password.toString('utf8')).then(
        (ok) => {
          if (ok) {
            usernames.set(client, username);
            done(null, true);
          } else {
            log.warn({ username }, 'bad MQTT credentials refused');
            done(authError('bad user name or password', BAD_USERNAME_OR_PASSWORD), false);
          }
        },
        (err: unknown) => {
          log.error({ username, err: errorMessage(err) }, 'authentication failed');
          done(authError('authentication unavailable', SERVER_UNAVAILABLE), false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      // client is null only for wills of clients gone from another broker: never ours to allow.
      const username = client === null ? undefined : usernames.get(client);
      if (authorize({ username, action: 'publish', topic: packet.topic, cluster })) {
        callback(null);
        return;
      }
      log.warn({ username, topic: packet.topic }, 'publish (or Last Will) denied');
      callback(new Error(`publish to ${packet.topic} not authorized`));
    },
    authorizeSubscribe(client, subscription, callback) {
      const username = usernames.get(client);
      if (authorize({ username, action: 'subscribe', topic: subscription.topic, cluster })) {
        callback(null, subscription);
        return;
      }
      log.warn({ username, topic: subscription.topic }, 'subscription denied');
      // A null subscription makes aedes answer 0x80 (failure) in the SUBACK.
      callback(null, null);
    },
  });

  indexRetained((aedes as unknown as { persistence: RetainedPersistence }).persistence);

  aedes.on('client', (client) => log.debug({ clientId: client.id }, 'client connected'));
  aedes.on('clientDisconnect', (client) => log.debug({ clientId: client.id }, 'client disconnected'));
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'connection error'));

  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const conn = new GuardedConnection(socket, maxPacketBytes, (reason) =>
      log.warn({ remote: socket.remoteAddress, reason }, 'oversize MQTT packet; connection closed'),
    );
    aedes.handle(conn);
  };

  let server: Server;
  if (options.tls) {
    const tlsServer = createTlsServer({
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      minVersion: 'TLSv1.2',
      handshakeTimeout: connectTimeoutMs,
    });
    tlsServer.on('secureConnection', onSocket);
    // Clients that distrust our certificate abort here; that is their decision, not our error.
    tlsServer.on('tlsClientError', (err, socket) => log.debug({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed'));
    server = tlsServer;
  } else {
    server = createTcpServer(onSocket);
  }
  server.maxConnections = options.maxConnections ?? 1000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A deep accept queue (the kernel caps it at net.core.somaxconn): in a join or reconnect
      // storm Node's default of 511 overflows, and dropped SYNs come back only after 1, 3, 7 s…
      server.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  server.on('error', (err) => log.error({ err: err.message }, 'broker listener error'));

  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `${options.tls ? 'mqtts' : 'mqtt'}://${urlHost(options.host)}:${port}`;
  log.info({ url, cluster, maxPacketBytes }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    clientCount: () => aedes.connectedClients,
    disconnect(username) {
      // `clients` is aedes's id → Client table; its typings leave it out.
      const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[username];
      if (client === undefined) return false;
      log.info({ username }, 'disconnecting client');
      client.close();
      return true;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // Sockets still in the TLS handshake or before CONNECT are not aedes clients yet.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        log.info({ url }, 'embedded MQTT broker closed');
      })();
      return closing;
    },
  };
}
