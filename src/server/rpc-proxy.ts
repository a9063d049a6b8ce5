/**
 * Request/response over MQTT: the server publishes an RpcRequest on a node's rpc/req topic and
 * collects the numbered RpcResponse chunks the node sends back on its rpc/res topic. Used for
 * logs, which live only on the node (nothing is shipped to the server unasked).
 */
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage, type ErrorCode as Code } from '../core/errors.js';
import { parseNodeTopic, topicsFor } from '../core/topics.js';
import { encodeMessage } from '../core/wire.js';
import { decodeRpcResponse } from '../core/wire-from-agent.js';
import { LogThrottle } from '../core/log-throttle.js';
import { WIRE_SCHEMA, type NodeVolume, type RpcRequest, type RpcResponse, type VolumesRpcRequest } from '../core/wire-types.js';

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;
/**
 * A followed log may be silent for as long as the container prints nothing; the agent sends an
 * empty chunk after 20 s of quiet (older agents end a follow after at most 60 s), so a longer
 * silence means the node went away.
 */
export const DEFAULT_FOLLOW_TIMEOUT_MS = 75_000;
/** Requests recently cancelled, remembered so a node's chunks in flight do not each send a cancel. */
const CANCELLED_IDS_KEPT = 1000;
/** A cancel is sent again for a request whose chunks still come this long after the last one. */
const CANCEL_REPEAT_MS = 10_000;
/** Cancels for chunks of unknown requests, per node and CANCEL_REPEAT_MS: a node sending made-up ids gets no more. */
const UNKNOWN_CANCELS_PER_NODE = 20;

/**
 * What a node's answers may make the server hold. Chunks arriving ahead of their turn are kept
 * until the missing ones come (QoS 1 does not promise order across reconnects), but an agent
 * sends its chunks one after another, so only a handful are ever early: a node that answers far
 * ahead, or sends more than these bounds, fails its request, and what it sent is let go.
 */
export interface RpcLimits {
  /** A chunk more than this many past the next expected one fails the request. */
  maxAhead: number;
  /** Bytes (as received) of the early chunks one request may hold. */
  maxEarlyBytesPerRequest: number;
  /** Early chunks, and their bytes, held for all requests together. */
  maxEarlyChunks: number;
  maxEarlyBytes: number;
  /** Requests in flight at once; more are refused at once (503). */
  maxPending: number;
}

export const DEFAULT_RPC_LIMITS: RpcLimits = Object.freeze({
  maxAhead: 32,
  // Eight full-size chunks (an agent's chunks stay under 256 KiB, src/core/wire.ts MAX_RPC_BYTES).
  maxEarlyBytesPerRequest: 2 * 1024 * 1024,
  maxEarlyChunks: 1024,
  maxEarlyBytes: 16 * 1024 * 1024,
  maxPending: 1000,
});

export interface LogLine {
  pod: string;
  container: string;
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogParams {
  pod: string;
  /** The pod's namespace; absent = any (agents before namespaces). */
  namespace?: string;
  container?: string;
  tail?: number;
  /** Stream new lines as they come, until the signal aborts (then the node is told to stop). */
  follow?: boolean;
  /** The instance before the current one (its last restart). */
  previous?: boolean;
  /** Only lines at or after this RFC 3339 time / of the last N seconds, by the node's clock. */
  sinceTime?: string;
  sinceSeconds?: number;
}

export interface RpcProxyOptions {
  cluster: string;
  logger: Logger;
  /** Publishes QoS 1, not retained (a request must not be replayed to a node that reconnects later). */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  /** Longest silence (no chunk) before giving up. */
  timeoutMs?: number;
  followTimeoutMs?: number;
  newId?: () => string;
  limits?: Partial<RpcLimits>;
  /** Times the silence before giving up, and throttles the log of dropped answers (default: real time). */
  clock?: Clock;
  /** Valid answers that belong to no request of ours: a stream session's (streams/node-streams.ts). */
  onUnclaimed?: (node: string, response: RpcResponse) => boolean;
}

interface Pending {
  node: string;
  pod: string;
  nextSeq: number;
  silenceMs: number;
  /** What the answers are for, in messages: "log request", "volume request". */
  what: string;
  /** Chunks that arrived ahead of their turn (QoS 1 does not promise order across reconnects), with their size as received. */
  early: Map<number, { chunk: RpcResponse; bytes: number }>;
  /** Bytes of the `early` chunks (counted against RpcLimits). */
  earlyBytes: number;
  onLines: (lines: LogLine[]) => void;
  onVolumes?: (volumes: NodeVolume[]) => void;
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

export class RpcProxy {
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly followTimeoutMs: number;
  private readonly newId: () => string;
  private readonly clock: Clock;
  private readonly pending = new Map<string, Pending>();
  /** Requests this server cancelled and when (oldest first, bounded). */
  private readonly cancelled = new Map<string, number>();
  /** Cancels caused by chunks of unknown requests, per node in the current window. */
  private readonly unknownCancels = new Map<string, { since: number; count: number }>();
  private readonly limits: RpcLimits;
  /** Early chunks and their bytes held for all pending requests. */
  private earlyChunks = 0;
  private earlyBytes = 0;
  /** Invalid answers are logged at most once a minute per node: a node can send them as fast as it likes. */
  private readonly invalidAnswers: LogThrottle;

