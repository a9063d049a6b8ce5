/**
 * The container part of the plan: PURE, from (what runs, what should run) to the container
 * steps that close the gap. No I/O, no clock.
 *
 * Step order is fixed and documented (docs/agent.md): removals, then starts, then restarts.
 * Removing first frees `<pod>_<container>` names (a template change of a pod that keeps its
 * name needs that) and memory on small boards, at the cost of a short gap during updates.
 */
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { Container } from '../../../../src/core/objects/pod-container.js';
import { appOf, Labels, keyOf, podContainerKey, podKeyOf, stopGraceOf, type ManagedContainer } from '../node-runtime.js';
import { containerRestartPolicy, runnableContainers, sidecarsToStop, type StartedOf } from './init-order.js';
import { allContainersOf, podKey } from './pod-fields.js';
import { shouldRestart } from './restart-policy.js';
import type { RemoveReason, StepOf } from './steps.js';

/** The container phase's steps (back-off-restart is added by the plan's restart backoff). */
export type ContainerStep = StepOf<'remove-container' | 'stop-container' | 'start-container' | 'restart-container' | 'back-off-restart'>;

export interface ContainerPlanOptions {
  /**
   * Pod containers whose (re)start is held back (a failure backoff, a dependency not met yet):
   * no start or restart step is planned for them this round.
   */
  held?: (pod: string, container: string) => boolean;
  /** The grace a pod was deleted with (by podKey), which its removals use instead of the pod's own. */
  deletionGrace?: (pod: string) => number | undefined;
  /** Whether a running instance's startup probe has succeeded (the prober's word): sidecars wait for it. */
  started?: StartedOf;
}

const STATE_RANK: Record<ManagedContainer['state'], number> = { running: 0, created: 1, exited: 2 };

/**
 * Of several containers for one pod container (a crash between start and remove can leave
 * two), the one that counts: running before created before exited, then the newest.
 */
export function pickCurrent(candidates: readonly ManagedContainer[]): ManagedContainer | undefined {
  return [...candidates].sort(compareForKeep)[0];
}

function compareForKeep(a: ManagedContainer, b: ManagedContainer): number {
  return (
    STATE_RANK[a.state] - STATE_RANK[b.state] ||
    b.createdAt.localeCompare(a.createdAt) ||
    b.id.localeCompare(a.id)
  );
}

function compareForRemoval(a: ManagedContainer, b: ManagedContainer): number {
  return (
    podKeyOf(a).localeCompare(podKeyOf(b)) ||
    a.labels[Labels.container].localeCompare(b.labels[Labels.container]) ||
    a.createdAt.localeCompare(b.createdAt) ||
    a.id.localeCompare(b.id)
  );
}

export { shouldRestart };

/** Desired pods by key (podKey); a repeated pod (a server bug) keeps its first occurrence. */
export function indexTarget(target: readonly WirePodTarget[]): Map<string, WirePodTarget> {
  const pods = new Map<string, WirePodTarget>();
  for (const pod of target) {
    const key = podKey(pod);
    if (!pods.has(key)) pods.set(key, pod);
  }
  return pods;
}

function desiredContainer(pod: WirePodTarget, name: string): Container | undefined {
  return allContainersOf(pod).find((c) => c.name === name);
}

export function planContainers(current: readonly ManagedContainer[], target: WirePodTarget[], opts: ContainerPlanOptions = {}): ContainerStep[] {
  const held = opts.held ?? (() => false);
  const pods = indexTarget(target);
  const removals: { c: ManagedContainer; reason: RemoveReason }[] = [];
  const matching = new Map<string, ManagedContainer[]>();

  for (const c of current) {
    const pod = pods.get(podKeyOf(c));
    if (!pod) {
      removals.push({ c, reason: 'not-desired' });
    } else if (pod.templateHash !== c.labels[Labels.templateHash]) {
      removals.push({ c, reason: 'template-changed' });
    } else if (!desiredContainer(pod, c.labels[Labels.container])) {
      removals.push({ c, reason: 'not-desired' });
    } else {
      const list = matching.get(keyOf(c)) ?? [];
      list.push(c);
      matching.set(keyOf(c), list);
    }
  }

  const kept = new Map<string, ManagedContainer>();
  for (const [key, list] of matching) {
    const keep = pickCurrent(list) as ManagedContainer;
    kept.set(key, keep);
    for (const c of list) if (c !== keep) removals.push({ c, reason: 'duplicate' });
  }

  const starts: ContainerStep[] = [];
  const restarts: ContainerStep[] = [];
  const stops: ContainerStep[] = [];
  for (const pod of pods.values()) {
    const seen = new Set<string>();
    // Init containers first, one at a time, to completion (init-order.ts).
    const at = podKey(pod);
    const recordOf = (name: string) => kept.get(podContainerKey(at, name));
    for (const c of sidecarsToStop(pod, recordOf)) {
      const graceSeconds = stopGraceOf(c);
      stops.push({ type: 'stop-container', id: c.id, pod, container: c.labels[Labels.container], reason: 'pod-finished', ...(graceSeconds !== undefined ? { graceSeconds } : {}) });
    }
    for (const container of runnableContainers(pod, recordOf, opts.started)) {
      if (seen.has(container.name)) continue;
      seen.add(container.name);
      const c = kept.get(podContainerKey(at, container.name));
      if (c?.state === 'running') continue;
      if (held(at, container.name)) continue;
      if (!c) {
        starts.push({ type: 'start-container', pod, container });
      } else if (c.state === 'created') {
        restarts.push({ type: 'restart-container', id: c.id, pod, container, reason: 'not-started', restarts: c.restarts ?? 0 });
      } else if (shouldRestart(containerRestartPolicy(pod, container), c.exitCode)) {
        restarts.push({ type: 'restart-container', id: c.id, pod, container, reason: containerRestartPolicy(pod, container) === 'Always' ? 'exited' : 'failed', restarts: (c.restarts ?? 0) + 1 });
      }
    }
  }

  removals.sort((a, b) => compareForRemoval(a.c, b.c));
  const removeSteps = sidecarsLast(removals).map((r): ContainerStep => {
    const graceSeconds = opts.deletionGrace?.(podKeyOf(r.c)) ?? stopGraceOf(r.c);
    return { type: 'remove-container', id: r.c.id, name: r.c.name, app: appOf(r.c), reason: r.reason, ...(graceSeconds !== undefined ? { graceSeconds } : {}) };
  });
  return [...removeSteps, ...stops, ...starts, ...restarts];
}

/**
 * Sidecars outlive their pod's main containers, as in Kubernetes: a sidecar's removal waits
 * (is not planned this round) while a main container of its pod (its podKey and template) still
 * exists; the end of that removal brings another round, which removes the sidecar.
 */
function sidecarsLast(removals: { c: ManagedContainer; reason: RemoveReason }[]): { c: ManagedContainer; reason: RemoveReason }[] {
  const sidecar = (c: ManagedContainer) => c.labels[Labels.sidecar] === 'true';
  if (!removals.some((r) => sidecar(r.c))) return removals;
  const podOf = (c: ManagedContainer) => `${podKeyOf(c)}\0${c.labels[Labels.templateHash]}`;
  const withMains = new Set(removals.filter((r) => !sidecar(r.c) && r.c.state !== 'exited').map((r) => podOf(r.c)));
  return removals.filter((r) => !sidecar(r.c) || !withMains.has(podOf(r.c)));
}
