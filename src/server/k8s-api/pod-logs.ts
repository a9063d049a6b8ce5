/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log` (kubectl logs): one container's log as
 * text/plain, streamed as it arrives from the pod's node over MQTT (the `logs` RPC, so nodes
 * behind NAT answer too). PodLogOptions as Kubernetes: container (defaulted when the pod has one),
 * follow (until the client goes away, the container exits or the pod is deleted), previous,
 * sinceSeconds / sinceTime, timestamps, tailLines, limitBytes. Failures before the first byte are
 * Status objects worded as the API server's.
 */
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import { DNS_SUBDOMAIN } from '../../core/objects/names.js';
import { objectKey } from '../../core/keys.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { WirePodStatus } from '../../core/objects/wire.js';
import { conditionOf, type Pod } from '../controllers/object-kit.js';
import type { RequestContext, Router } from '../http.js';
import type { DiscoveryResource } from './discovery.js';
import type { ObjectStore } from '../objects/object-store.js';
import { validName } from '../request-fields.js';
import type { LogLine, RpcProxy } from '../rpc-proxy.js';
import { ByteLimit, logLineText, parsePodLogOptions, type PodLogOptions } from './pod-log-options.js';
import { notFoundMessage, statusErrorFormat } from './status.js';

export interface PodLogDeps {
  objects: ObjectStore;
  isReady(node: string): boolean;
  rpc: Pick<RpcProxy, 'requestLogs'>;
  /** What the pod's node last reported about it, if anything (why a container is not there yet). */
  reported?(node: string, namespace: string, pod: string): WirePodStatus | undefined;
}

/** The pods/log subresource, for discovery (design contract 3: the wiring hands it to the discovery builder). */
export const POD_LOG_DISCOVERY: DiscoveryResource = Object.freeze({ group: '', version: 'v1', kind: 'Pod', plural: 'pods/log', singular: '', shortNames: [], namespaced: true, verbs: ['get'] });

const SUBDOMAIN = new RegExp(DNS_SUBDOMAIN);

const badRequest = (message: string): GroveError => new GroveError(ErrorCode.InvalidArgument, message);

/** The container whose log is asked for: the one named, or the pod's only one (as the API server). */
export function logContainer(pod: Pod, asked: string | undefined): string {
  const name = pod.metadata.name;
  const main = pod.spec.containers.map((c) => c.name);
  const init = (pod.spec.initContainers ?? []).map((c) => c.name);
  if (asked !== undefined) {
    if (!main.includes(asked) && !init.includes(asked)) throw badRequest(`container ${asked} is not valid for pod ${name}`);
    return asked;
  }
  if (main.length === 1) return main[0]!;
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]${init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''}`);
}

/** `container "main" in pod "web-x" is waiting to start: ImagePullBackOff`, as the API server says it. */
export function waitingToStart(pod: Pod, container: string, reported: WirePodStatus | undefined): GroveError {
  let why: string | undefined;
  if (pod.spec.nodeName === undefined) why = conditionOf(pod.status?.conditions, 'PodScheduled')?.message ?? 'not scheduled to a node yet';
  else why = [...(reported?.initContainers ?? []), ...(reported?.containers ?? [])].find((c) => c.name === container)?.reason;
  return badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${why ?? 'ContainerCreating'}`);
}

async function servePodLog(deps: PodLogDeps, ctx: RequestContext): Promise<void> {
  const namespace = validName(ctx.params.namespace, 'namespace');
  const name = ctx.params.name!;
  const options = parsePodLogOptions(ctx.query);
  const pod = SUBDOMAIN.test(name) && name.length <= 253 ? ((await deps.objects.get({ kind: 'Pod', namespace, name })) as Pod | undefined) : undefined;
  if (!pod) throw new GroveError(ErrorCode.NotFound, notFoundMessage('Pod', name), { details: { kind: 'Pod', name } });
  const container = logContainer(pod, options.container);
  const node = pod.spec.nodeName;
  if (node === undefined) throw waitingToStart(pod, container, undefined);
  if (!deps.isReady(node)) {
    throw new GroveError(ErrorCode.NodeUnavailable, `cannot read the log of pod ${name}: its node ${node} is not ready (offline?)`, { details: { kind: 'Pod', name } });
  }
  await stream(deps, ctx, pod, node, container, options);
}

/** Streams the log; ends quietly when the client goes away, the pod is deleted or limitBytes is reached. */
async function stream(deps: PodLogDeps, ctx: RequestContext, pod: Pod, node: string, container: string, options: PodLogOptions): Promise<void> {
  const { res } = ctx;
  const { name, namespace } = pod.metadata as { name: string; namespace: string };
  const stop = new AbortController();
  const onClientGone = (): void => stop.abort();
  ctx.signal.addEventListener('abort', onClientGone);
  const key = objectKey(KINDS.Pod, namespace, name);
  const unwatch = options.follow
    ? deps.objects.watch((change) => {
        if (change.ops.some((op) => op.type === 'delete' && op.key === key)) stop.abort();
      })
    : undefined;
  const limit = new ByteLimit(options.limitBytes);
  const start = (): void => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
  };
  const onLines = (lines: LogLine[]): void => {
    start();
    for (const line of lines) {
      if (limit.reached) break;
      res.write(limit.take(logLineText(line, options.timestamps)));
    }
    if (limit.reached) stop.abort();
  };
  const previous = options.previous;
  try {
    await deps.rpc.requestLogs(
      node,
      {
        pod: name,
        namespace,
        container,
        ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
        ...(options.follow && !previous ? { follow: true } : {}),
        ...(previous ? { previous: true } : {}),
        ...(options.sinceTime !== undefined ? { sinceTime: options.sinceTime } : {}),
        ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
      },
      onLines,
      stop.signal,
    );
  } catch (err) {
    // Ended on purpose (client gone, pod deleted, limit reached): what was sent is the answer.
    if (stop.signal.aborted) return void res.end();
    if (isGroveError(err, ErrorCode.NotFound) && !res.headersSent) {
      if (previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      throw waitingToStart(pod, container, deps.reported?.(node, namespace, name));
    }
    throw err;
  } finally {
    unwatch?.();
    ctx.signal.removeEventListener('abort', onClientGone);
  }
  start();
  res.end();
}

/** Adds the pods/log route (admin token; Status errors). Registered before the generic item routes. */
export function addPodLogRoutes(router: Router, deps: PodLogDeps): void {
  router.add('GET', '/api/v1/namespaces/:namespace/pods/:name/log', (ctx) => servePodLog(deps, ctx), 'admin', statusErrorFormat);
}
