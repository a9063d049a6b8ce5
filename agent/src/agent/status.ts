/**
 * Status derivation: PURE. From the target, the managed containers and the executor's failure
 * records to one PodStatus per desired pod, in target order. Nothing time-dependent goes in, so
 * an unchanged node yields an identical status and the reporter stays quiet between heartbeats.
 */
import type { ContainerStatus, PodPhase, PodStatus } from '../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import { keyOf, Labels, podContainerKey, type ManagedContainer } from './node-runtime.js';
import { indexTarget, pickCurrent } from './plan/containers.js';
import { shouldRestart } from './plan/restart-policy.js';
import { mainContainers, podKey, podStatusIdentity, restartPolicyOf } from './plan/pod-fields.js';
import { containerWork, type ContainerWork, type Failure } from './plan/steps.js';
import type { ProbeView } from './prober.js';
import { initView, phaseWithInits, whileInitialising } from './init-status.js';

/** The wire's limit on ContainerStatus.message: a pull error can quote a whole HTTP body. */
const MAX_MESSAGE = 4096;
const clip = (m: string): string => (m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE - 1)}…` : m);

/** The failure a pod container's status shows (plan/memory.ts shownFailure). */
export type FailureLookup = (work: ContainerWork) => Failure | undefined;

/** Without a prober (or for containers without probes): running means ready. */
const NO_PROBES: ProbeView = { ready: () => undefined, stoppedBecause: () => undefined };

export function containerStatus(
  pod: WirePodTarget,
  name: string,
  c: ManagedContainer | undefined,
  failure: Failure | undefined,
  probes: ProbeView = NO_PROBES,
): ContainerStatus {
  const restarts = c?.restarts ?? 0;
  if (!c || c.state === 'created') {
    const pending = failure && failure.reason !== 'CrashLoopBackOff' ? failure : undefined;
    return {
      name,
      state: 'waiting',
      reason: pending?.reason ?? 'ContainerCreating',
      ...(pending ? { message: clip(pending.message) } : {}),
      oomKilled: false,
      restarts,
    };
  }
  const base = {
    name,
    oomKilled: c.oomKilled,
    restarts,
    ...(c.startedAt ? { startedAt: c.startedAt } : {}),
    ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
  };
  if (c.state === 'running') {
    // `ready` only for probed containers, so statuses of the others stay as they were.
    const ready = probes.ready(c.id);
    return { ...base, state: 'running', ...(ready !== undefined ? { ready } : {}) };
  }
  const probeStop = probes.stoppedBecause(c.id);
  const ended = c.oomKilled ? 'OOMKilled' : probeStop ? 'Unhealthy' : c.exitCode === 0 ? 'Completed' : 'Error';
  let reason = ended;
  // What the container said of its end (terminationMessagePath), else why a probe stopped it.
  let message: string | undefined = probeStop ?? c.terminationMessage;
  let lastState: ContainerStatus['lastState'];
  // Waiting to be restarted: say why it is not running yet rather than only how it ended.
  if (failure && shouldRestart(restartPolicyOf(pod), c.exitCode)) {
    reason = failure.reason;
    // A probe's stop is the real cause of this exit: keep it in sight during the backoff.
    message = clip(probeStop ? `${failure.message}: ${probeStop}` : failure.message);
    // The run that ended, with its own message, is the status's lastState (as Kubernetes shows it).
    if (c.terminationMessage) {
      lastState = {
        exitCode: c.exitCode ?? 0,
        reason: ended,
        message: c.terminationMessage,
        ...(c.startedAt ? { startedAt: c.startedAt } : {}),
        ...(c.finishedAt ? { finishedAt: c.finishedAt } : {}),
      };
    }
  }
  return {
    ...base,
    state: 'exited',
    reason,
    ...(message ? { message } : {}),
    ...(lastState ? { lastState } : {}),
    ...(c.exitCode !== null ? { exitCode: c.exitCode } : {}),
    ...(c.finishedAt ? { finishedAt: c.finishedAt } : {}),
  };
}

/**
 * Pending: something has not started yet (and nothing runs). Running: at least one container
 * runs, or all have ended and some will be restarted. Succeeded / Failed: all ended for good.
 */
export function podPhase(pod: WirePodTarget, containers: ContainerStatus[]): PodPhase {
  if (containers.length === 0) return 'Pending';
  if (containers.some((c) => c.state === 'running')) return 'Running';
  if (containers.some((c) => c.state === 'waiting')) return 'Pending';
  if (containers.some((c) => shouldRestart(restartPolicyOf(pod), c.exitCode ?? null))) return 'Running';
  return containers.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
}

export function deriveStatus(target: readonly WirePodTarget[], current: readonly ManagedContainer[], failure: FailureLookup, probes: ProbeView = NO_PROBES): PodStatus[] {
  const byKey = new Map<string, ManagedContainer[]>();
  for (const c of current) {
    const key = keyOf(c);
    const list = byKey.get(key) ?? [];
    list.push(c);
    byKey.set(key, list);
  }
  const out: PodStatus[] = [];
  for (const pod of indexTarget(target).values()) {
    // Only the instance of this template counts; an old one still being replaced does not.
    const at = podKey(pod);
    const recordOf = (name: string) => pickCurrent((byKey.get(podContainerKey(at, name)) ?? []).filter((c) => c.labels[Labels.templateHash] === pod.templateHash));
    const init = initView(pod, recordOf, (name) => failure(containerWork(at, name)), (p, name, f) => containerStatus(p, name, recordOf(name), f, probes), (id) => probes.started?.(id));
    const containers: ContainerStatus[] = [];
    const seen = new Set<string>();
    for (const ct of mainContainers(pod)) {
      if (seen.has(ct.name)) continue;
      seen.add(ct.name);
      containers.push(whileInitialising(init, containerStatus(pod, ct.name, recordOf(ct.name), failure(containerWork(at, ct.name)), probes)));
    }
    const phase = phaseWithInits(init, podPhase(pod, containers));
    out.push({
      ...podStatusIdentity(pod),
      templateHash: pod.templateHash,
      phase,
      ready: phase === 'Running' && containers.every((c) => c.state === 'running' && c.ready !== false),
      restarts: [...(init?.statuses ?? []), ...containers].reduce((n, c) => n + c.restarts, 0),
      containers,
      ...(init ? { initContainers: init.statuses } : {}),
    });
  }
  return out;
}

/** Structural equality for plain JSON-like data (status objects). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
