/**
 * `GET /v1/logs`: streams log lines of one Pod, or of every Pod of a workload (`deploy/web`,
 * `ds/agent`, `job/backup`, `cronjob/nightly`, `rs/web-5f6c9d8b7c`: the Pods whose controller
 * chain leads to it), their nodes asked in parallel over each node's rpc topic. For a single pod
 * a failure is thrown; for a workload it goes to onError so the other pods' lines still arrive. A
 * pod with no container — Pending without a node, or not started on its node — is one clear error
 * naming the pod and what holds it back.
 */
import { ErrorCode, GroveError, isGroveError } from '../core/errors.js';
import { DEFAULT_NAMESPACE } from '../core/keys.js';
import { byResource } from '../core/objects/kinds.js';
import type { KindName } from '../core/objects/validate.js';
import type { WirePodStatus } from '../core/objects/wire.js';
import { emptyObjects, type ObjectsByKind } from './controllers/controller.js';
import { conditionOf, type Pod } from './controllers/object-kit.js';
import { OwnerIndex } from './controllers/owner-index.js';
import type { ObjectStore } from './objects/object-store.js';
import type { LogLine, RpcProxy } from './rpc-proxy.js';
import { invalid } from './request-fields.js';

export interface LogsQuery {
  namespace?: string;
  /** One pod by name. */
  pod?: string;
  /** Every pod of a workload: `deploy/web`, `deployment/web`, `ds/x`, `job/x`, `cronjob/x`, `rs/x`. */
  workload?: string;
  /** Only the pods on this node. */
  node?: string;
  container?: string;
  tail?: number;
  follow?: boolean;
  /** Each container's instance before its last restart. */
  previous?: boolean;
  /** Only lines of the last N seconds / since this ISO time, by the nodes' clocks. */
  sinceSeconds?: number;
  sinceTime?: string;
}

export interface LogsDeps {
  objects: ObjectStore;
  isReady(node: string): boolean;
  rpc: Pick<RpcProxy, 'requestLogs'>;
  /** What the pod's node last reported about it, if anything (for "no container yet"). */
  reported?(node: string, namespace: string, pod: string): WirePodStatus | undefined;
}

const WORKLOAD_KINDS: readonly KindName[] = ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob'];

/**
 * "pod web-abc12 has no container yet (Pending: 0/3 nodes are available: …)", or for a pod on a
 * node, what its node last reported ("on node pi-1 (Pending: ImagePullBackOff)").
 */
export function noContainerError(pod: Pod, reported: WirePodStatus | undefined): GroveError {
  const name = pod.metadata.name;
  const node = pod.spec.nodeName;
  const details = { pod: name, ...(node !== undefined ? { node } : {}) };
  if (node === undefined) {
    const why = conditionOf(pod.status?.conditions, 'PodScheduled')?.message;
    return new GroveError(ErrorCode.NotFound, `pod ${name} has no container yet (Pending: ${why ?? 'no node can take it'})`, { details });
  }
  const phase = reported?.phase ?? 'Pending';
  const waiting = reported && [...(reported.initContainers ?? []), ...reported.containers].find((c) => c.state !== 'running' && c.reason);
  const why = reported ? `${phase}${waiting ? `: ${waiting.reason}` : ''}` : 'Pending: not reported by its node yet';
  const yet = phase === 'Pending' || phase === 'Unknown' ? ' yet' : '';
  return new GroveError(ErrorCode.NotFound, `pod ${name} has no container${yet} on node ${node} (${why})`, { details });
}

/** `deploy/web` → the kind and name (kubectl's resource names and short names). */
export function parseWorkload(text: string): { kind: KindName; name: string } {
  const slash = text.indexOf('/');
  const info = slash > 0 ? byResource(text.slice(0, slash)) : undefined;
  const name = text.slice(slash + 1);
  if (!info || !WORKLOAD_KINDS.includes(info.kind) || name === '' || name.includes('/')) {
    throw invalid('workload', `expected KIND/NAME with KIND one of deployment, replicaset, daemonset, statefulset, job, cronjob (got "${text}")`);
  }
  return { kind: info.kind, name };
}