  constructor(private readonly opts: RpcProxyOptions) {
    this.log = opts.logger.child({ component: 'rpc-proxy' });
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.followTimeoutMs = opts.followTimeoutMs ?? DEFAULT_FOLLOW_TIMEOUT_MS;
    this.newId = opts.newId ?? randomUUID;
    this.limits = { ...DEFAULT_RPC_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? systemClock();
    this.invalidAnswers = new LogThrottle({ now: () => this.clock.now() });
  }

  /** Early chunks and bytes held right now, for all requests (tests, diagnostics). */
  held(): { requests: number; chunks: number; bytes: number } {
    return { requests: this.pending.size, chunks: this.earlyChunks, bytes: this.earlyBytes };
  }

  /** Resolves when the node sent its last chunk; lines are handed over in order as they come. */
  requestLogs(node: string, params: LogParams, onLines: (lines: LogLine[]) => void, signal?: AbortSignal): Promise<void> {
    const id = this.newId();
    const request: RpcRequest = {
      schema: WIRE_SCHEMA,
      id,
      method: 'logs',
      params: {
        pod: params.pod,
        ...(params.namespace !== undefined ? { namespace: params.namespace } : {}),
        ...(params.container !== undefined ? { container: params.container } : {}),
        ...(params.tail !== undefined ? { tail: params.tail } : {}),
        ...(params.follow ? { follow: true, untilCancelled: true } : {}),
        ...(params.previous ? { previous: true } : {}),
        ...(params.sinceTime !== undefined ? { sinceTime: params.sinceTime } : {}),
        ...(params.sinceSeconds !== undefined ? { sinceSeconds: params.sinceSeconds } : {}),
      },
    };
    const settled = this.send(node, request, { pod: params.pod, silenceMs: params.follow ? this.followTimeoutMs : this.timeoutMs, onLines, what: 'log request' }, signal);
    // A follow runs on the node until told otherwise: whatever ends it here (the reader went
    // away, silence, a bad chunk) ends it there too. A follow that ended itself is answered done.
    return params.follow ? settled.catch((err: unknown) => {
      this.cancel(node, id);
      throw err;
    }) : settled;
  }

  /** Whether a chunk of an unknown request from `node` may still cause a cancel in this window. */
  private admitUnknownCancel(node: string): boolean {
    const now = this.clock.now();
    let w = this.unknownCancels.get(node);
    if (!w || now - w.since >= CANCEL_REPEAT_MS) {
      if (this.unknownCancels.size >= CANCELLED_IDS_KEPT) this.unknownCancels.clear();
      this.unknownCancels.set(node, (w = { since: now, count: 0 }));
    }
    return ++w.count <= UNKNOWN_CANCELS_PER_NODE;
  }

  /** Tells a node to stop serving request `id` (best effort: a lost cancel is repeated when a later chunk arrives). */
  private cancel(node: string, id: string): void {
    const now = this.clock.now();
    const last = this.cancelled.get(id);
    if (last !== undefined && now - last < CANCEL_REPEAT_MS) return;
    this.cancelled.delete(id);
    this.cancelled.set(id, now);
    if (this.cancelled.size > CANCELLED_IDS_KEPT) this.cancelled.delete(this.cancelled.keys().next().value as string);
    const request: RpcRequest = { schema: WIRE_SCHEMA, id: this.newId(), method: 'cancel', params: { id } };
    this.opts.publish(topicsFor(this.opts.cluster, node).rpcRequest, encodeMessage(request)).catch((err: unknown) => {
      this.log.debug({ node, id, err: errorMessage(err) }, 'could not send a cancel');
    });
  }

  /** The node's named volumes (ls), or removes one (rm, which answers with none). */
  async requestVolumes(node: string, params: VolumesRpcRequest['params']): Promise<NodeVolume[]> {
    const request: RpcRequest = { schema: WIRE_SCHEMA, id: this.newId(), method: 'volumes', params };
    const out: NodeVolume[] = [];
    await this.send(node, request, { pod: '', silenceMs: this.timeoutMs, onLines: () => undefined, onVolumes: (v) => out.push(...v), what: 'volume request' });
    return out;
  }

  private send(node: string, request: RpcRequest, how: Pick<Pending, 'pod' | 'silenceMs' | 'onLines' | 'onVolumes' | 'what'>, signal?: AbortSignal): Promise<void> {
    const { id } = request;
    if (this.pending.size >= this.limits.maxPending) {
      return Promise.reject(new GroveError(ErrorCode.ServerUnavailable, `the server has ${this.pending.size} node requests in flight (the most it keeps): try the ${how.what} again shortly`));
    }
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        const p = this.pending.get(id);
        if (p?.timer) this.clock.clearTimeout(p.timer);
        if (p) this.release(p);
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish(new GroveError(ErrorCode.Internal, `${how.what} cancelled`));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      const entry: Pending = {
        node,
        pod: how.pod,
        nextSeq: 0,
        silenceMs: how.silenceMs,
        what: how.what,
        early: new Map(),
        earlyBytes: 0,
        onLines: how.onLines,
        ...(how.onVolumes ? { onVolumes: how.onVolumes } : {}),
        timer: undefined,
        resolve: () => finish(),
        reject: (err) => finish(err),
      };
      this.pending.set(id, entry);
      this.arm(entry);
      this.opts.publish(topicsFor(this.opts.cluster, node).rpcRequest, encodeMessage(request)).catch((err: unknown) => {
        finish(new GroveError(ErrorCode.NodeUnavailable, `could not send the ${how.what} to node ${node}: ${errorMessage(err)}`, { cause: err }));
      });
    });
  }

