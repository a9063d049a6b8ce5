/**
 * Init containers (k8s initContainers): PURE decisions of which of a pod's containers the
 * planner may bring up now, and how far a pod's initialisation has got.
 *
 * Rules (docs/agent.md, "Init containers"):
 * - the init containers run one after another, each to completion (exit 0), before any main
 *   container starts;
 * - a completed init container is not run again while the pod lives: its exited container
 *   record counts (also across an agent restart), and once any main container of the pod has
 *   a record the pod counts as initialised;
 * - when every container of the pod is gone (state wiped by a reboot, template changed), the
 *   init containers run again from the first;
 * - a failing init container is restarted under the pod's restartPolicy (Always acts as
 *   OnFailure: one that exited 0 is done) with the usual crash-loop backoff; under Never the
 *   pod has failed.
 *
 * Native sidecars (an init container with restartPolicy Always), as Kubernetes runs them:
 * - started in order with the other init containers, but not waited for to end: the next one
 *   starts once the sidecar runs and its startup probe (if any) has succeeded;
 * - kept running, and restarted whatever the pod's restartPolicy, while the pod runs;
 * - stopped once every main container has ended for good (a Job's pod completes when its main
 *   containers do), and, when the pod goes, only after its main containers (containers.ts).
 */
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { Container } from '../../../../src/core/objects/pod-container.js';
import { keyOf, podContainerKey, type ManagedContainer } from '../node-runtime.js';
import type { RestartPolicy } from '../../../../src/core/resolved-pod.js';
import { initContainersOf, mainContainers, podKey, restartPolicyOf } from './pod-fields.js';
import { shouldRestart } from './restart-policy.js';
import type { Step } from './steps.js';

/** The current record of one of the pod's containers (this template), by container name. */
export type RecordOf = (name: string) => ManagedContainer | undefined;

/** Whether a running container instance's startup probe has succeeded; undefined = no word of it yet. */
export type StartedOf = (id: string) => boolean | undefined;

/** An init container that keeps running beside the main containers (restartPolicy: Always). */
export const isSidecar = (c: Pick<Container, 'restartPolicy'>): boolean => c.restartPolicy === 'Always';

export const sidecarsOf = (pod: WirePodTarget): readonly Container[] => initContainersOf(pod).filter(isSidecar);

export interface InitProgress {
  /** Init containers that have completed (exit 0), counted from the first. */
  completed: number;
  /** How many init containers the pod has. */
  total: number;
  /** Every init container has completed, or a main container exists: the mains may run. */
  initialised: boolean;
  /** The next init container ended with an error and will not be restarted (policy Never). */
  failed: boolean;
}

const NO_INITS: readonly Container[] = [];

export function isInitContainer(pod: WirePodTarget, name: string): boolean {
  return initContainersOf(pod).some((c) => c.name === name);
}

function completed(c: ManagedContainer | undefined): boolean {
  return c?.state === 'exited' && c.exitCode === 0;
}

/** A sidecar counts as started once it runs and its startup probe (if it has one) has succeeded. */
function sidecarStarted(c: Container, record: ManagedContainer | undefined, startedOf: StartedOf): boolean {
  if (record?.state !== 'running') return false;
  return c.startupProbe === undefined || startedOf(record.id) === true;
}

/** Without a prober: a sidecar with a startup probe never counts as started (nothing would say it did). */
const NEVER_STARTED: StartedOf = () => undefined;

export function initProgress(pod: WirePodTarget, recordOf: RecordOf, startedOf: StartedOf = NEVER_STARTED): InitProgress {
  const inits = initContainersOf(pod);
  const total = inits.length;
  if (total === 0) return { completed: 0, total, initialised: true, failed: false };
  let done = 0;
  while (done < total) {
    const c = inits[done]!;
    const ok = isSidecar(c) ? sidecarStarted(c, recordOf(c.name), startedOf) : completed(recordOf(c.name));
    if (!ok) break;
    done++;
  }
  // A main container that exists means this pod life's initialisation is over, whatever became
  // of the init containers' records since (k8s: they are not re-run when a main container restarts).
  const mainExists = mainContainers(pod).some((c) => recordOf(c.name) !== undefined);
  if (done === total || mainExists) return { completed: total, total, initialised: true, failed: false };
  const next = recordOf(inits[done]!.name);
  // Never: an init container that failed stays failed. Always/OnFailure restart it (the executor backs off).
  // A sidecar is restarted whatever the policy: only a plain init container fails a pod.
  const failed = restartPolicyOf(pod) === 'Never' && next?.state === 'exited' && !isSidecar(inits[done]!);
  return { completed: done, total, initialised: false, failed };
}

