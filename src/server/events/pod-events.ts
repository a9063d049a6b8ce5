/**
 * PURE: the kubelet's events of a pod, derived on the server from two successive statuses of
 * the pod (the one stored and the one the pod-status controller writes from the node's report),
 * so they cost no agent traffic: Pulled, Created, Started, Failed (image pull, create), BackOff
 * (pull retries, crash loop), OOMKilled, Unhealthy (liveness, startup, readiness) and Killing.
 *
 * What happens between two reports is not seen: a container that started and crashed between
 * them shows as one restart (its restartCount), and its Created/Started are counted once.
 * There is no "Pulling": agents report after a round, and a pull happens within one.
 */
import type { ContainerStatus, PodStatus } from '../../core/objects/pod.js';
import type { Pod } from '../controllers/object-kit.js';
import { containerFieldPath, EventSource, involvedOf, type EventInput, type EventType } from './event-types.js';

const PROBE_STOP = /(Liveness|Startup) probe failed: ?(.*)$/s;

function shortDigest(imageID: string): string {
  const m = /sha256:([0-9a-f]{12})/.exec(imageID);
  return m ? ` (sha256:${m[1]}…)` : '';
}

/** Whether the container has run (now or before): a start we have already told about. */
function hasRun(c: ContainerStatus | undefined): boolean {
  return c !== undefined && (c.state?.running !== undefined || c.state?.terminated !== undefined || c.lastState?.terminated !== undefined || c.restartCount > 0);
}

/** The start time of the run the status shows (running, or ended). */
function runStart(c: ContainerStatus | undefined): string | undefined {
  return c?.state?.running?.startedAt ?? c?.state?.terminated?.startedAt ?? undefined;
}

function containerEvents(pod: Pod, before: ContainerStatus | undefined, after: ContainerStatus, init: boolean): EventInput[] {
  const involved = involvedOf(pod, containerFieldPath(after.name, init));
  const host = pod.spec.nodeName;
  const out: EventInput[] = [];
  const say = (type: EventType, reason: string, message: string) => out.push({ involved, type, reason, message, component: EventSource.kubelet, ...(host !== undefined ? { host } : {}) });
  const name = after.name;
  const restarted = after.restartCount > (before?.restartCount ?? 0);

  // An ended run newly seen: how it ended (from lastState after a restart, or the state itself).
  const ended = restarted ? after.lastState?.terminated : after.state?.terminated;
  const endedBefore = restarted ? undefined : before?.state?.terminated;
  if (ended && (restarted || !endedBefore || endedBefore.finishedAt !== ended.finishedAt)) {
    if (ended.reason === 'OOMKilled') say('Warning', 'OOMKilled', `Container ${name} was killed: out of memory (exit code ${ended.exitCode})`);
  }
  const probeStop = PROBE_STOP.exec(after.state?.waiting?.message ?? after.state?.terminated?.message ?? '');
  const probeStopBefore = PROBE_STOP.exec(before?.state?.waiting?.message ?? before?.state?.terminated?.message ?? '');
  if (probeStop && (restarted || !probeStopBefore || probeStopBefore[0] !== probeStop[0])) {
    say('Warning', 'Unhealthy', `${probeStop[1]} probe failed: ${probeStop[2]}`.trim());
    say('Normal', 'Killing', `Container ${name} failed ${probeStop[1]!.toLowerCase()} probe, will be restarted`);
  }

  const waiting = after.state?.waiting;
  const waitingBefore = before?.state?.waiting;
  if (waiting?.reason === 'ImagePullError') {
    if (waitingBefore?.reason === 'ImagePullError') say('Normal', 'BackOff', `Back-off pulling image ${JSON.stringify(after.image)}`);
    else say('Warning', 'Failed', `Failed to pull image ${JSON.stringify(after.image)}: ${waiting.message ?? 'unknown error'}`);
  } else if (waiting?.reason === 'CreateError' && (waitingBefore?.reason !== 'CreateError' || waitingBefore.message !== waiting.message)) {
    say('Warning', 'Failed', `Error: ${waiting.message ?? 'the container could not be created'}`);
  } else if (waiting?.reason === 'CrashLoopBackOff' && (restarted || waitingBefore?.reason !== 'CrashLoopBackOff')) {
    say('Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})`);
  }

  // A new run: started since the last status (another start time, or a restart).
  const start = runStart(after);
  if (start !== undefined && (restarted || runStart(before) !== start)) {
    if (!hasRun(before)) say('Normal', 'Pulled', `Container image ${JSON.stringify(after.image)} is on the node${shortDigest(after.imageID)}`);
    say('Normal', 'Created', `Created container ${name}`);
    say('Normal', 'Started', `Started container ${name}`);
  }

  if (after.state?.running && before?.state?.running?.startedAt === after.state.running.startedAt && before?.ready && !after.ready) {
    say('Warning', 'Unhealthy', 'Readiness probe failed');
  }
  return out;
}

/** The events between `before` (stored; absent for a pod that never had one) and `after`. */
export function podStatusEvents(pod: Pod, before: PodStatus | undefined, after: PodStatus): EventInput[] {
  const out: EventInput[] = [];
  const pairs = (list: ContainerStatus[] | undefined, old: ContainerStatus[] | undefined, init: boolean) => {
    const byName = new Map((old ?? []).map((c) => [c.name, c]));
    for (const c of list ?? []) out.push(...containerEvents(pod, byName.get(c.name), c, init));
  };
  pairs(after.initContainerStatuses, before?.initContainerStatuses, true);
  pairs(after.containerStatuses, before?.containerStatuses, false);
  return out;
}

/** "Stopping container web" for each container of a pod being removed that runs (the kubelet's Killing). */
export function podKillingEvents(pod: Pod): EventInput[] {
  const host = pod.spec.nodeName;
  if (host === undefined) return [];
  return (pod.status?.containerStatuses ?? [])
    .filter((c) => c.state?.running !== undefined)
    .map((c) => ({ involved: involvedOf(pod, containerFieldPath(c.name)), type: 'Normal' as const, reason: 'Killing', message: `Stopping container ${c.name}`, component: EventSource.kubelet, host }));
}