  /** Handles an rpc/res message; returns false for topics it does not own. */
  handleMessage(topic: string, payload: Buffer): boolean {
    const parsed = parseNodeTopic(topic);
    if (!parsed || parsed.kind !== 'rpcResponse') return false;
    let response: RpcResponse;
    try {
      response = decodeRpcResponse(payload);
    } catch (err) {
      const suppressed = this.invalidAnswers.admit(parsed.node);
      if (suppressed !== undefined) this.log.warn({ node: parsed.node, err: errorMessage(err), ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, 'invalid rpc response dropped');
      return true;
    }
    if (parsed.cluster !== this.opts.cluster) return true;
    const p = this.pending.get(response.id);
    if (!p) {
      // A stream session's answer (exec, port-forward: streams/node-streams.ts), or a log still
      // streaming for a request this server no longer waits for (it restarted, or the cancel
      // was lost): tell the node to stop that one.
      const claimed = this.opts.onUnclaimed?.(parsed.node, response) ?? false;
      if (!claimed && !response.done && this.admitUnknownCancel(parsed.node)) this.cancel(parsed.node, response.id);
      return true;
    }
    // Another node cannot answer for this one: ids are random, but the topic is what the
    // broker authenticated.
    if (p.node !== parsed.node) return true;
    // Duplicates (QoS 1 redelivery) of a chunk delivered or already held.
    if (response.seq < p.nextSeq || p.early.has(response.seq)) return true;
    this.arm(p);
    if (response.seq > p.nextSeq) {
      this.hold(p, response, payload.length);
      return true;
    }
    p.nextSeq++;
    if (!this.deliver(p, response)) return true;
    for (let next = p.early.get(p.nextSeq); next; next = p.early.get(p.nextSeq)) {
      p.early.delete(p.nextSeq);
      p.earlyBytes -= next.bytes;
      this.earlyChunks--;
      this.earlyBytes -= next.bytes;
      p.nextSeq++;
      if (!this.deliver(p, next.chunk)) return true;
    }
    return true;
  }

  /**
   * Keeps a chunk that came ahead of its turn, within RpcLimits; past them the request fails
   * (once: its later chunks find nothing pending and are dropped unread) and what it held is
   * let go.
   */
  private hold(p: Pending, chunk: RpcResponse, bytes: number): void {
    const { maxAhead, maxEarlyBytesPerRequest, maxEarlyChunks, maxEarlyBytes } = this.limits;
    const ahead = chunk.seq - p.nextSeq;
    let problem: string | undefined;
    if (ahead > maxAhead) problem = `chunk ${chunk.seq} arrived while chunk ${p.nextSeq} was expected (at most ${maxAhead} may come early)`;
    else if (p.earlyBytes + bytes > maxEarlyBytesPerRequest) problem = `more than ${maxEarlyBytesPerRequest} bytes arrived out of order`;
    else if (this.earlyChunks + 1 > maxEarlyChunks || this.earlyBytes + bytes > maxEarlyBytes) {
      problem = `the server already holds ${this.earlyChunks} out-of-order chunks (${this.earlyBytes} bytes) for all requests`;
    }
    if (problem === undefined) {
      p.early.set(chunk.seq, { chunk, bytes });
      p.earlyBytes += bytes;
      this.earlyChunks++;
      this.earlyBytes += bytes;
      return;
    }
    this.log.warn({ node: p.node, pod: p.pod || undefined, seq: chunk.seq, expected: p.nextSeq, heldBytes: p.earlyBytes }, `${p.what} abandoned: ${problem}`);
    p.reject(new GroveError(ErrorCode.NodeUnavailable, `node ${p.node} answered the ${p.what} out of order: ${problem}`, { details: { node: p.node, pod: p.pod } }));
  }

  /** Gives back what a settled request held against the overall bounds. */
  private release(p: Pending): void {
    this.earlyChunks -= p.early.size;
    this.earlyBytes -= p.earlyBytes;
    p.early.clear();
    p.earlyBytes = 0;
  }

  /** Fails every request in flight (server stopping). */
  stop(): void {
    for (const p of [...this.pending.values()]) p.reject(new GroveError(ErrorCode.NodeUnavailable, 'server is stopping'));
  }

  /** Returns false once the request is settled. */
  private deliver(p: Pending, chunk: RpcResponse): boolean {
    if (chunk.error) {
      const code = (KNOWN_CODES.has(chunk.error.code) ? chunk.error.code : ErrorCode.Internal) as Code;
      p.reject(new GroveError(code, `node ${p.node}: ${chunk.error.message}`, { details: { node: p.node, pod: p.pod } }));
      return false;
    }
    if (chunk.lines && chunk.lines.length > 0) {
      try {
        p.onLines(chunk.lines.map((l) => ({ pod: p.pod, container: l.container, time: l.time, stream: l.stream, text: l.text })));
      } catch (err) {
        p.reject(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
    }
    if (chunk.volumes) p.onVolumes?.(chunk.volumes);
    if (chunk.done) {
      p.resolve();
      return false;
    }
    return true;
  }

  private arm(p: Pending): void {
    if (p.timer) this.clock.clearTimeout(p.timer);
    p.timer = this.clock.setTimeout(() => {
      p.reject(
        new GroveError(ErrorCode.NodeUnavailable, `node ${p.node} did not answer (offline?)`, {
          details: { node: p.node, pod: p.pod, timeoutMs: p.silenceMs },
        }),
      );
    }, p.silenceMs);
  }
}