/** The restart policy a container of the pod runs under: Always for a sidecar, else the pod's. */
export function containerRestartPolicy(pod: WirePodTarget, c: Pick<Container, 'restartPolicy'>): RestartPolicy {
  return isSidecar(c) ? 'Always' : restartPolicyOf(pod);
}

/**
 * Every main container has ended for good (none will be restarted under the pod's policy): the
 * pod is complete, and its sidecars stop (Kubernetes: a Job's pod completes with its mains).
 */
export function mainsFinished(pod: WirePodTarget, recordOf: RecordOf): boolean {
  const mains = mainContainers(pod);
  return mains.length > 0 && mains.every((c) => {
    const r = recordOf(c.name);
    return r?.state === 'exited' && !shouldRestart(restartPolicyOf(pod), r.exitCode);
  });
}

/**
 * The containers the planner may start or restart now, in order: the sidecars and the mains once
 * the pod is initialised (the mains alone once they have finished), else the sidecars started so
 * far and the next init container (none once that has failed for good).
 */
export function runnableContainers(pod: WirePodTarget, recordOf: RecordOf, startedOf: StartedOf = NEVER_STARTED): readonly Container[] {
  const inits = initContainersOf(pod);
  if (inits.length === 0) return mainContainers(pod);
  const progress = initProgress(pod, recordOf, startedOf);
  const sidecars = sidecarsOf(pod);
  if (progress.initialised) return sidecars.length === 0 || mainsFinished(pod, recordOf) ? mainContainers(pod) : [...sidecars, ...mainContainers(pod)];
  if (progress.failed) return NO_INITS;
  const startedSidecars = inits.slice(0, progress.completed).filter(isSidecar);
  return [...startedSidecars, inits[progress.completed]!];
}

/**
 * The running sidecars of pods whose main containers have finished: the planner stops them
 * (their records stay, so the pod's status shows them terminated).
 */
export function sidecarsToStop(pod: WirePodTarget, recordOf: RecordOf): ManagedContainer[] {
  const sidecars = sidecarsOf(pod);
  if (sidecars.length === 0 || !mainsFinished(pod, recordOf)) return [];
  return sidecars.flatMap((c) => {
    const r = recordOf(c.name);
    return r?.state === 'running' ? [r] : [];
  });
}

/**
 * Whether a (re)started init container has already ended by the time the round's steps are
 * done (a quick one, or MemoryRuntime's), or a sidecar without a startup probe was started:
 * then the next one can start in another round now rather than at the next poll.
 */
export function initEndedDuringRound(steps: readonly Step[], current: readonly ManagedContainer[]): boolean {
  const started = new Set<string>();
  for (const s of steps) {
    if ((s.type === 'start-container' || s.type === 'restart-container') && isInitContainer(s.pod, s.container.name)) {
      if (isSidecar(s.container) && s.container.startupProbe === undefined && s.type === 'start-container') return true;
      started.add(podContainerKey(podKey(s.pod), s.container.name));
    }
  }
  if (started.size === 0) return false;
  return current.some((c) => c.state === 'exited' && c.exitCode === 0 && started.has(keyOf(c)));
}

/** How often the reconciler looks again while an init container has just started (instead of the poll). */
export const INIT_WATCH_MS = 1000;
/** For this long after an init container's start; a long-running one is left to the normal poll. */
export const INIT_WATCH_FOR_MS = 60_000;

/**
 * When to look at the runtime again because an init container of a target pod runs and started
 * less than INIT_WATCH_FOR_MS ago: the next one (or the mains) then starts about a second after
 * it ends rather than a whole poll later. Undefined when no such container runs.
 */
export function initWatchAt(target: readonly WirePodTarget[], current: readonly ManagedContainer[], now: number): number | undefined {
  const inits = new Set<string>();
  // Sidecars do not end: the prober's startup result, not a poll, moves their pod on.
  for (const p of target) for (const c of initContainersOf(p)) if (!isSidecar(c)) inits.add(podContainerKey(p.name, c.name));
  if (inits.size === 0) return undefined;
  const fresh = current.some((c) => {
    if (c.state !== 'running' || !inits.has(keyOf(c))) return false;
    const started = c.startedAt ? Date.parse(c.startedAt) : NaN;
    return !Number.isFinite(started) || now - started < INIT_WATCH_FOR_MS;
  });
  return fresh ? now + INIT_WATCH_MS : undefined;
}
