/**
 * `grove node cordon|uncordon|drain NAME` on the Kubernetes paths, as kubectl does them: cordon
 * is a merge patch of the Node's spec.unschedulable; drain cordons, lists the pods bound to the
 * node (fieldSelector spec.nodeName), decides what may go (drain-plan.ts), evicts each through
 * its pods/eviction subresource (retrying while a disruption budget says 429), and waits until
 * each is gone (or replaced by a pod of the same name), up to --timeout.
 */
import { ErrorCode, GroveError, isGroveError } from '../../../../core/errors.js';
import { KINDS } from '../../../../core/objects/kinds.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import { writeLine, type CliIO } from '../../../io.js';
import { planDrain, type DrainOptions } from './drain-plan.js';
import type { KubeClient } from './kube-client.js';

type Pod = KindObject<'Pod'>;

/** Time for the waits of drain, injected so tests do not sleep. */
export interface Pause {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export function realPause(): Pause {
  return { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

/** kubectl's waits: an eviction refused with 429 is retried after 5 s; gone pods are checked every second. */
const EVICTION_RETRY_MS = 5000;
const POLL_MS = 1000;

/** Sets spec.unschedulable; says so, or that it already was. */
export async function setUnschedulable(client: KubeClient, io: CliIO, name: string, unschedulable: boolean): Promise<void> {
  const node = (await client.get(KINDS.Node, undefined, name)) as KindObject<'Node'>;
  const word = unschedulable ? 'cordoned' : 'uncordoned';
  if ((node.spec?.unschedulable ?? false) === unschedulable) {
    writeLine(io.stdout, `node/${name} already ${word}`);
    return;
  }
  await client.mergePatch(KINDS.Node, undefined, name, { spec: { unschedulable: unschedulable ? true : null } });
  writeLine(io.stdout, `node/${name} ${word}`);
}

export interface DrainRequest extends DrainOptions {
  node: string;
  /** Give up after this long (ms); 0 waits as long as it takes, as kubectl's default. */
  timeoutMs: number;
  /** deleteOptions.gracePeriodSeconds of each eviction; absent: each pod's own. */
  gracePeriodSeconds?: number | undefined;
}

function podRef(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

function timedOut(request: DrainRequest, pending: readonly Pod[]): GroveError {
  return new GroveError(ErrorCode.Timeout, `drain did not complete within ${request.timeoutMs / 1000}s: still on node ${request.node}: ${pending.map(podRef).join(', ')}`);
}

/** Evicts one pod; a 429 (disruption budget) waits and tries again until the deadline. */
async function evict(client: KubeClient, io: CliIO, pod: Pod, request: DrainRequest, pause: Pause, deadline: number): Promise<void> {
  const { name, namespace } = pod.metadata;
  const body = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace },
    ...(request.gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds: request.gracePeriodSeconds } } : {}),
  };
  for (;;) {
    try {
      await client.postSub(KINDS.Pod, namespace, name, 'eviction', body);
      return;
    } catch (err) {
      if (isGroveError(err, ErrorCode.NotFound)) return;
      if (!isGroveError(err, ErrorCode.RateLimited)) throw err;
      if (pause.now() + EVICTION_RETRY_MS > deadline) throw timedOut(request, [pod]);
      writeLine(io.stderr, `error when evicting pods/${JSON.stringify(name)} -n ${JSON.stringify(namespace)} (will retry after 5s): ${err.message.replace(/^Error from server \([A-Za-z]+\): /, '')}`);
      await pause.sleep(EVICTION_RETRY_MS);
    }
  }
}

/** Whether `pod` has left: no pod of its name, or one with another uid (its replacement). */
async function gone(client: KubeClient, pod: Pod): Promise<boolean> {
  try {
    const now = await client.get(KINDS.Pod, pod.metadata.namespace, pod.metadata.name);
    return pod.metadata.uid !== undefined && now.metadata.uid !== pod.metadata.uid;
  } catch (err) {
    if (isGroveError(err, ErrorCode.NotFound)) return true;
    throw err;
  }
}

export async function runDrain(client: KubeClient, io: CliIO, request: DrainRequest, pause: Pause): Promise<void> {
  const deadline = request.timeoutMs > 0 ? pause.now() + request.timeoutMs : Number.POSITIVE_INFINITY;
  await setUnschedulable(client, io, request.node, true);
  const listed = (await client.list(KINDS.Pod, { fieldSelector: `spec.nodeName=${request.node}` })) as Pod[];
  // The server selects by node; checked again here so a server that ignored the selector cannot make drain evict another node's pods.
  const pods = listed.filter((p) => p.spec.nodeName === request.node);
  const plan = planDrain(pods, request);
  if (plan.refusals.length > 0) {
    throw new GroveError(ErrorCode.InvalidArgument, [`unable to drain node ${JSON.stringify(request.node)} (it stays cordoned):`, ...plan.refusals].join('\n'), { details: { refusals: plan.refusals } });
  }
  for (const warning of plan.warnings) writeLine(io.stderr, `Warning: ${warning}`);
  for (const pod of plan.evict) {
    writeLine(io.stdout, `evicting pod ${podRef(pod)}`);
    await evict(client, io, pod, request, pause, deadline);
  }
  let pending = plan.evict;
  while (pending.length > 0) {
    const still: Pod[] = [];
    for (const pod of pending) {
      if (await gone(client, pod)) writeLine(io.stdout, `pod/${pod.metadata.name} evicted`);
      else still.push(pod);
    }
    pending = still;
    if (pending.length === 0) break;
    if (pause.now() + POLL_MS > deadline) throw timedOut(request, pending);
    await pause.sleep(POLL_MS);
  }
  writeLine(io.stdout, `node/${request.node} drained`);
}
