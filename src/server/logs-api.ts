/**
 * `GET /v1/logs`: streams log lines of one pod, or of every pod of an app (their nodes asked in
 * parallel, over each node's rpc topic). For a single pod a failure is thrown; for an app it goes
 * to onError so the other pods' lines still arrive. A pod with no container — Pending without a
 * node, or not started on its node — is one clear error naming the pod and what holds it back.
 */
import { ErrorCode, GroveError, isGroveError } from '../core/errors.js';
import type { App, PodAssignment } from '../core/model.js';
import type { PodStatus } from '../core/wire-types.js';
import type { Store } from '../store/store.js';
import { getResource, PREFIX } from './resources.js';
import type { LogLine, RpcProxy } from './rpc-proxy.js';
import type { LogsQuery } from './server.js';
import { invalid } from './validate.js';

export interface LogsDeps {
  store: Store;
  isReady(node: string): boolean;
  rpc: Pick<RpcProxy, 'requestLogs'>;
  /** What the pod's node last reported about it, if anything (for "no container yet"). */
  reported?(node: string, pod: string): PodStatus | undefined;
}

/**
 * "pod web-abc12 has no container yet (Pending: 0/3 nodes are available: …)", or for a pod on a
 * node, what its node last reported ("on node pi-1 (Pending: ImagePullBackOff)").
 */
export function noContainerError(pod: PodAssignment, reported: PodStatus | undefined): GroveError {
  const details = { pod: pod.meta.name, ...(pod.node !== undefined ? { node: pod.node } : {}) };
  if (pod.node === undefined) {
    return new GroveError(ErrorCode.NotFound, `pod ${pod.meta.name} has no container yet (Pending: ${pod.unschedulable ?? 'no node can take it'})`, { details });
  }
  const phase = reported?.phase ?? 'Pending';
  const waiting = reported && [...(reported.initContainers ?? []), ...reported.containers].find((c) => c.state !== 'running' && c.reason);
  const why = reported ? `${phase}${waiting ? `: ${waiting.reason}` : ''}` : 'Pending: not reported by its node yet';
  const yet = phase === 'Pending' || phase === 'Unknown' ? ' yet' : '';
  return new GroveError(ErrorCode.NotFound, `pod ${pod.meta.name} has no container${yet} on node ${pod.node} (${why})`, { details });
}

export async function streamLogs(
  deps: LogsDeps,
  query: LogsQuery,
  onLines: (lines: LogLine[]) => void,
  onError: (pod: string, err: unknown) => void,
  signal?: AbortSignal,
): Promise<void> {
  if ((query.app === undefined) === (query.pod === undefined)) throw invalid('query', 'give exactly one of app= or pod=');
  const params = {
    ...(query.container !== undefined ? { container: query.container } : {}),
    ...(query.tail !== undefined ? { tail: query.tail } : {}),
    ...(query.follow ? { follow: true } : {}),
  };
  const ask = async (pod: PodAssignment): Promise<void> => {
    const node = pod.node;
    if (node === undefined) throw noContainerError(pod, undefined);
    // A follow may stay silent for a minute, so waiting out the timeout on a node already
    // known to be gone would be a long wait for nothing.
    if (query.follow && !deps.isReady(node)) {
      throw new GroveError(ErrorCode.NodeUnavailable, `node ${node} is not ready (offline?)`, { details: { node } });
    }
    try {
      await deps.rpc.requestLogs(node, { pod: pod.meta.name, ...params }, onLines, signal);
    } catch (err) {
      // The node has no container of the pod: say what holds it back. (With -c, the node's own
      // words: the container name may simply be wrong.)
      if (isGroveError(err, ErrorCode.NotFound) && query.container === undefined) throw noContainerError(pod, deps.reported?.(node, pod.meta.name));
      throw err;
    }
  };
  if (query.pod !== undefined) {
    const pod = await getResource<PodAssignment>(deps.store, 'Pod', query.pod).catch((err: unknown) => {
      throw err instanceof GroveError && err.code === ErrorCode.InvalidArgument ? err : new GroveError(ErrorCode.NotFound, `pod "${query.pod}" not found`);
    });
    if (query.node !== undefined && pod.node !== query.node) throw new GroveError(ErrorCode.NotFound, `pod "${query.pod}" is not on node ${query.node}`);
    return ask(pod);
  }
  await getResource<App>(deps.store, 'App', query.app!);
  const pods = (await deps.store.list<PodAssignment>(PREFIX.Pod))
    .map((e) => e.value)
    .filter((p) => p.app === query.app && (query.node === undefined || p.node === query.node));
  await Promise.all(pods.map((p) => ask(p).catch((err: unknown) => onError(p.meta.name, err))));
}
