/**
 * The server's end of stream sessions with nodes (docs/protocol.md "Stream sessions"): exec
 * and portforward reach a node behind NAT over its rpc topics, as logs do. A session is opened
 * by an `exec` / `portforward` request; the server's side (input, eof, resize, acks, close)
 * follows as numbered `stream` requests; the node's answers (started, output, acks, the exit
 * code or an error) come back as numbered rpc responses, which the RpcProxy hands here when
 * they belong to no request of its own.
 *
 * Flow control both ways (src/core/stream-flow.ts): the node sends output while its window is
 * open and the server acknowledges what the client took; the server's input waits for the
 * node's acknowledgements. Sessions are bounded per node and in all; one that hears nothing
 * from its node for `idleMs` ends (the node keeps it alive every `keepaliveMs` while idle).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { every, systemClock, type Clock } from '../../core/clock.js';
import { ErrorCode, GroveError, errorMessage, type ErrorCode as Code } from '../../core/errors.js';
import { AckCounter, InOrder, SendWindow } from '../../core/stream-flow.js';
import { topicsFor } from '../../core/topics.js';
import { encodeMessage } from '../../core/wire.js';
import { STREAM_LIMITS } from '../../core/wire-limits.js';
import { WIRE_SCHEMA, type ExecRpcRequest, type PortForwardRpcRequest, type RpcRequest, type RpcResponse, type StreamRpcRequest } from '../../core/wire-types.js';

export interface StreamLimits {
  /** Sessions open at once on one node, and in all. */
  maxPerNode: number;
  maxSessions: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = Object.freeze({ maxPerNode: 16, maxSessions: 256 });
/** The node must say the session started within this long. */
export const DEFAULT_OPEN_TIMEOUT_MS = 20_000;
export const DEFAULT_IDLE_MS = 60_000;
export const DEFAULT_KEEPALIVE_MS = 20_000;
const MAX_EARLY = 64;

export type OpenParams = { method: 'exec'; params: ExecRpcRequest['params'] } | { method: 'portforward'; params: PortForwardRpcRequest['params'] };

/** How a session ended: the process's exit code (exec), or why it failed. */
export interface StreamEnd {
  exitCode?: number;
  error?: GroveError;
}

export interface StreamHandlers {
  /** Output; `passedOn` must be called once the bytes are delivered (it opens the node's window). */
  onOut(data: Buffer, passedOn: () => void): void;
  onErr(data: Buffer, passedOn: () => void): void;
  /** Once, last. */
  onEnd(end: StreamEnd): void;
}

/** An open session, as the HTTP side drives it. */
export interface NodeStream {
  /** Resolves once there is room for more (the node acknowledged enough). */
  write(data: Uint8Array): Promise<void>;
  endInput(): void;
  resize(width: number, height: number): void;
  /** The client went away: the node kills the process / closes the connection. */
  close(): void;
}

export interface NodeStreamsOptions {
  cluster: string;
  logger: Logger;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  clock?: Clock;
  newId?: () => string;
  limits?: Partial<StreamLimits>;
  openTimeoutMs?: number;
  idleMs?: number;
  keepaliveMs?: number;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

class Session implements NodeStream {
  private seq = 0;
  private ended = false;
  private started = false;
  readonly incoming = new InOrder<RpcResponse>(MAX_EARLY);
  private readonly window = new SendWindow(STREAM_LIMITS.windowBytes);
  private readonly outputAcks = new AckCounter(STREAM_LIMITS.windowBytes);
  lastHeard: number;
  lastSent: number;
  private resolveStart!: () => void;
  private rejectStart!: (err: GroveError) => void;
  readonly opened = new Promise<void>((resolve, reject) => {
    this.resolveStart = resolve;
    this.rejectStart = reject;
  });

  constructor(
    readonly id: string,
    readonly node: string,
    private readonly owner: NodeStreams,
    private readonly handlers: StreamHandlers,
  ) {
    this.lastHeard = this.lastSent = owner.now();
    // A session that never opened has nobody waiting on `opened` once it failed.
    this.opened.catch(() => undefined);
  }

