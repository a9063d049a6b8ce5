/**
 * `pods/attach` (kubectl attach): the container's output from now on, over kubectl's WebSocket
 * remote-command protocol, until the container exits or the client detaches (Ctrl-C).
 *
 *   GET|POST /api/v1/namespaces/{ns}/pods/{name}/attach?container=…&stdout=true&stderr=true
 *
 * grove-shim keeps a container's stdout and stderr for its logs (the shim's log files, read by
 * the agent) and starts it with /dev/null as stdin and no terminal; pod specs with `stdin` or
 * `tty` are refused. So attach follows the container's log from its end (the node's `logs` RPC
 * with tail 0 and follow, over MQTT: nodes behind NAT answer too), stdout lines on channel 1 and
 * stderr lines on channel 2, and ends with a Success status when the container exits.
 * `kubectl attach -i` (stdin) and `-t` (a terminal) are refused before the upgrade with a Status
 * saying why and what to use instead (kubectl exec -it).
 */
import type { WebSocket } from 'ws';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import type { Router, UpgradeContext } from '../http.js';
import type { LogLine, RpcProxy } from '../rpc-proxy.js';
import { Channel, REMOTE_COMMAND_PROTOCOLS, failureStatus, frame } from '../streams/channels.js';
import { podOnNode, queryBool, requestedContainer, type StreamRouteDeps } from './remote-command.js';
import { statusErrorFormat } from './status.js';
import { WebSocketUpgrades, isWebSocketUpgrade } from './websocket.js';

export interface AttachDeps extends StreamRouteDeps {
  rpc: Pick<RpcProxy, 'requestLogs'>;
}

/** What an attach request asks for (PodAttachOptions). */
export interface AttachRequest {
  container: string;
  stdout: boolean;
  stderr: boolean;
}

/** Why Grove cannot give attach a stdin or a terminal, and what to use instead. */
export const NO_ATTACH_INPUT =
  "Grove cannot attach to a container's stdin or terminal: grove-shim starts every container with no stdin and no tty (pod specs with stdin or tty are refused), so there is nothing to attach -i/-t to; kubectl attach without -i/-t follows the container's output, and kubectl exec -it POD -- sh gives a terminal in it";

/** The attach query checked against the pod (pure). */
export function attachRequest(query: URLSearchParams, pod: Parameters<typeof requestedContainer>[0]): AttachRequest {
  const container = requestedContainer(pod, query.get('container'));
  if (queryBool(query, 'stdin') || queryBool(query, 'tty')) throw new GroveError(ErrorCode.InvalidArgument, NO_ATTACH_INPUT);
  const request = { container, stdout: queryBool(query, 'stdout'), stderr: queryBool(query, 'stderr') };
  if (!request.stdout && !request.stderr) throw new GroveError(ErrorCode.InvalidArgument, 'you must specify at least one of stdin, stdout, stderr');
  return request;
}

/** Relays the followed log lines to the socket until the follow ends or the client goes away. */
async function relayOutput(ws: WebSocket, request: AttachRequest, follow: (onLines: (lines: LogLine[]) => void, signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  ws.on('close', () => stop.abort());
  ws.on('error', () => stop.abort());
  // Nothing the client sends matters (no stdin, no terminal): messages are read and dropped.
  ws.on('message', () => undefined);
  const onLines = (lines: LogLine[]): void => {
    if (ws.readyState !== ws.OPEN) return;
    for (const line of lines) {
      const channel = line.stream === 'stderr' ? Channel.stderr : Channel.stdout;
      if (channel === Channel.stdout ? request.stdout : request.stderr) ws.send(frame(channel, `${line.text}\n`));
    }
  };
  let end: object = { metadata: {}, status: 'Success' };
  try {
    await follow(onLines, stop.signal);
  } catch (err) {
    if (!stop.signal.aborted) end = failureStatus(errorMessage(err));
  }
  if (ws.readyState === ws.OPEN) {
    ws.send(frame(Channel.error, JSON.stringify(end)));
    ws.close(1000);
  }
}

/** Adds `pods/attach` (WebSocket, output only). */
export function addAttachRoutes(router: Router, deps: AttachDeps, upgrades = new WebSocketUpgrades(REMOTE_COMMAND_PROTOCOLS)): WebSocketUpgrades {
  const path = '/api/v1/namespaces/:namespace/pods/:name/attach';
  const checked = async (params: Record<string, string>, query: URLSearchParams) => {
    const found = await podOnNode(deps, params.namespace!, params.name!, 'attach to a container');
    return { ...found, request: attachRequest(query, found.pod) };
  };
  router.addUpgrade(
    path,
    async (ctx: UpgradeContext) => {
      const { pod, node, request } = await checked(ctx.params, ctx.query);
      if (!isWebSocketUpgrade(ctx.req)) {
        throw new GroveError(ErrorCode.InvalidArgument, `Grove serves attach over WebSocket only (${REMOTE_COMMAND_PROTOCOLS.join(', ')}), not ${ctx.req.headers.upgrade ?? 'this upgrade'}: use kubectl 1.30 or later`);
      }
      upgrades.protocolFor(ctx.req);
      const ws = await upgrades.accept(ctx.req, ctx.socket, ctx.head);
      const params = { pod: pod.metadata.name, namespace: pod.metadata.namespace ?? ctx.params.namespace!, container: request.container, tail: 0, follow: true };
      void relayOutput(ws, request, (onLines, signal) => deps.rpc.requestLogs(node, params, onLines, signal));
    },
    'admin',
    statusErrorFormat,
  );
  const plain = async (ctx: { params: Record<string, string>; query: URLSearchParams }): Promise<never> => {
    await checked(ctx.params, ctx.query);
    throw new GroveError(ErrorCode.InvalidArgument, 'Upgrade request required: attach is served over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io)');
  };
  router.add('GET', path, plain, 'admin', statusErrorFormat);
  router.add('POST', path, plain, 'admin', statusErrorFormat);
  return upgrades;
}