/** The pods of a workload in `namespace`: those whose controller chain reaches it. */
async function workloadPods(objects: ObjectStore, namespace: string, kind: KindName, name: string): Promise<Pod[]> {
  const top = await objects.get({ kind, namespace, name });
  if (!top) throw new GroveError(ErrorCode.NotFound, `${kind.toLowerCase()} "${name}" not found in namespace ${namespace}`, { details: { kind, name } });
  const snapshot = emptyObjects() as Record<string, unknown>;
  for (const k of ['Pod', ...WORKLOAD_KINDS] as const) snapshot[k] = (await objects.list(k, { namespace })).items;
  const owners = new OwnerIndex(snapshot as ObjectsByKind);
  const chainReaches = (o: Pod): boolean => {
    for (let current = owners.controller(o), depth = 0; current && depth < 8; current = owners.controller(current), depth++) {
      if (current.metadata.uid === top.metadata.uid) return true;
    }
    return false;
  };
  return (snapshot.Pod as Pod[]).filter(chainReaches);
}

export async function streamLogs(
  deps: LogsDeps,
  query: LogsQuery,
  onLines: (lines: LogLine[]) => void,
  onError: (pod: string, err: unknown) => void,
  signal?: AbortSignal,
): Promise<void> {
  if ((query.workload === undefined) === (query.pod === undefined)) throw invalid('query', 'give exactly one of pod= or workload=');
  const namespace = query.namespace ?? DEFAULT_NAMESPACE;
  const params = {
    namespace,
    ...(query.container !== undefined ? { container: query.container } : {}),
    ...(query.tail !== undefined ? { tail: query.tail } : {}),
    ...(query.follow && !query.previous ? { follow: true } : {}),
    ...(query.previous ? { previous: true } : {}),
    ...(query.sinceSeconds !== undefined ? { sinceSeconds: query.sinceSeconds } : {}),
    ...(query.sinceTime !== undefined ? { sinceTime: query.sinceTime } : {}),
  };
  const ask = async (pod: Pod): Promise<void> => {
    const node = pod.spec.nodeName;
    if (node === undefined) throw noContainerError(pod, undefined);
    // A follow may stay silent for a minute, so waiting out the timeout on a node already
    // known to be gone would be a long wait for nothing.
    if (query.follow && !deps.isReady(node)) {
      throw new GroveError(ErrorCode.NodeUnavailable, `node ${node} is not ready (offline?)`, { details: { node } });
    }
    try {
      await deps.rpc.requestLogs(node, { pod: pod.metadata.name, ...params }, onLines, signal);
    } catch (err) {
      // The node has no container of the pod: say what holds it back. (With -c, the node's own
      // words: the container name may simply be wrong.)
      if (isGroveError(err, ErrorCode.NotFound) && query.container === undefined && !query.previous) throw noContainerError(pod, deps.reported?.(node, namespace, pod.metadata.name));
      throw err;
    }
  };
  if (query.pod !== undefined) {
    const pod = await deps.objects.get({ kind: 'Pod', namespace, name: query.pod });
    if (!pod) throw new GroveError(ErrorCode.NotFound, `pod "${query.pod}" not found in namespace ${namespace}`, { details: { kind: 'Pod', name: query.pod } });
    if (query.node !== undefined && pod.spec.nodeName !== query.node) throw new GroveError(ErrorCode.NotFound, `pod "${query.pod}" is not on node ${query.node}`);
    return ask(pod);
  }
  const { kind, name } = parseWorkload(query.workload!);
  const pods = (await workloadPods(deps.objects, namespace, kind, name)).filter((p) => query.node === undefined || p.spec.nodeName === query.node);
  await Promise.all(pods.map((p) => ask(p).catch((err: unknown) => onError(p.metadata.name, err))));
}
