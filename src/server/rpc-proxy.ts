/**
 * Request/response over MQTT: the server publishes an RpcRequest on a node's rpc/req topic and
 * collects the numbered RpcResponse chunks the node sends back on its rpc/res topic. Used for
 * logs, which live only on the node (nothing is shipped to the server unasked).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage, type ErrorCode as Code } from '../core/errors.js';
import { parseNodeTopic, topicsFor } from '../core/topics.js';
import { decodeRpcResponse, encodeMessage } from '../core/wire.js';
import { WIRE_SCHEMA, type NodeVolume, type RpcRequest, type RpcResponse, type VolumesRpcRequest } from '../core/wire-types.js';

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;
/**
 * A followed log may be silent for as long as the container prints nothing; the agent ends a
 * follow after at most 60 s, so a longer silence means the node went away.
 */
export const DEFAULT_FOLLOW_TIMEOUT_MS = 75_000;

export interface LogLine {
  pod: string;
  container: string;
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogParams {
  pod: string;
  container?: string;
  tail?: number;
  /** Stream new lines as they come (the agent ends a follow after at most 60 s). */
  follow?: boolean;
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
}

interface Pending {
  node: string;
  pod: string;
  nextSeq: number;
  silenceMs: number;
  /** Chunks that arrived ahead of their turn (QoS 1 does not promise order across reconnects). */
  early: Map<number, RpcResponse>;
  onLines: (lines: LogLine[]) => void;
  onVolumes?: (volumes: NodeVolume[]) => void;
  timer: NodeJS.Timeout | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

export class RpcProxy {
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly followTimeoutMs: number;
  private readonly newId: () => string;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly opts: RpcProxyOptions) {
    this.log = opts.logger.child({ component: 'rpc-proxy' });
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.followTimeoutMs = opts.followTimeoutMs ?? DEFAULT_FOLLOW_TIMEOUT_MS;
    this.newId = opts.newId ?? randomUUID;
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
        ...(params.container !== undefined ? { container: params.container } : {}),
        ...(params.tail !== undefined ? { tail: params.tail } : {}),
        ...(params.follow ? { follow: true } : {}),
      },
    };
    return this.send(node, request, { pod: params.pod, silenceMs: params.follow ? this.followTimeoutMs : this.timeoutMs, onLines, what: 'log request' }, signal);
  }

  /** The node's named volumes (ls), or removes one (rm, which answers with none). */
  async requestVolumes(node: string, params: VolumesRpcRequest['params']): Promise<NodeVolume[]> {
    const request: RpcRequest = { schema: WIRE_SCHEMA, id: this.newId(), method: 'volumes', params };
    const out: NodeVolume[] = [];
    await this.send(node, request, { pod: '', silenceMs: this.timeoutMs, onLines: () => undefined, onVolumes: (v) => out.push(...v), what: 'volume request' });
    return out;
  }

  private send(node: string, request: RpcRequest, how: Pick<Pending, 'pod' | 'silenceMs' | 'onLines' | 'onVolumes'> & { what: string }, signal?: AbortSignal): Promise<void> {
    const { id } = request;
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        const p = this.pending.get(id);
        if (p?.timer) clearTimeout(p.timer);
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
        early: new Map(),
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
      this.log.warn({ node: parsed.node, err: errorMessage(err) }, 'invalid rpc response dropped');
      return true;
    }
    const p = this.pending.get(response.id);
    // Another node cannot answer for this one: ids are random, but the topic is what the
    // broker authenticated.
    if (!p || p.node !== parsed.node || parsed.cluster !== this.opts.cluster) return true;
    if (response.seq < p.nextSeq) return true; // duplicate (QoS 1 redelivery)
    p.early.set(response.seq, response);
    this.arm(p);
    for (let next = p.early.get(p.nextSeq); next; next = p.early.get(p.nextSeq)) {
      p.early.delete(p.nextSeq);
      p.nextSeq++;
      if (!this.deliver(p, next)) return true;
    }
    return true;
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
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      p.reject(
        new GroveError(ErrorCode.NodeUnavailable, `node ${p.node} did not answer (offline?)`, {
          details: { node: p.node, pod: p.pod, timeoutMs: p.silenceMs },
        }),
      );
    }, p.silenceMs);
    p.timer.unref?.();
  }
}
