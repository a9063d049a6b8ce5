/**
 * THE plan: one PURE function from what the node has (`current`), what it should run
 * (`target`) and what the agent remembers (`memory`) to every step of a round, in the order the
 * executor performs them (steps.ts PHASE): bookkeeping, pod sandboxes, container removals,
 * starts and restarts, settling. No I/O, no clock: the time is part of `current`.
 *
 * It chains the parts, each a pure module with its own exact-step tests: Job / CronJob runs
 * (jobs.ts), depends_on waits (depends-on.ts), containers and init order (containers.ts,
 * init-order.ts), update windows and locks (update-gate.ts), pod sandboxes (sandboxes.ts) and
 * the restart backoff (backoff.ts). docs/agent.md, "One plan, one executor".
 */
import { collectConfigRefs, refKey } from '../../../../src/core/config-refs.js';
import type { DeferredUpdate } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { ManagedContainer, PodSandbox } from '../node-runtime.js';
import type { ProbeView } from '../prober.js';
import { deriveStatus } from '../status.js';
import { crashHold, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { planContainers, type ContainerStep } from './containers.js';
import { dependencyWaits } from './depends-on.js';
import { initEndedDuringRound, initWatchAt } from './init-order.js';
import { planJobs } from './jobs.js';
import { allContainersOf, dependenciesOf, podApp, podKey, referencesOf } from './pod-fields.js';
import { failureOf, isHeld, nextRetryAt, shownFailure, type PlanMemory } from './memory.js';
import { planSandboxes, sandboxFirst } from './sandboxes.js';
import { containerWork, removalWork, sandboxWork, workKey, type Need, type Step, type StepOf, type StepResult, type WorkId } from './steps.js';
import { appsUpdating, gateSteps } from './update-gate.js';

/** What the node has, as looked at once at the start of a round. */
export interface Observation {
  /** The clock's reading at the look (ms). */
  now: number;
  containers: ManagedContainer[];
  /** Pod sandboxes; undefined when the runtime has none (each container then has namespaces of its own). */
  sandboxes?: PodSandbox[];
  /** Apps whose update lock file exists (looked at for the apps with a running container). */
  lockedApps: ReadonlySet<string>;
  /** Probe results as of the look (none: running means ready). */
  probes?: ProbeView;
}

export interface PlanSettings {
  backoff: BackoffPolicy;
  /** Lock maximum for apps that set none. */
  defaultLockMaxSeconds: number;
  /** Zone update windows are read in when the app names none; undefined = the process's local zone. */
  timeZone?: string;
}

/** Default lock maximum for apps without grove.io/update-lock-max (1 h). */
export const DEFAULT_LOCK_MAX_SECONDS = 3600;

export const DEFAULT_SETTINGS: PlanSettings = { backoff: DEFAULT_BACKOFF, defaultLockMaxSeconds: DEFAULT_LOCK_MAX_SECONDS };

export interface Plan {
  steps: Step[];
  /** The pods planned for: the target with each Job / CronJob pod replaced by its runs. */
  pods: WirePodTarget[];
  /** Updates held back by a window or a lock (for the status). */
  deferred: DeferredUpdate[];
  /** Target pods deleted with a grace period of their own (deletionGraceSeconds): being stopped. */
  deleted: WirePodTarget[];
  /** Pods waiting for a same-node dependency → what they wait for (for the status). */
  waits: ReadonlyMap<string, string>;
  /** Earliest moment something held goes ahead on time alone (a window opens, a lock maximum or a Job timer ends). */
  wakeAt?: number;
}

export function plan(current: Observation, fullTarget: readonly WirePodTarget[], memory: PlanMemory, settings: PlanSettings = DEFAULT_SETTINGS): Plan {
  const { now, containers } = current;
  // Pods deleted with a grace of their own: nothing of theirs starts, their containers stop with it.
  const { live: target, deleted } = splitDeleted(fullTarget);
  // Job and CronJob pods become the runs they need now; everything below plans those.
  const jobs = planJobs(target, memory, containers, now);
  const pods = jobs.pods;
  // Failures that stop counting now: of work no longer wanted, or waiting for a config that arrived.
  const forgotten = forgottenFailures(memory, target, pods, containers);
  const failures = forgotten.length === 0 ? memory.failures : withoutWorks(memory.failures, forgotten);
  const held = (work: WorkId): boolean => isHeld({ failures }, work, now);
  // compose depends_on: pods whose dependencies on this node are not met yet wait.
  const dependants = pods.some((p) => dependenciesOf(p).length > 0);
  const waits = dependencyWaits(pods, dependants ? deriveStatus(pods, containers, (w) => shownFailure({ failures }, w), current.probes) : []);
  const planned = planContainers(containers, pods, {
    held: (pod, c) => waits.has(pod) || held(containerWork(pod, c)),
    deletionGrace: (pod) => deleted.get(pod)?.deletionGraceSeconds,
    ...(current.probes?.started ? { started: (id: string) => current.probes?.started?.(id) } : {}),
  });
  // Update windows and locks hold back what they forbid now.
  const gate = gateSteps({
    steps: planned,
    current: containers,
    target: pods,
    now,
    lockedApps: current.lockedApps,
    holds: memory.holds,
    defaultLockMaxSeconds: settings.defaultLockMaxSeconds,
    ...(settings.timeZone !== undefined ? { timeZone: settings.timeZone } : {}),
  });
  // A removal already under way (a long grace outlives a round) or backing off is not started again.
  let steps = gate.run.filter((s) => s.type !== 'remove-container' || !(memory.removing.has(s.id) || held(removalWork(s.id))));
  // Sandboxes first: a pod's containers start only inside its ready sandbox.
  const sandboxSteps = current.sandboxes ? planSandboxes(current.sandboxes, containers, pods, { held: (pod) => held(sandboxWork(pod)) }) : [];
  if (current.sandboxes) steps = sandboxFirst(steps, current.sandboxes, sandboxSteps);
  const containerSteps = waitForRemovals(crashBackOffs(steps, containers, { failures }, now, settings.backoff), memory);
  const lockWatch = appsUpdating(planned, containers).filter((app) => current.lockedApps.has(app)).sort();
  return {
    steps: [
      ...(forgotten.length > 0 ? [{ type: 'forget-failures' as const, works: forgotten }] : []),
      ...holdChanges(memory.holds, gate.holds, gate.deferred),
      ...(memory.configChanged.length > 0 ? [{ type: 'refresh-config' as const, changed: [...memory.configChanged] }] : []),
      ...jobs.steps,
      // Re-asked while a lock holds something (a watcher lost to an error comes back).
      ...(lockWatch.length > 0 || memory.watchedLocks !== '' ? [{ type: 'watch-locks' as const, apps: lockWatch }] : []),
      ...sandboxSteps,
      ...containerSteps,
      ...(current.sandboxes ? [{ type: 'write-hosts' as const }] : []),
      { type: 'sync-probes', pods },
      { type: 'prune-locks', apps: [...new Set(target.map(podApp))] },
      { type: 'clean-pod-dirs', pods },
    ],
    pods,
    deleted: [...deleted.values()],
    deferred: gate.deferred,
    waits,
    ...minWake(gate.wakeAt, jobs.wakeAt),
  };
}

/** The target split into the pods to run and those deleted with a grace period (by podKey). */
export function splitDeleted(target: readonly WirePodTarget[]): { live: WirePodTarget[]; deleted: Map<string, WirePodTarget> } {
  const live: WirePodTarget[] = [];
  const deleted = new Map<string, WirePodTarget>();
  for (const p of target) {
    if (p.deletionGraceSeconds === undefined) live.push(p);
    else deleted.set(podKey(p), p);
  }
  return { live, deleted };
}

/**
 * Failures to forget: of pod containers and sandboxes no longer desired, of removals whose
 * container is gone, and of pods that failed for lack of a ConfigMap/Secret that has arrived
 * since (retried now, not after their backoff of up to 5 min).
 */
function forgottenFailures(memory: PlanMemory, target: readonly WirePodTarget[], pods: readonly WirePodTarget[], containers: readonly ManagedContainer[]): WorkId[] {
  if (memory.failures.size === 0) return [];
  const wanted = new Set<string>();
  for (const p of pods) {
    wanted.add(workKey(sandboxWork(podKey(p))));
    for (const c of allContainersOf(p)) wanted.add(workKey(containerWork(podKey(p), c.name)));
  }
  for (const c of containers) wanted.add(workKey(removalWork(c.id)));
  const changed = new Set(memory.configChanged.map(refKey));
  if (changed.size > 0) {
    for (const p of target) {
      if (!collectConfigRefs([referencesOf(p)], p.namespace).some((r) => changed.has(refKey(r)))) continue;
      for (const c of allContainersOf(p)) wanted.delete(workKey(containerWork(podKey(p), c.name)));
    }
  }
  return [...memory.failures.values()].filter((f) => !wanted.has(workKey(f.work))).map((f) => f.work);
}

function withoutWorks(failures: PlanMemory['failures'], works: readonly WorkId[]): PlanMemory['failures'] {
  const drop = new Set(works.map(workKey));
  return new Map([...failures].filter(([key]) => !drop.has(key)));
}

/**
 * The restart of an exited container waits its CrashLoopBackOff delay: at first sight of the exit
 * the hold is recorded (back-off-restart), and the restart goes only once its time has come (at
 * once when the exit is seen late, the agent having been down).
 */
function crashBackOffs(steps: ContainerStep[], containers: readonly ManagedContainer[], memory: Pick<PlanMemory, 'failures'>, now: number, policy: BackoffPolicy): ContainerStep[] {
  const byId = new Map(containers.map((c) => [c.id, c]));
  return steps.flatMap((s): ContainerStep[] => {
    const exited = s.type === 'restart-container' && s.reason !== 'not-started' ? byId.get(s.id) : undefined;
    if (s.type !== 'restart-container' || !exited) return [s];
    const work = containerWork(podKey(s.pod), s.container.name);
    const hold = crashHold(failureOf(memory, work), work, exited, now, policy);
    if (!hold) return [s];
    const backOff: ContainerStep = { type: 'back-off-restart', pod: s.pod, container: s.container, failure: hold, ...(s.needs ? { needs: s.needs } : {}) };
    return hold.retryAt <= now ? [backOff, s] : [backOff];
  });
}

/** Starts and restarts of an app wait until its removals in flight have ended. */
function waitForRemovals(steps: ContainerStep[], memory: Pick<PlanMemory, 'removing'>): ContainerStep[] {
  const stopping = new Set([...memory.removing.values(), ...steps.flatMap((s) => (s.type === 'remove-container' ? [s.app] : []))]);
  if (stopping.size === 0) return steps;
  return steps.map((s) => {
    if (s.type === 'remove-container' || s.type === 'stop-container' || !stopping.has(podApp(s.pod))) return s;
    const need: Need = { kind: 'app-stopped', app: podApp(s.pod) };
    return { ...s, needs: [...(s.needs ?? []), need] };
  });
}

/** Holds that start, change reason or end (the gate keeps `since` while the reason stays). */
function holdChanges(before: PlanMemory['holds'], after: PlanMemory['holds'], deferred: readonly DeferredUpdate[]): StepOf<'hold-update' | 'release-update'>[] {
  const out: StepOf<'hold-update' | 'release-update'>[] = [];
  for (const [app, hold] of after) {
    const prev = before.get(app);
    if (prev?.reason === hold.reason && prev.since === hold.since) continue;
    const d = deferred.find((x) => x.app === app);
    out.push({ type: 'hold-update', app, hold, ...(d ? { deferred: d } : {}) });
  }
  for (const app of before.keys()) if (!after.has(app)) out.push({ type: 'release-update', app });
  return out;
}

function minWake(...times: (number | undefined)[]): { wakeAt?: number } {
  const defined = times.filter((t): t is number => t !== undefined);
  return defined.length > 0 ? { wakeAt: Math.min(...defined) } : {};
}

/**
 * Whether the round's outcome calls for another round at once rather than at the next poll: a
 * quick init container already ended (the next one can start), or a pod waiting for a dependency
 * may be free now that something started.
 */
export function anotherRoundNow(planned: Plan, results: readonly StepResult[], after: readonly ManagedContainer[]): boolean {
  const started = results.filter((r) => r.ok && (r.step.type === 'start-container' || r.step.type === 'restart-container')).map((r) => r.step);
  return initEndedDuringRound(started, after) || (planned.waits.size > 0 && started.length > 0);
}

/** When to plan again on time alone: a backoff ends, a window opens, a Job timer, a fresh init container to watch. */
export function nextWake(planned: Plan, memory: Pick<PlanMemory, 'failures'>, after: readonly ManagedContainer[], now: number): number | undefined {
  return minWake(nextRetryAt(memory, now), planned.wakeAt, initWatchAt(planned.pods, after, now)).wakeAt;
}