  async write(data: Uint8Array): Promise<void> {
    for (let offset = 0; offset < data.byteLength; offset += STREAM_LIMITS.chunkBytes) {
      while (this.window.available <= 0 && !this.ended) await this.window.opened();
      if (this.ended) return;
      const part = data.subarray(offset, offset + STREAM_LIMITS.chunkBytes);
      this.window.consume(part.byteLength);
      this.send({ input: part });
    }
  }

  endInput(): void {
    if (!this.ended) this.send({ eof: true });
  }

  resize(width: number, height: number): void {
    const cap = (n: number): number => Math.max(0, Math.min(STREAM_LIMITS.terminalCells, Math.floor(n)));
    if (!this.ended) this.send({ resize: { width: cap(width), height: cap(height) } });
  }

  close(): void {
    if (this.ended) return;
    this.send({ close: true });
    this.end({ error: new GroveError(ErrorCode.Internal, 'closed by the client') }, false);
  }

  /** Sends one `stream` message of this session, numbered. */
  send(fields: Omit<StreamRpcRequest['params'], 'seq'>): void {
    this.lastSent = this.owner.now();
    const ack = this.outputAcks.pending();
    const request: RpcRequest = { schema: WIRE_SCHEMA, id: this.id, method: 'stream', params: { seq: this.seq++, ...fields, ...(ack !== undefined && fields.ack === undefined ? { ack } : {}) } };
    this.owner.publishTo(this.node, request).catch((err: unknown) => {
      this.end({ error: new GroveError(ErrorCode.NodeUnavailable, `could not reach node ${this.node}: ${errorMessage(err)}`, { cause: err }) }, true);
    });
  }

  /** A chunk of the node, in order. */
  deliver(chunk: RpcResponse): void {
    if (this.ended) return;
    if (chunk.ack !== undefined) this.window.acknowledge(chunk.ack);
    if (chunk.started && !this.started) {
      this.started = true;
      this.resolveStart();
    }
    const passedOn = (bytes: number) => () => {
      const ack = this.outputAcks.passed(bytes);
      if (ack !== undefined && !this.ended) this.send({ ack });
    };
    if (chunk.out && chunk.out.byteLength > 0) this.handlers.onOut(Buffer.from(chunk.out), passedOn(chunk.out.byteLength));
    if (chunk.err && chunk.err.byteLength > 0) this.handlers.onErr(Buffer.from(chunk.err), passedOn(chunk.err.byteLength));
    if (chunk.error) {
      const code = (KNOWN_CODES.has(chunk.error.code) ? chunk.error.code : ErrorCode.Internal) as Code;
      this.end({ error: new GroveError(code, chunk.error.message, { details: { node: this.node } }) }, false);
    } else if (chunk.done) {
      this.end(chunk.exitCode !== undefined ? { exitCode: chunk.exitCode } : {}, false);
    }
  }

  /** Ends the session once; `tellNode`: the node may not know yet (a timeout, a failed publish). */
  end(end: StreamEnd, tellNode: boolean): void {
    if (this.ended) return;
    if (tellNode) this.send({ close: true });
    this.ended = true;
    this.window.wake();
    this.owner.forget(this);
    if (!this.started) this.rejectStart(end.error ?? new GroveError(ErrorCode.Internal, `node ${this.node} ended the session before it started`));
    this.handlers.onEnd(end);
  }

  get isStarted(): boolean {
    return this.started;
  }
}

export class NodeStreams {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly limits: StreamLimits;
  private readonly sessions = new Map<string, Session>();
  private readonly perNode = new Map<string, number>();
  private stopTimer: (() => void) | undefined;

  constructor(private readonly opts: NodeStreamsOptions) {
    this.log = opts.logger.child({ component: 'node-streams' });
    this.clock = opts.clock ?? systemClock();
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  }

  now(): number {
    return this.clock.now();
  }

