/**
 * `pods/portforward` (docs/kubectl.md "exec, attach, cp and port-forward"): kubectl's SPDY
 * port-forward protocol, tunnelled in a WebSocket (subprotocol SPDY/3.1+portforward.k8s.io,
 * what kubectl 1.30+ tries first) or on a plain HTTP upgrade to SPDY/3.1 (its fallback). Each
 * local connection is a pair of streams (headers streamType error|data, port, requestID); once
 * both are open the server opens a portforward session on the pod's node over MQTT, which
 * connects to the pod's port from the node, and relays the bytes. A failure (nothing listens,
 * node gone) is written on the pair's error stream, which kubectl prints.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import type { Router, UpgradeContext } from '../http.js';
import type { NodeStream } from '../streams/node-streams.js';
import { SpdyConnection, type SpdyStream, type SpdyTransport } from '../streams/spdy-connection.js';
import { podOnNode, type StreamRouteDeps } from './remote-command.js';
import type { DiscoveryResource } from './discovery.js';
import { statusErrorFormat } from './status.js';
import { WebSocketUpgrades, isWebSocketUpgrade } from './websocket.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** Local connections (stream pairs) one port-forward may have open at once. */
const MAX_PAIRS = 32;

interface Pair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  node?: Promise<NodeStream | undefined>;
}

/** The port a stream is for, from its headers; throws for a bad one. */
export function streamPort(headers: Readonly<Record<string, string>>): number {
  const text = headers.port ?? '';
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new GroveError(ErrorCode.InvalidArgument, `invalid port ${JSON.stringify(text.slice(0, 10))}`);
  return Number(text);
}

/** Serves one SPDY connection: pairs its streams and relays each pair to a node session. */
function servePortForward(transport: SpdyTransport, deps: StreamRouteDeps, target: { node: string; pod: string; namespace: string }, log: Logger): SpdyConnection {
  const pairs = new Map<string, Pair>();
  const open = (id: string, pair: Pair): void => {
    const { error, data } = pair;
    if (!error || !data) return;
    const fail = (message: string): void => {
      error.write(Buffer.from(message));
      error.end();
      data.end();
      pairs.delete(id);
    };
    pair.node = deps.streams
      .open(
        target.node,
        { method: 'portforward', params: { pod: target.pod, namespace: target.namespace, port: pair.port } },
        {
          onOut: (bytes, passedOn) => data.write(bytes, passedOn),
          onErr: (_bytes, passedOn) => passedOn(),
          onEnd: (end) => {
            if (end.error && end.error.message !== 'closed by the client') {
              fail(`error forwarding port ${pair.port} to pod ${target.pod}: ${end.error.message}`);
              return;
            }
            data.end();
            error.end();
            pairs.delete(id);
          },
        },
      )
      .then(
        (node) => node,
        (err: unknown) => {
          fail(`error forwarding port ${pair.port} to pod ${target.pod}: ${errorMessage(err)}`);
          return undefined;
        },
      );
    const node = pair.node;
    data.onData = async (bytes) => {
      await (await node)?.write(bytes);
    };
    data.onEnd = () => void node.then((s) => s?.endInput());
    const reset = (): void => {
      void node.then((s) => s?.close());
      pairs.delete(id);
    };
    data.onReset = reset;
    error.onReset = reset;
  };
  return new SpdyConnection(transport, {
    logger: log,
    maxStreams: MAX_PAIRS * 2,
    onStream: (stream) => {
      const type = stream.headers.streamtype;
      const id = stream.headers.requestid ?? '';
      let port: number;
      try {
        port = streamPort(stream.headers);
      } catch {
        stream.reset();
        return;
      }
      if ((type !== 'error' && type !== 'data') || id.length === 0 || id.length > 32) {
        stream.reset();
        return;
      }
      const pair = pairs.get(id) ?? { port };
      if (pair[type] || pair.port !== port) {
        stream.reset();
        return;
      }
      pair[type] = stream;
      pairs.set(id, pair);
      // Data that comes before the pair is complete waits until the node session is asked for.
      if (type === 'data') stream.onData = async (bytes) => (await pair.node)?.write(bytes);
      open(id, pair);
    },
    onClose: () => {
      for (const pair of pairs.values()) void pair.node?.then((s) => s?.close());
      pairs.clear();
    },
  });
}

function webSocketTransport(ws: WebSocket): SpdyTransport {
  return {
    write: (data, done) => (ws.readyState === ws.OPEN ? ws.send(data, () => done?.()) : done?.()),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(1000),
  };
}

/** pods/portforward as discovery announces it. */
export const PORT_FORWARD_DISCOVERY: DiscoveryResource = Object.freeze({ group: '', version: 'v1', kind: 'PodPortForwardOptions', plural: 'pods/portforward', singular: '', shortNames: [], namespaced: true, verbs: ['create', 'get'] });

/** Adds `pods/portforward` (WebSocket tunnel and SPDY upgrade). */
export function addPortForwardRoutes(router: Router, deps: StreamRouteDeps, logger: Logger, upgrades = new WebSocketUpgrades([TUNNEL_PROTOCOL])): WebSocketUpgrades {
  const log = logger.child({ component: 'port-forward' });
  router.addUpgrade(
    '/api/v1/namespaces/:namespace/pods/:name/portforward',
    async (ctx: UpgradeContext) => {
      const { pod, node } = await podOnNode(deps, ctx.params.namespace!, ctx.params.name!, 'forward a port');
      const target = { node, pod: pod.metadata.name, namespace: pod.metadata.namespace ?? ctx.params.namespace! };
      if (isWebSocketUpgrade(ctx.req)) {
        upgrades.protocolFor(ctx.req);
        const ws = await upgrades.accept(ctx.req, ctx.socket, ctx.head);
        const connection = servePortForward(webSocketTransport(ws), deps, target, log);
        ws.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? connection.receive(data) : connection.close()));
        ws.on('close', () => connection.transportClosed());
        ws.on('error', () => connection.transportClosed());
        return;
      }
      if ((ctx.req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') {
        throw new GroveError(ErrorCode.InvalidArgument, `port-forward is served over WebSocket (${TUNNEL_PROTOCOL}) or SPDY/3.1, not ${ctx.req.headers.upgrade}`);
      }
      const versions = String(ctx.req.headers['x-stream-protocol-version'] ?? '').split(',').map((v) => v.trim());
      if (!versions.includes(PORT_FORWARD_PROTOCOL)) throw new GroveError(ErrorCode.InvalidArgument, `port-forward needs X-Stream-Protocol-Version ${PORT_FORWARD_PROTOCOL}`);
      const socket = ctx.socket;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
      const connection = servePortForward(
        {
          write: (data, done) => (socket.writable ? socket.write(data, () => done?.()) : done?.()),
          pause: () => socket.pause(),
          resume: () => socket.resume(),
          close: () => socket.end(),
        },
        deps,
        target,
        log,
      );
      if (ctx.head.length > 0) connection.receive(ctx.head);
      socket.on('data', (data: Buffer) => connection.receive(data));
      socket.on('close', () => connection.transportClosed());
    },
    'admin',
    statusErrorFormat,
  );
  return upgrades;
}
