/**
 * `GET /v1/logs`: streams log lines of one pod, or of every pod of an app (their nodes asked in
 * parallel, over each node's rpc topic). For a single pod a failure is thrown; for an app it goes
 * to onError so the other pods' lines still arrive.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { App, PodAssignment } from '../core/model.js';
import type { Store } from '../store/store.js';
import { getResource, PREFIX } from './resources.js';
import type { LogLine, RpcProxy } from './rpc-proxy.js';
import type { LogsQuery } from './server.js';
import { invalid } from './validate.js';

export interface LogsDeps {
  store: Store;
  isReady(node: string): boolean;
  rpc: Pick<RpcProxy, 'requestLogs'>;
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
  const ask = (pod: PodAssignment): Promise<void> => {
    // A follow may stay silent for a minute, so waiting out the timeout on a node already
    // known to be gone would be a long wait for nothing.
    if (query.follow && !deps.isReady(pod.node)) {
      return Promise.reject(new GroveError(ErrorCode.NodeUnavailable, `node ${pod.node} is not ready (offline?)`, { details: { node: pod.node } }));
    }
    return deps.rpc.requestLogs(pod.node, { pod: pod.meta.name, ...params }, onLines, signal);
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
