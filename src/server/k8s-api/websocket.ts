/**
 * WebSocket upgrades on the API's own port (the `ws` package, no server of its own): the
 * Kubernetes streaming subresources (exec, attach, portforward) take a request over once the
 * route has checked it. One instance per family of subprotocols; the first of ours the client
 * offers wins, and a client offering none of them gets a Status naming what is served.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, GroveError } from '../../core/errors.js';

/** Largest message a client may send (kubectl sends stdin in 32 KiB pieces at most). */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 256 * 1024;

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The subprotocols a client offers, in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Ours, in our order of preference, that the client offers; undefined when none. */
export function pickProtocol(offered: readonly string[], ours: readonly string[]): string | undefined {
  return ours.find((p) => offered.includes(p));
}

export class WebSocketUpgrades {
  private readonly wss: WebSocketServer;

  constructor(private readonly protocols: readonly string[]) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
      handleProtocols: (offered) => pickProtocol([...offered], this.protocols) ?? false,
    });
  }

  /** The subprotocol this request will get; throws a 400 when it offers none of ours. */
  protocolFor(req: IncomingMessage): string {
    const offered = offeredProtocols(req);
    const chosen = pickProtocol(offered, this.protocols);
    if (!chosen) {
      throw new GroveError(ErrorCode.InvalidArgument, `none of the offered WebSocket subprotocols (${offered.join(', ') || 'none'}) is served here: use one of ${this.protocols.join(', ')}`);
    }
    return chosen;
  }

  /** Answers 101 and hands the connection over. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve) => this.wss.handleUpgrade(req, socket, head, (ws) => resolve(ws)));
  }

  /** Closes every connection (the API stops). */
  closeAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }
}
