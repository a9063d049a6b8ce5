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
 */
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { Container } from '../../../../src/core/objects/pod-container.js';
import { keyOf, podContainerKey, type ManagedContainer } from '../node-runtime.js';
import { initContainersOf, mainContainers, podKey, restartPolicyOf } from './pod-fields.js';
import type { Step } from './steps.js';

/** The current record of one of the pod's containers (this template), by container name. */
export type RecordOf = (name: string) => ManagedContainer | undefined;

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

export function initProgress(pod: WirePodTarget, recordOf: RecordOf): InitProgress {
  const inits = initContainersOf(pod);
  const total = inits.length;
  if (total === 0) return { completed: 0, total, initialised: true, failed: false };
  let done = 0;
  while (done < total && completed(recordOf(inits[done]!.name))) done++;
  // A main container that exists means this pod life's initialisation is over, whatever became
  // of the init containers' records since (k8s: they are not re-run when a main container restarts).
  const mainExists = mainContainers(pod).some((c) => recordOf(c.name) !== undefined);
  if (done === total || mainExists) return { completed: total, total, initialised: true, failed: false };
  const next = recordOf(inits[done]!.name);
  // Never: an init container that failed stays failed. Always/OnFailure restart it (the executor backs off).
  const failed = restartPolicyOf(pod) === 'Never' && next?.state === 'exited';
  return { completed: done, total, initialised: false, failed };
}

/**
 * The containers the planner may start or restart now, in order: the mains once the pod is
 * initialised, else only the next init container (none once that has failed for good).
 */
export function runnableContainers(pod: WirePodTarget, recordOf: RecordOf): readonly Container[] {
  const inits = initContainersOf(pod);
  if (inits.length === 0) return mainContainers(pod);
  const progress = initProgress(pod, recordOf);
  if (progress.initialised) return mainContainers(pod);
  if (progress.failed) return NO_INITS;
  return [inits[progress.completed]!];
}

/**
 * Whether a (re)started init container has already ended by the time the round's steps are
 * done (a quick one, or MemoryRuntime's): then the next one can start in another round now
 * rather than at the next poll.
 */
export function initEndedDuringRound(steps: readonly Step[], current: readonly ManagedContainer[]): boolean {
  const started = new Set<string>();
  for (const s of steps) {
    if ((s.type === 'start-container' || s.type === 'restart-container') && isInitContainer(s.pod, s.container.name)) started.add(podContainerKey(podKey(s.pod), s.container.name));
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
  for (const p of target) for (const c of initContainersOf(p)) inits.add(podContainerKey(p.name, c.name));
  if (inits.size === 0) return undefined;
  const fresh = current.some((c) => {
    if (c.state !== 'running' || !inits.has(keyOf(c))) return false;
    const started = c.startedAt ? Date.parse(c.startedAt) : NaN;
    return !Number.isFinite(started) || now - started < INIT_WATCH_FOR_MS;
  });
  return fresh ? now + INIT_WATCH_MS : undefined;
}
