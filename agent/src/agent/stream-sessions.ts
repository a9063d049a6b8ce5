/**
 * The node's stream sessions (exec, portforward): opened by the server's requests on rpc/req,
 * fed by its `stream` messages, bounded in number (more are refused with an error the server
 * passes on), all ended when the agent stops.
 */
import type { Clock } from '../../../src/core/clock.js';
import { ErrorCode } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { WIRE_SCHEMA, type ExecRpcRequest, type PortForwardRpcRequest, type RpcResponse, type StreamRpcRequest } from '../../../src/core/wire-types.js';
import { openExec } from './exec-session.js';
import type { NodeRuntime } from './node-runtime.js';
import { openPortForward } from './port-forward.js';
import { StreamSession, type StreamEndpoint } from './stream-session.js';

/** Sessions one node runs at once (each exec is a runtime process or two). */
export const DEFAULT_MAX_NODE_SESSIONS = 32;

export interface StreamSessionsOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  send: (response: RpcResponse) => Promise<void>;
  maxSessions?: number;
  idleMs?: number;
  keepaliveMs?: number;
}

export class StreamSessions {
  private readonly sessions = new Map<string, StreamSession>();
  private readonly log: Logger;

  constructor(private readonly opts: StreamSessionsOptions) {
    this.log = opts.logger.child({ component: 'stream-sessions' });
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Opens a session; resolves when it has ended. A repeated request (QoS 1) is ignored. */
  open(req: ExecRpcRequest | PortForwardRpcRequest): Promise<void> {
    if (this.sessions.has(req.id)) return Promise.resolve();
    const max = this.opts.maxSessions ?? DEFAULT_MAX_NODE_SESSIONS;
    if (this.sessions.size >= max) {
      return this.opts.send({ schema: WIRE_SCHEMA, id: req.id, seq: 0, done: true, error: { code: ErrorCode.RateLimited, message: `the node already runs ${this.sessions.size} exec and port-forward sessions (the most it allows)` } });
    }
    const session = new StreamSession(req.id, {
      send: this.opts.send,
      clock: this.opts.clock,
      logger: this.log,
      ...(this.opts.idleMs !== undefined ? { idleMs: this.opts.idleMs } : {}),
      ...(this.opts.keepaliveMs !== undefined ? { keepaliveMs: this.opts.keepaliveMs } : {}),
    });
    this.sessions.set(req.id, session);
    const open = (): Promise<StreamEndpoint> => (req.method === 'exec' ? openExec(this.opts.runtime, req.params) : openPortForward(this.opts.runtime, req.params));
    const { pod, namespace } = req.params;
    this.log.info({ session: req.id, method: req.method, namespace, pod }, 'stream session opened');
    return session.run(open).finally(() => {
      this.sessions.delete(req.id);
      this.log.debug({ session: req.id }, 'stream session ended');
    });
  }

  /** The server's side of an open session; messages for unknown sessions (ended ones) are dropped. */
  message(req: StreamRpcRequest): void {
    this.sessions.get(req.id)?.receive(req.params);
  }

  /** Ends every session (the agent stops): processes are killed, connections closed. */
  stopAll(): void {
    for (const s of this.sessions.values()) s.abort({ code: ErrorCode.NodeUnavailable, message: 'the agent is stopping' });
  }
}