  /** Sessions open now (tests, diagnostics). */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session on `node`; resolves with it once the node has started the process (or
   * connected), rejects with the node's error (or NodeUnavailable when it does not answer).
   */
  async open(node: string, what: OpenParams, handlers: StreamHandlers): Promise<NodeStream> {
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new GroveError(ErrorCode.RateLimited, `the server already relays ${this.sessions.size} exec and port-forward sessions (the most it allows): try again later`);
    }
    const onNode = this.perNode.get(node) ?? 0;
    if (onNode >= this.limits.maxPerNode) {
      throw new GroveError(ErrorCode.RateLimited, `node ${node} already has ${onNode} exec and port-forward sessions open (the most the server allows per node): try again later`);
    }
    const id = (this.opts.newId ?? randomUUID)();
    const session = new Session(id, node, this, handlers);
    this.sessions.set(id, session);
    this.perNode.set(node, onNode + 1);
    this.ensureTimer();
    const request = { schema: WIRE_SCHEMA, id, ...what } as RpcRequest;
    this.publishTo(node, request).catch((err: unknown) => {
      session.end({ error: new GroveError(ErrorCode.NodeUnavailable, `could not send the ${what.method} request to node ${node}: ${errorMessage(err)}`, { cause: err }) }, false);
    });
    await session.opened;
    return session;
  }

  /** A response of a node that no RpcProxy request claimed: true when it was a session's. */
  handle(node: string, response: RpcResponse): boolean {
    const session = this.sessions.get(response.id);
    // Another node cannot answer for this one: the topic is what the broker authenticated.
    if (!session || session.node !== node) return false;
    session.lastHeard = this.clock.now();
    let ready: RpcResponse[];
    try {
      ready = session.incoming.accept(response.seq, response);
    } catch (err) {
      session.end({ error: new GroveError(ErrorCode.NodeUnavailable, `node ${node}: ${errorMessage(err)}`) }, true);
      return true;
    }
    for (const chunk of ready) session.deliver(chunk);
    return true;
  }

  /** Ends every session (server stopping). */
  stop(): void {
    for (const s of [...this.sessions.values()]) s.end({ error: new GroveError(ErrorCode.NodeUnavailable, 'server is stopping') }, true);
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  publishTo(node: string, request: RpcRequest): Promise<void> {
    return this.opts.publish(topicsFor(this.opts.cluster, node).rpcRequest, encodeMessage(request));
  }

  forget(session: Session): void {
    if (!this.sessions.delete(session.id)) return;
    const left = (this.perNode.get(session.node) ?? 1) - 1;
    if (left > 0) this.perNode.set(session.node, left);
    else this.perNode.delete(session.node);
    if (this.sessions.size === 0) {
      this.stopTimer?.();
      this.stopTimer = undefined;
    }
  }

  /** One timer for all sessions while any is open: silence ends them, idleness sends keepalives. */
  private ensureTimer(): void {
    if (this.stopTimer) return;
    const idleMs = this.opts.idleMs ?? DEFAULT_IDLE_MS;
    const openMs = this.opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const keepaliveMs = this.opts.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.stopTimer = every(this.clock, Math.min(idleMs, openMs, keepaliveMs) / 4, () => {
      const now = this.clock.now();
      for (const s of [...this.sessions.values()]) {
        const silence = now - s.lastHeard;
        if (!s.isStarted && silence >= openMs) {
          this.log.debug({ node: s.node, session: s.id }, 'node did not start the session');
          s.end({ error: new GroveError(ErrorCode.NodeUnavailable, `node ${s.node} did not answer within ${Math.round(openMs / 1000)} s (offline?)`) }, true);
        } else if (silence >= idleMs) {
          s.end({ error: new GroveError(ErrorCode.NodeUnavailable, `node ${s.node} stopped answering (offline?)`) }, true);
        } else if (s.isStarted && now - s.lastSent >= keepaliveMs) {
          s.send({});
        }
      }
    });
  }
}
