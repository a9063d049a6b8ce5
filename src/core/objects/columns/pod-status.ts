/**
 * A Pod's READY, STATUS and RESTARTS as `kubectl get pods` derives them from the Pod object:
 * the phase (or status.reason), overridden by the first init container that has not completed
 * (Init:N/M, Init:<reason>, Init:ExitCode:N), then by the containers' waiting or terminated
 * reasons (ContainerCreating, CrashLoopBackOff, Completed, Error …), and Terminating once the
 * pod is being deleted. Grove has no restartable (sidecar) init containers: the schema refuses
 * a container restartPolicy, so that branch of kubectl's rule does not arise.
 */
import type { KindObject } from '../validate.js';
import type { ContainerStatus } from '../pod.js';
import { since } from './human-duration.js';

type Pod = KindObject<'Pod'>;

export interface PodSummary {
  /** "1/2": ready containers of all containers. */
  ready: string;
  status: string;
  /** "3", or "3 (5m ago)" when the last restart's end is known. */
  restarts: string;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** The reason a terminated container is shown with: its reason, else its signal or exit code. */
function terminatedReason(t: NonNullable<NonNullable<ContainerStatus['state']>['terminated']>): string {
  if (t.reason) return t.reason;
  return t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
}

/** The end of the container's previous run, in ms since the epoch (0 when unknown). */
function lastEnd(c: ContainerStatus): number {
  const finished = c.lastState?.terminated?.finishedAt;
  return finished ? Date.parse(finished) || 0 : 0;
}

function isTrue(pod: Pod, type: string): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The init containers' verdict: a STATUS while they hold the pod back, else undefined. */
function initStatus(pod: Pod): string | undefined {
  const total = pod.spec.initContainers?.length ?? 0;
  for (const [i, c] of (pod.status?.initContainerStatuses ?? []).entries()) {
    const state = c.state ?? {};
    if (state.terminated && state.terminated.exitCode === 0) continue;
    if (state.terminated) return `Init:${terminatedReason(state.terminated)}`;
    if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') return `Init:${state.waiting.reason}`;
    return `Init:${i}/${total}`;
  }
  return undefined;
}

export function podSummary(pod: Pod, now: Date): PodSummary {
  const status = pod.status ?? {};
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  let restarts = 0;
  let lastRestart = 0;
  let ready = 0;

  for (const c of status.initContainerStatuses ?? []) {
    restarts += c.restartCount;
    lastRestart = Math.max(lastRestart, lastEnd(c));
  }
  const init = initStatus(pod);
  if (init) reason = init;

  if (!init || isTrue(pod, 'Initialized')) {
    // The main containers speak for the pod: only their restarts count from here.
    restarts = 0;
    lastRestart = 0;
    let running = false;
    // Last to first, as kubectl: the first container's state has the last word.
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      restarts += c.restartCount;
      lastRestart = Math.max(lastRestart, lastEnd(c));
      const state = c.state ?? {};
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated) reason = terminatedReason(state.terminated);
      else if (c.ready && state.running) {
        running = true;
        ready++;
      }
    }
    // A container that completed beside one still running: the pod as a whole is not done.
    if (reason === 'Completed' && running) reason = isTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !TERMINAL.has(phase)) reason = 'Terminating';

  const restartText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  return { ready: `${ready}/${pod.spec.containers.length}`, status: reason, restarts: restartText };
}
