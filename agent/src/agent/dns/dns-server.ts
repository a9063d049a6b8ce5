/**
 * The node's cluster DNS server: UDP and TCP on one address (the node-local cluster DNS
 * address), answering the cluster's names from the last network view it was given (so it keeps
 * answering while the Grove server is unreachable: it never asks anyone for them) and forwarding
 * every other name to the host's resolvers. Every packet is checked and size-limited
 * (dns-message.ts); TCP connections are capped in number, size and idle time.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { ErrorCode, GroveError, errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { ClusterRecords, type ClusterAnswer } from './cluster-records.js';
import type { DnsForwarder } from './dns-forwarder.js';
import type * as DnsMessage from './dns-message.js';
import { MAX_QUERY_BYTES, MAX_TCP_MESSAGE_BYTES } from './dns-limits.js';

export interface DnsServerOptions {
  address: string;
  /** Default 53. */
  port?: number;
  forwarder: DnsForwarder;
  logger: Logger;
  /** TCP connections at once (default 64); more are closed at once. */
  maxTcpConnections?: number;
  /** A TCP connection idle this long is closed (default 10 s, RFC 7766's suggestion). */
  tcpIdleMs?: number;
}

export class DnsServer implements Pick<NetworkViewConsumer, 'update'> {
  private records: ClusterRecords | undefined;
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<TcpSocket>();
  private readonly log: Logger;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.logger.child({ component: 'cluster-dns' });
  }

  /** The view's cluster domain, once a view was given. */
  get clusterDomain(): string | undefined {
    return this.records?.clusterDomain;
  }

  /** Re-indexes the names: every query from now on is answered from this view. */
  async update(view: ClusterNetworkView): Promise<void> {
    this.records = ClusterRecords.build(view);
  }

  /**
   * The message codec (dns-message.ts, on dns-packet), loaded with the first query: a node runs
   * its cluster DNS from the start, but an idle one whose pods ask nothing never needs it.
   */
  private loadedCodec: Promise<typeof DnsMessage> | undefined;
  private codec(): Promise<typeof DnsMessage> {
    return (this.loadedCodec ??= import('./dns-message.js'));
  }

  /** Binds UDP and TCP; on failure nothing stays bound. */
  async listen(): Promise<void> {
    const port = this.opts.port ?? 53;
    try {
      this.udp = await this.bindUdp(port);
      this.tcp = await this.bindTcp(port);
    } catch (err) {
      await this.close();
      throw new GroveError(ErrorCode.RuntimeFailed, `cluster DNS: cannot listen on ${this.opts.address}:${port}: ${errorMessage(err)}`, { cause: err });
    }
    this.log.info({ address: this.opts.address, port }, 'cluster DNS listening');
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** The response to one message (undefined: dropped); `udpLimit` false for TCP. */
  async respond(message: Buffer, overUdp: boolean): Promise<Buffer | undefined> {
    const { encodeQuestion, encodeResponse, readQuery, readResponse, relayResponse, servfail } = await this.codec();
    const checked = readQuery(message);
    if (!checked.ok) return checked.reply;
    const { query } = checked;
    const limit = overUdp ? query.udpLimit : MAX_TCP_MESSAGE_BYTES;
    // The cluster's names are class IN only (CHAOS queries such as version.bind go upstream).
    const internet = query.question.class === undefined || query.question.class === 'IN' || query.question.class === 'ANY';
    const answer: ClusterAnswer = this.records && internet ? this.records.resolve(query.question.name, query.question.type) : { kind: 'forward' };
    if (answer.kind === 'forward') {
      const upstream = await this.opts.forwarder.forward(message);
      return upstream ? relayResponse(query, upstream, limit) : servfail(query);
    }
    let { answers, rcode } = answer;
    if (answer.chase !== undefined) {
      // An ExternalName outside the cluster: the CNAME, then what upstream says of its target.
      const chased = await this.opts.forwarder.forward(encodeQuestion(query.id, { name: answer.chase, type: query.question.type, class: 'IN' }));
      const read = chased ? readResponse(chased) : undefined;
      if (read) {
        answers = [...answers, ...read.answers];
        rcode = read.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR';
      }
    }
    return encodeResponse(query, { rcode, authoritative: answer.chase === undefined, answers, authorities: answer.authorities, additionals: answer.additionals }, limit);
  }

  private bindUdp(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: 'udp4' });
      socket.once('error', reject);
      socket.on('message', (message: Buffer, from: RemoteInfo) => {
        void this.safeRespond(message, true).then((reply) => {
          if (reply && this.udp === socket) socket.send(reply, from.port, from.address, () => undefined);
        });
      });
      socket.bind({ address: this.opts.address, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'cluster DNS UDP socket error'));
        resolve(socket);
      });
    });
  }

  private bindTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((conn) => this.serveTcp(conn));
      server.maxConnections = this.opts.maxTcpConnections ?? 64;
      server.once('error', reject);
      server.listen({ host: this.opts.address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'cluster DNS TCP server error'));
        resolve(server);
      });
    });
  }

  /** One TCP connection: length-prefixed queries, answered as they complete (RFC 7766 allows any order). */
  private serveTcp(conn: TcpSocket): void {
    this.connections.add(conn);
    let buffered = Buffer.alloc(0);
    conn.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('close', () => this.connections.delete(conn));
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const size = buffered.readUInt16BE(0);
        // A query is small: a bigger length is not a DNS client talking.
        if (size > MAX_QUERY_BYTES) return conn.destroy();
        if (buffered.length < 2 + size) return;
        const message = Buffer.from(buffered.subarray(2, 2 + size));
        buffered = buffered.subarray(2 + size);
        void this.safeRespond(message, false).then((reply) => {
          if (!reply || conn.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([length, reply]));
        });
      }
    });
  }

  /** respond(), never rejecting: a message that breaks the encoder is dropped and logged. */
  private async safeRespond(message: Buffer, overUdp: boolean): Promise<Buffer | undefined> {
    try {
      return await this.respond(message, overUdp);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'dropped a DNS message');
      return undefined;
    }
  }
}
