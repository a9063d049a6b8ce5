/**
 * Forwards the names the cluster does not own to the host's resolvers: each query under a fresh
 * random id from a fresh UDP socket (a random source port: a forged answer must guess both),
 * accepted only from the server asked and only for the question asked; a truncated answer is
 * asked again over TCP. Each upstream gets `timeoutMs`; a SERVFAIL or REFUSED moves on to the next
 * one, as a stub resolver does. At most `maxInFlight` forwards run at once: beyond that the
 * caller answers SERVFAIL, so a flood from a pod costs bounded memory and sockets.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP, connect } from 'node:net';
import type { DecodedPacket } from 'dns-packet';
import type { Clock } from '../../../../src/core/clock.js';
import { MAX_TCP_MESSAGE_BYTES } from './dns-limits.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsForwarderOptions {
  /** The resolvers to ask, in order (re-read by the caller as the host's resolv.conf changes). */
  upstreams: () => Promise<readonly Upstream[]>;
  clock: Clock;
  /** Per upstream and attempt (default 2 s; a stub resolver waits 5 s in all). */
  timeoutMs?: number;
  /** Forwards at once (default 256). */
  maxInFlight?: number;
}

const RCODE_SERVFAIL = 2;
const RCODE_REFUSED = 5;

export class DnsForwarder {
  private inFlight = 0;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: DnsForwarderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxInFlight = opts.maxInFlight ?? 256;
  }

  /** The upstream's response to `query` (its id is ours, not the client's), or undefined: none answered, or too busy. */
  async forward(query: Buffer): Promise<Buffer | undefined> {
    if (this.inFlight >= this.maxInFlight) return undefined;
    this.inFlight++;
    try {
      let last: Buffer | undefined;
      for (const upstream of await this.opts.upstreams()) {
        const response = await this.ask(upstream, query);
        if (!response) continue;
        last = response;
        const rcode = response.readUInt16BE(2) & 0xf;
        if (rcode !== RCODE_SERVFAIL && rcode !== RCODE_REFUSED) return response;
      }
      return last;
    } finally {
      this.inFlight--;
    }
  }

  /** dns-packet loads with the first forwarded query (dns-limits.ts says why). */
  private loadedDecoder: Promise<Decode> | undefined;
  private decoder(): Promise<Decode> {
    return (this.loadedDecoder ??= import('dns-packet').then((m) => m.default.decode));
  }

  private async ask(upstream: Upstream, query: Buffer): Promise<Buffer | undefined> {
    const message = Buffer.from(query);
    const id = randomInt(0, 65536);
    message.writeUInt16BE(id, 0);
    const decode = await this.decoder();
    const questionOf = (m: Buffer): QuestionKey | undefined => questionIn(decode, m);
    const expect = questionOf(message);
    if (!expect) return undefined;
    const accept = (response: Buffer): boolean => response.length >= 12 && response.readUInt16BE(0) === id && (response[2]! & 0x80) !== 0 && sameQuestion(questionOf(response), expect);
    const overUdp = await this.udpExchange(upstream, message, accept);
    // TC: the answer did not fit a datagram; ask again over TCP (RFC 7766).
    if (overUdp && (overUdp[2]! & 0x02) !== 0) return (await this.tcpExchange(upstream, message, accept)) ?? overUdp;
    return overUdp;
  }

  private udpExchange(upstream: Upstream, message: Buffer, accept: (b: Buffer) => boolean): Promise<Buffer | undefined> {
    const socket: Socket = createSocket(isIP(upstream.host) === 6 ? 'udp6' : 'udp4');
    return this.exchange(
      () => socket.close(),
      (finish) => {
        socket.on('error', () => finish(undefined));
        socket.on('message', (msg, from) => {
          if (from.port === upstream.port && from.address === upstream.host && accept(msg)) finish(msg);
        });
        socket.send(message, upstream.port, upstream.host, (err) => {
          if (err) finish(undefined);
        });
      },
    );
  }

  private tcpExchange(upstream: Upstream, message: Buffer, accept: (b: Buffer) => boolean): Promise<Buffer | undefined> {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let buffered = Buffer.alloc(0);
    return this.exchange(
      () => socket.destroy(),
      (finish) => {
        socket.on('error', () => finish(undefined));
        socket.on('close', () => finish(undefined));
        socket.on('connect', () => {
          const length = Buffer.alloc(2);
          length.writeUInt16BE(message.length);
          socket.write(Buffer.concat([length, message]));
        });
        socket.on('data', (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          if (buffered.length > 2 + MAX_TCP_MESSAGE_BYTES) return finish(undefined);
          if (buffered.length < 2) return;
          const size = buffered.readUInt16BE(0);
          if (buffered.length < 2 + size) return;
          const response = buffered.subarray(2, 2 + size);
          finish(accept(response) ? Buffer.from(response) : undefined);
        });
      },
    );
  }

  /** One exchange: settled by its first finish() or, with undefined, after timeoutMs; `release` runs once either way. */
  private exchange(release: () => void, start: (finish: (value: Buffer | undefined) => void) => void): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (value: Buffer | undefined): void => {
        if (done) return;
        done = true;
        this.opts.clock.clearTimeout(timer);
        release();
        resolve(value);
      };
      const timer = this.opts.clock.setTimeout(() => finish(undefined), this.timeoutMs);
      start(finish);
    });
  }
}

interface QuestionKey {
  name: string;
  type: string;
}

type Decode = (message: Buffer) => DecodedPacket;

function questionIn(decode: Decode, message: Buffer): QuestionKey | undefined {
  try {
    const q = decode(message).questions?.[0];
    return q ? { name: q.name.toLowerCase(), type: q.type } : undefined;
  } catch {
    return undefined;
  }
}

function sameQuestion(a: QuestionKey | undefined, b: QuestionKey): boolean {
  return a !== undefined && a.name === b.name && a.type === b.type;
}
