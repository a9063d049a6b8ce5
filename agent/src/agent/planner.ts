/**
 * The planner: a PURE function from (what runs, what should run) to the steps that close the
 * gap. No I/O, no clock: the executor performs the steps, the reconciler decides when to plan.
 *
 * Step order is fixed and documented (docs/agent.md): removals, then starts, then restarts.
 * Removing first frees `<pod>_<container>` names (a template change of a pod that keeps its
 * name needs that) and memory on small boards, at the cost of a short gap during updates.
 */
import type { ContainerTarget, PodTarget } from '../../../src/core/wire-types.js';
import { Labels, keyOf, podContainerKey, type ManagedContainer } from './node-runtime.js';
import { allContainersOf, runnableContainers } from './init-order.js';

export type RemoveReason = 'not-desired' | 'template-changed' | 'duplicate';
/** exited: policy Always; failed: policy OnFailure and a non-zero (or unknown) exit; not-started: left half-created. */
export type RestartReason = 'exited' | 'failed' | 'not-started';

export type Step =
  | { type: 'start'; pod: PodTarget; container: ContainerTarget }
  /** graceSeconds: the pod's terminationGracePeriodSeconds; absent = the executor's default. */
  | { type: 'remove'; id: string; reason: RemoveReason; graceSeconds?: number }
  | { type: 'restart'; id: string; pod: PodTarget; container: ContainerTarget; reason: RestartReason };

export interface PlanOptions {
  /**
   * Pod containers ("pod/container") whose (re)start is held back, e.g. by the executor's
   * failure backoff: no start or restart step is planned for them this round.
   */
  held?: (key: string) => boolean;
}

/**
 * Records the pod's terminationGracePeriodSeconds on each container the agent creates. Removals
 * mostly concern pods that have left the target (app deleted, rolling update to new pod names),
 * so the target cannot say how long they may take to stop; the container itself can, also after
 * an agent restart. Both runtimes add these labels next to managedLabels().
 */
export const STOP_GRACE_LABEL = 'grove.stop-grace-seconds';
const MAX_GRACE_SECONDS = 3600;

export function stopGraceLabels(pod: PodTarget): Record<string, string> {
  const g = pod.terminationGracePeriodSeconds;
  return g === undefined ? {} : { [STOP_GRACE_LABEL]: String(g) };
}

/**
 * The grace recorded on a container, or undefined (none, or not a valid 0..3600 integer: labels
 * can be set by hand with `grove ctr run`, and a bad one must not stall a removal for hours).
 */
export function stopGraceOf(c: ManagedContainer): number | undefined {
  const raw = c.labels[STOP_GRACE_LABEL];
  if (raw === undefined || !/^\d{1,4}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= MAX_GRACE_SECONDS ? n : undefined;
}

const STATE_RANK: Record<ManagedContainer['state'], number> = { running: 0, created: 1, exited: 2 };

/**
 * Of several containers for one pod container (a crash between start and remove can leave
 * two), the one that counts: running before created before exited, then the newest.
 */
export function pickCurrent(candidates: ManagedContainer[]): ManagedContainer | undefined {
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
    a.labels[Labels.pod].localeCompare(b.labels[Labels.pod]) ||
    a.labels[Labels.container].localeCompare(b.labels[Labels.container]) ||
    a.createdAt.localeCompare(b.createdAt) ||
    a.id.localeCompare(b.id)
  );
}

/** Whether an exited container is restarted under its pod's policy. */
export function shouldRestart(policy: PodTarget['restartPolicy'], exitCode: number | null): boolean {
  if (policy === 'Always') return true;
  // An unknown exit code (shim lost, host rebooted) counts as a failure: we cannot prove success.
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** Desired pods by name; a repeated pod name (a server bug) keeps its first occurrence. */
export function indexTarget(target: PodTarget[]): Map<string, PodTarget> {
  const pods = new Map<string, PodTarget>();
  for (const pod of target) if (!pods.has(pod.name)) pods.set(pod.name, pod);
  return pods;
}

function desiredContainer(pod: PodTarget, name: string): ContainerTarget | undefined {
  return allContainersOf(pod).find((c) => c.name === name);
}

export function plan(current: ManagedContainer[], target: PodTarget[], opts: PlanOptions = {}): Step[] {
  const held = opts.held ?? (() => false);
  const pods = indexTarget(target);
  const removals: { c: ManagedContainer; reason: RemoveReason }[] = [];
  const matching = new Map<string, ManagedContainer[]>();

  for (const c of current) {
    const pod = pods.get(c.labels[Labels.pod]);
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

  const starts: Step[] = [];
  const restarts: Step[] = [];
  for (const pod of pods.values()) {
    const seen = new Set<string>();
    // Init containers first, one at a time, to completion (init-order.ts).
    for (const container of runnableContainers(pod, (name) => kept.get(podContainerKey(pod.name, name)))) {
      if (seen.has(container.name)) continue;
      seen.add(container.name);
      const key = podContainerKey(pod.name, container.name);
      const c = kept.get(key);
      if (c?.state === 'running') continue;
      if (held(key)) continue;
      if (!c) {
        starts.push({ type: 'start', pod, container });
      } else if (c.state === 'created') {
        restarts.push({ type: 'restart', id: c.id, pod, container, reason: 'not-started' });
      } else if (shouldRestart(pod.restartPolicy, c.exitCode)) {
        restarts.push({ type: 'restart', id: c.id, pod, container, reason: pod.restartPolicy === 'Always' ? 'exited' : 'failed' });
      }
    }
  }

  removals.sort((a, b) => compareForRemoval(a.c, b.c));
  const removeSteps = removals.map((r): Step => {
    const graceSeconds = stopGraceOf(r.c);
    return { type: 'remove', id: r.c.id, reason: r.reason, ...(graceSeconds !== undefined ? { graceSeconds } : {}) };
  });
  return [...removeSteps, ...starts, ...restarts];
}
