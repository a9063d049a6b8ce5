/**
 * PURE: the status side of init containers (init-order.ts decides what runs). A pod with init
 * containers reports them in PodStatus.initContainers; while it initialises its phase is
 * Pending and its main containers wait with reason PodInitializing; an init container that
 * failed for good (restartPolicy Never) fails the pod. The CLI turns this into Kubernetes'
 * Init:N/M, Init:Error, Init:CrashLoopBackOff and PodInitializing (src/cli/verbs/client/views.ts).
 */
import type { ContainerStatus, PodPhase } from '../../../src/core/wire-types.js';
import type { RestartPolicy } from '../../../src/core/resolved-pod.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import { initProgress, isSidecar, type InitProgress, type RecordOf, type StartedOf } from './plan/init-order.js';
import { initContainersOf, podVariant, restartPolicyOf } from './plan/pod-fields.js';
import type { Failure } from './plan/steps.js';

export const POD_INITIALIZING = 'PodInitializing';

export type ContainerStatusOf = (pod: WirePodTarget, name: string, failure: Failure | undefined) => ContainerStatus;

export interface InitView {
  progress: InitProgress;
  statuses: ContainerStatus[];
}

/** Init containers restart like OnFailure under Always (as in Kubernetes): one that exited 0 is done. */
export function initRestartPolicy(pod: WirePodTarget): RestartPolicy {
  const policy = restartPolicyOf(pod);
  return policy === 'Always' ? 'OnFailure' : policy;
}

/** Undefined for a pod without init containers (its status stays as it was). */
export function initView(pod: WirePodTarget, recordOf: RecordOf, failureOf: (name: string) => Failure | undefined, statusOf: ContainerStatusOf, startedOf?: StartedOf): InitView | undefined {
  const inits = initContainersOf(pod);
  if (inits.length === 0) return undefined;
  const asInit = podVariant(pod, pod.name, { restartPolicy: initRestartPolicy(pod) });
  // A sidecar is restarted whatever the pod's policy: its status says so while it backs off.
  const asSidecar = podVariant(pod, pod.name, { restartPolicy: 'Always' });
  const seen = new Set<string>();
  const statuses: ContainerStatus[] = [];
  for (const c of inits) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    statuses.push(statusOf(isSidecar(c) ? asSidecar : asInit, c.name, failureOf(c.name)));
  }
  return { progress: initProgress(pod, recordOf, startedOf), statuses };
}

/** A main container's status while the pod initialises: waiting for the init containers. */
export function whileInitialising(view: InitView | undefined, status: ContainerStatus): ContainerStatus {
  if (!view || view.progress.initialised || status.state !== 'waiting') return status;
  return { name: status.name, state: 'waiting', reason: POD_INITIALIZING, oomKilled: false, restarts: status.restarts };
}

/** The pod's phase, given what its main containers alone would make it. */
export function phaseWithInits(view: InitView | undefined, mainPhase: PodPhase): PodPhase {
  if (!view || view.progress.initialised) return mainPhase;
  return view.progress.failed ? 'Failed' : 'Pending';
}
