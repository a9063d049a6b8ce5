/**
 * PURE: the numbers of a rolling update as Kubernetes computes them — maxSurge and
 * maxUnavailable from counts or percentages (surge rounded up, unavailable down for a
 * Deployment; both up for a DaemonSet), never both 0, and ≥ 1 unavailable for pods that publish
 * hostPorts (the new pod cannot take the port while the old one holds it on the same node).
 */
import type { PodSpec } from '../../core/objects/pod.js';

/** A count, or a percentage of `total` rounded up or down (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const exact = (Number(v.replace('%', '')) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export interface RollingNumbers {
  maxSurge: number;
  maxUnavailable: number;
}

export function hasHostPorts(spec: PodSpec): boolean {
  return [...(spec.initContainers ?? []), ...spec.containers].some((c) => c.ports?.some((p) => p.hostPort !== undefined));
}

export function rollingNumbers(
  rolling: { maxSurge?: number | string; maxUnavailable?: number | string } | undefined,
  desired: number,
  opts: { daemonSet: boolean; hostPorts: boolean },
): RollingNumbers {
  let maxSurge = scaledValue(rolling?.maxSurge ?? (opts.daemonSet ? 0 : '25%'), desired, true);
  let maxUnavailable = scaledValue(rolling?.maxUnavailable ?? (opts.daemonSet ? 1 : '25%'), desired, opts.daemonSet);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (opts.hostPorts) {
    maxUnavailable = Math.max(1, maxUnavailable);
    // A DaemonSet's new pod always lands beside the old one: it can never surge onto the port.
    if (opts.daemonSet) maxSurge = 0;
  }
  return { maxSurge, maxUnavailable };
}

export interface ReplicaSetCounts {
  /** spec.replicas. */
  replicas: number;
  /** Ready pods of the set. */
  available: number;
}

/**
 * One sync of a rolling update (Kubernetes' reconcileNewReplicaSet, then reconcileOldReplicaSets):
 * the new set grows while all sets' replicas stay within desired + maxSurge; old sets shrink —
 * their unavailable pods first, they cost nothing — while the available pods stay at or above
 * desired − maxUnavailable. `old` is oldest first. Returns the new replicas of each.
 */
export function rollingStep(desired: number, n: RollingNumbers, current: ReplicaSetCounts, old: readonly ReplicaSetCounts[]): { current: number; old: number[] } {
  let next = current.replicas;
  const oldNext = old.map((o) => o.replicas);
  const total = (): number => next + oldNext.reduce((a, b) => a + b, 0);
  if (next > desired) next = desired;
  else if (next < desired) {
    const room = desired + n.maxSurge - total();
    if (room > 0) next += Math.min(room, desired - next);
  }
  if (oldNext.every((r) => r === 0)) return { current: next, old: oldNext };
  const minAvailable = desired - n.maxUnavailable;
  const newUnavailable = Math.max(0, next - current.available);
  let maxScaledDown = total() - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return { current: next, old: oldNext };
  // Unhealthy old pods first.
  for (let i = 0; i < old.length && maxScaledDown > 0; i++) {
    const unhealthy = Math.max(0, oldNext[i]! - old[i]!.available);
    const cut = Math.min(unhealthy, maxScaledDown);
    oldNext[i]! -= cut;
    maxScaledDown -= cut;
  }
  // Then available old pods, while enough stay available.
  const available = current.available + old.reduce((a, o, i) => a + Math.min(o.available, oldNext[i]!), 0);
  let budget = available - minAvailable;
  for (let i = 0; i < old.length && budget > 0; i++) {
    const cut = Math.min(oldNext[i]!, budget);
    oldNext[i]! -= cut;
    budget -= cut;
  }
  return { current: next, old: oldNext };
}
