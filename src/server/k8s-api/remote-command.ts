/**
 * `pods/exec` (docs/kubectl.md "exec, attach, cp and port-forward"): kubectl's WebSocket
 * remote-command protocol (streams/channels.ts) relayed to a stream session on the pod's node
 * over MQTT (streams/node-streams.ts), so it reaches nodes behind NAT.
 *
 *   GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec?command=…&container=…&stdin=&stdout=&stderr=&tty=
 *
 * The request is checked before the upgrade (pod, node, container, flags): a failure is an HTTP
 * Status, which kubectl shows as it shows any API error (it retries over SPDY first, and gets
 * the same answer). After the 101, the node's failures (container not running, node gone) come
 * as a Failure Status on the error channel and the exit code as NonZeroExitCode, which kubectl
 * turns into its own exit code. SPDY, which kubectl falls back to, is refused with a Status
 * saying so.
 */
import type { WebSocket } from 'ws';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import type { Pod } from '../../core/objects/pod.js';
import { STREAM_LIMITS } from '../../core/wire-limits.js';
import type { RequestContext, Router, UpgradeContext } from '../http.js';
import type { ObjectStore } from '../objects/object-store.js';
import { Channel, REMOTE_COMMAND_PROTOCOLS, exitStatus, failureStatus, frame, parseClientMessage, type ClientMessage } from '../streams/channels.js';
import type { NodeStream, NodeStreams, StreamHandlers } from '../streams/node-streams.js';
import type { DiscoveryResource } from './discovery.js';
import { notFoundMessage, statusErrorFormat } from './status.js';
import { WebSocketUpgrades, isWebSocketUpgrade } from './websocket.js';

/** pods/exec and pods/attach as discovery announces them (kubectl auth can-i create pods/exec looks). */
export const REMOTE_COMMAND_DISCOVERY: readonly DiscoveryResource[] = Object.freeze([
  { group: '', version: 'v1', kind: 'PodAttachOptions', plural: 'pods/attach', singular: '', shortNames: [], namespaced: true, verbs: ['create', 'get'] },
  { group: '', version: 'v1', kind: 'PodExecOptions', plural: 'pods/exec', singular: '', shortNames: [], namespaced: true, verbs: ['create', 'get'] },
]);

export interface StreamRouteDeps {
  objects: Pick<ObjectStore, 'get'>;
  streams: Pick<NodeStreams, 'open'>;
  /** Whether the node reports in (a NotReady node cannot be reached). */
  isReady: (node: string) => boolean;
}

