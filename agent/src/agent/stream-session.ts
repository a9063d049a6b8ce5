/**
 * The node's end of one stream session (docs/protocol.md "Stream sessions"): relays an endpoint
 * — a process exec'd in a container, or a TCP connection into a pod — to the server over the
 * rpc topics. Output goes out in numbered chunks of at most STREAM_LIMITS.chunkBytes while the
 * server's acknowledgements keep the window open; the server's numbered `stream` messages
 * (input, eof, resize, acks, close) are applied in order, once each. The session ends with one
 * last chunk (done: the exit code, or the error) when the endpoint is done, when the server
 * says close, or after `idleMs` without a word from the server (it went away): the endpoint
 * is then closed (the process killed).
 */
import type { Readable } from 'node:stream';
import type { Clock } from '../../../src/core/clock.js';
import { every } from '../../../src/core/clock.js';
import { ErrorCode, errorMessage, isGroveError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { AckCounter, InOrder, SendWindow } from '../../../src/core/stream-flow.js';
import { STREAM_LIMITS, WIRE_LIMITS } from '../../../src/core/wire-limits.js';
import { WIRE_SCHEMA, type RpcResponse, type StreamRpcRequest } from '../../../src/core/wire-types.js';

/** What a session relays. */
export interface StreamEndpoint {
  /** stdout, or the connection's bytes. */
  out: Readable;
  /** stderr (exec without a terminal). */
  err?: Readable;
  /** Writes input; resolves once it is taken (flow control acknowledges it then). */
  write(data: Uint8Array): Promise<void>;
  /** No more input. */
  endInput(): void;
  resize?(width: number, height: number): void;
  /** Kills the process / destroys the connection; idempotent. */
  close(): void;
  /** The exit code (exec) or nothing (a connection), once the endpoint is done. */
  finished: Promise<number | undefined>;
}

export interface StreamSessionDeps {
  send: (response: RpcResponse) => Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Without a message from the server for this long, the session ends (default 60 s). */
  idleMs?: number;
  /** A message goes to the server at least this often, so it knows the session lives (default 20 s). */
  keepaliveMs?: number;
}

export const DEFAULT_IDLE_MS = 60_000;
export const DEFAULT_KEEPALIVE_MS = 20_000;
/** Stream messages of the server that may arrive ahead of their turn. */
const MAX_EARLY = 64;

type Params = StreamRpcRequest['params'];

export class StreamSession {
  private seq = 0;
  private closed = false;
  private endpoint: StreamEndpoint | undefined;
  private readonly window = new SendWindow(STREAM_LIMITS.windowBytes);
  private readonly inputAcks = new AckCounter(STREAM_LIMITS.windowBytes);
  private readonly incoming = new InOrder<Params>(MAX_EARLY);
  private inputChain: Promise<void> = Promise.resolve();
  private lastHeard: number;
  private lastSent: number;
  private stopTimer: (() => void) | undefined;
  private endReason: { code: string; message: string } | undefined;

  constructor(
    readonly id: string,
    private readonly deps: StreamSessionDeps,
  ) {
    this.lastHeard = this.lastSent = deps.clock.now();
  }

  /**
   * Opens the endpoint and relays it until the end; resolves when the last chunk is sent. An
   * endpoint that cannot be opened ends the session with its error at once.
   */
  async run(open: () => Promise<StreamEndpoint>): Promise<void> {
    const idleMs = this.deps.idleMs ?? DEFAULT_IDLE_MS;
    const keepaliveMs = this.deps.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    try {
      this.endpoint = await open();
    } catch (err) {
      this.closed = true;
      this.reply({ error: wireError(err) }, true);
      return;
    }
    if (this.closed) {
      // The server closed the session while it was being opened.
      this.endpoint.close();
      return;
    }
    this.stopTimer = every(this.deps.clock, Math.min(keepaliveMs, idleMs) / 2, () => {
      const now = this.deps.clock.now();
      if (now - this.lastHeard >= idleMs) this.abort({ code: ErrorCode.Timeout, message: `no word from the server for ${Math.round(idleMs / 1000)} s` });
      else if (now - this.lastSent >= keepaliveMs) this.reply({}, false);
    });
    this.reply({ started: true }, false);
    const endpoint = this.endpoint;
    let exitCode: number | undefined;
    try {
      await Promise.all([this.pump(endpoint.out, 'out'), endpoint.err ? this.pump(endpoint.err, 'err') : undefined]);
      exitCode = await endpoint.finished;
    } catch (err) {
      this.endReason ??= wireError(err);
    }
    this.finish(exitCode);
  }

  /** A `stream` message of the server; applied in order, once. */
  receive(params: Params): void {
    this.lastHeard = this.deps.clock.now();
    let ready: Params[];
    try {
      ready = this.incoming.accept(params.seq, params);
    } catch (err) {
      this.abort(wireError(err));
      return;
    }
    for (const p of ready) this.apply(p);
  }

  /** Ends the session from this side (the agent stops, the server went silent). */
  abort(reason: { code: string; message: string }): void {
    if (this.closed) return;
    this.endReason ??= reason;
    this.endpoint?.close();
    this.closed = true;
    this.window.wake();
    if (!this.endpoint) return;
    // The pumps end as the endpoint closes; run() then sends the last chunk.
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private apply(p: Params): void {
    if (p.ack !== undefined) this.window.acknowledge(p.ack);
    if (p.close) {
      this.endReason ??= { code: ErrorCode.Internal, message: 'closed by the server' };
      this.abort(this.endReason);
      return;
    }
    const endpoint = this.endpoint;
    if (!endpoint || this.closed) return;
    if (p.resize) endpoint.resize?.(p.resize.width, p.resize.height);
    const input = p.input;
    if (input && input.byteLength > 0) {
      this.inputChain = this.inputChain.then(async () => {
        if (this.closed) return;
        await endpoint.write(input);
        const ack = this.inputAcks.passed(input.byteLength);
        if (ack !== undefined) this.reply({ ack }, false);
      });
    }
    if (p.eof) this.inputChain = this.inputChain.then(() => endpoint.endInput());
    this.inputChain = this.inputChain.catch((err: unknown) => {
      // The process closed its stdin (or the connection its read side): further input has nowhere to go.
      this.deps.logger.debug({ session: this.id, err: errorMessage(err) }, 'session input not written');
    });
  }

  private async pump(stream: Readable, field: 'out' | 'err'): Promise<void> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; offset += STREAM_LIMITS.chunkBytes) {
        while (this.window.available <= 0 && !this.closed) await this.window.opened();
        if (this.closed) {
          stream.destroy();
          return;
        }
        const part = chunk.subarray(offset, offset + STREAM_LIMITS.chunkBytes);
        this.window.consume(part.length);
        this.reply({ [field]: part }, false);
      }
    }
  }

  private finish(exitCode: number | undefined): void {
    this.stopTimer?.();
    this.closed = true;
    this.endpoint?.close();
    const ack = this.inputAcks.pending();
    const end = this.endReason
      ? { error: this.endReason }
      : { ...(exitCode !== undefined ? { exitCode: Math.min(255, Math.max(0, exitCode)) } : {}) };
    this.reply({ ...end, ...(ack !== undefined ? { ack } : {}) }, true);
  }

  /** Sends one chunk; chunks go out in call order (the MQTT client keeps it). */
  private reply(fields: Partial<RpcResponse>, done: boolean): void {
    this.lastSent = this.deps.clock.now();
    const response: RpcResponse = { schema: WIRE_SCHEMA, id: this.id, seq: this.seq++, done, ...fields };
    this.deps.send(response).catch((err: unknown) => {
      if (done) return;
      this.abort({ code: ErrorCode.NodeUnavailable, message: `lost the broker: ${errorMessage(err)}` });
    });
  }
}

function wireError(err: unknown): { code: string; message: string } {
  const code = isGroveError(err) ? err.code : ErrorCode.Internal;
  return { code, message: errorMessage(err).slice(0, WIRE_LIMITS.message) };
}