/** What an exec request asks for (PodExecOptions). */
export interface ExecRequest {
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A boolean query parameter as the API server reads it (absent: false). */
export const queryBool = (query: URLSearchParams, key: string): boolean => {
  const v = query.get(key);
  if (v === null) return false;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new GroveError(ErrorCode.InvalidArgument, `${key}: expected true or false, got ${JSON.stringify(v.slice(0, 20))}`);
};

/** The pod's containers (init containers too: one may be running), by name. */
function containerNames(pod: Pod): string[] {
  return [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
}

/** The container a request is for: the named one, or the pod's only one (Kubernetes' rule and words). */
export function requestedContainer(pod: Pod, name: string | null): string {
  const names = containerNames(pod);
  if (name === null || name === '') {
    if (pod.spec.containers.length === 1) return pod.spec.containers[0]!.name;
    throw new GroveError(ErrorCode.InvalidArgument, `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${pod.spec.containers.map((c) => c.name).join(' ')}]`);
  }
  if (!names.includes(name)) throw new GroveError(ErrorCode.InvalidArgument, `container ${name} is not valid for pod ${pod.metadata.name}`);
  return name;
}

/** The exec query checked against the pod (pure). */
export function execRequest(query: URLSearchParams, pod: Pod): ExecRequest {
  const command = query.getAll('command');
  if (command.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'you must specify at least one command for the container');
  if (command.length > STREAM_LIMITS.args) throw new GroveError(ErrorCode.InvalidArgument, `the command has ${command.length} arguments (at most ${STREAM_LIMITS.args})`);
  const long = command.findIndex((a) => Buffer.byteLength(a) > STREAM_LIMITS.argBytes);
  if (long >= 0) throw new GroveError(ErrorCode.InvalidArgument, `command argument ${long} is longer than ${STREAM_LIMITS.argBytes} bytes`);
  const request: ExecRequest = {
    container: requestedContainer(pod, query.get('container')),
    command,
    stdin: queryBool(query, 'stdin'),
    stdout: queryBool(query, 'stdout'),
    stderr: queryBool(query, 'stderr'),
    tty: queryBool(query, 'tty'),
  };
  if (!request.stdin && !request.stdout && !request.stderr) throw new GroveError(ErrorCode.InvalidArgument, 'you must specify at least one of stdin, stdout, stderr');
  if (request.tty && request.stderr) throw new GroveError(ErrorCode.InvalidArgument, 'tty and stderr cannot both be true (a terminal merges stderr into stdout)');
  return request;
}

/** The pod and its node, or the Status kubectl should see. */
export async function podOnNode(deps: StreamRouteDeps, namespace: string, name: string, verb = 'exec into a container'): Promise<{ pod: Pod; node: string }> {
  const pod = await deps.objects.get({ kind: 'Pod', namespace, name });
  if (!pod) throw new GroveError(ErrorCode.NotFound, notFoundMessage('Pod', name), { details: { kind: 'Pod', name } });
  const node = pod.spec.nodeName;
  if (!node) throw new GroveError(ErrorCode.InvalidArgument, `pod ${name} does not have a host assigned`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new GroveError(ErrorCode.InvalidArgument, `cannot ${verb} in a completed pod; current phase is ${phase}`);
  if (!deps.isReady(node)) throw new GroveError(ErrorCode.NodeUnavailable, `node ${node} of pod ${name} is not ready: it cannot be reached`);
  return { pod, node };
}

type OpenSession = (handlers: StreamHandlers, size: TerminalSize | undefined) => Promise<NodeStream>;
interface TerminalSize {
  width: number;
  height: number;
}

/**
 * How long a terminal session waits for kubectl's first resize before starting the process
 * (kubectl sends its terminal's size right after connecting): the process then starts at the
 * client's size instead of 80×24 resized a moment later.
 */
export const FIRST_RESIZE_WAIT_MS = 1000;

/**
 * Relays one open WebSocket to a node session; the error channel carries the end. Client
 * messages that come before the node has started the process wait (the socket is paused
 * after the first one), then go in order.
 */
function relay(ws: WebSocket, protocol: string, request: ExecRequest, open: OpenSession): void {
  let stream: NodeStream | undefined;
  let finished = false;
  let opening = false;
  let size: TerminalSize | undefined;
  const early: ClientMessage[] = [];
  let input: Promise<void> = Promise.resolve();
  const finish = (status: ReturnType<typeof exitStatus>): void => {
    if (finished) return;
    finished = true;
    stream?.close();
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(Channel.error, JSON.stringify(status)));
      ws.close(1000);
    }
  };
  const send = (channel: number) => (data: Buffer, passedOn: () => void) => {
    if (ws.readyState !== ws.OPEN) return passedOn();
    ws.send(frame(channel, data), () => passedOn());
  };
  const apply = (s: NodeStream, message: ClientMessage): void => {
    if (message.type === 'stdin' && request.stdin) {
      // Back-pressure: nothing more is read from the client until the node took this.
      ws.pause();
      input = input.then(() => s.write(message.data)).finally(() => ws.isPaused && !finished && ws.resume());
    } else if (message.type === 'stdin-end' && request.stdin) {
      input = input.then(() => s.endInput());
    } else if (message.type === 'resize' && request.tty) {
      s.resize(message.width, message.height);
    }
  };
  const start = (): void => {
    if (opening) return;
    opening = true;
    clearTimeout(waitForSize);
    ws.pause();
    open(
      {
        onOut: send(Channel.stdout),
        onErr: send(Channel.stderr),
        onEnd: (end) => finish(end.error ? failureStatus(end.error.message) : exitStatus(end.exitCode ?? 0, request.command)),
      },
      size,
    ).then(
      (s) => {
        if (finished) return s.close();
        stream = s;
        if (!request.stdin) s.endInput();
        for (const m of early.splice(0)) apply(s, m);
        if (ws.isPaused) ws.resume();
      },
      (err: unknown) => finish(failureStatus(errorMessage(err))),
    );
  };
  const waitForSize = setTimeout(start, request.tty ? FIRST_RESIZE_WAIT_MS : 0);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || finished) return;
    let message: ClientMessage;
    try {
      message = parseClientMessage(data, protocol);
    } catch (err) {
      finish(failureStatus(errorMessage(err)));
      return;
    }
    if (stream) return apply(stream, message);
    if (!opening && message.type === 'resize' && size === undefined) {
      size = { width: message.width, height: message.height };
      return start();
    }
    early.push(message);
    start();
  });
  ws.on('close', () => {
    clearTimeout(waitForSize);
    stream?.close();
    finished = true;
  });
  ws.on('error', () => stream?.close());
}

const UPGRADE_REQUIRED = (): GroveError => new GroveError(ErrorCode.InvalidArgument, 'Upgrade request required: exec is served over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io)');

/** Adds `pods/exec` (pods/attach is attach.ts's). */
export function addRemoteCommandRoutes(router: Router, deps: StreamRouteDeps, upgrades = new WebSocketUpgrades(REMOTE_COMMAND_PROTOCOLS)): WebSocketUpgrades {
  const path = '/api/v1/namespaces/:namespace/pods/:name/exec';
  router.addUpgrade(
    path,
    async (ctx: UpgradeContext) => {
      const { pod, node } = await podOnNode(deps, ctx.params.namespace!, ctx.params.name!);
      const request = execRequest(ctx.query, pod);
      if (!isWebSocketUpgrade(ctx.req)) {
        throw new GroveError(ErrorCode.InvalidArgument, `Grove serves exec over WebSocket only (${REMOTE_COMMAND_PROTOCOLS.join(', ')}), not ${ctx.req.headers.upgrade ?? 'this upgrade'}: use kubectl 1.30 or later`);
      }
      const protocol = upgrades.protocolFor(ctx.req);
      const ws = await upgrades.accept(ctx.req, ctx.socket, ctx.head);
      const params = { pod: pod.metadata.name, namespace: pod.metadata.namespace ?? ctx.params.namespace!, container: request.container, command: request.command, stdin: request.stdin, tty: request.tty };
      relay(ws, protocol, request, (handlers, size) => deps.streams.open(node, { method: 'exec', params: { ...params, ...(size ? { size } : {}) } }, handlers));
    },
    'admin',
    statusErrorFormat,
  );
  const plain = async (ctx: RequestContext): Promise<never> => {
    await podOnNode(deps, ctx.params.namespace!, ctx.params.name!);
    throw UPGRADE_REQUIRED();
  };
  router.add('GET', path, plain, 'admin', statusErrorFormat);
  router.add('POST', path, plain, 'admin', statusErrorFormat);
  return upgrades;
}
