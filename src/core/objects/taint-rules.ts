/**
 * Kubernetes' rule for when a toleration tolerates a taint, and the taints Grove itself uses. The
 * scheduler keeps pods off nodes with NoSchedule / NoExecute taints they do not tolerate, moves
 * pods off NoExecute ones (after the tolerationSeconds of their tolerations, counted from the
 * taint's timeAdded), and scores nodes with PreferNoSchedule taints lower. Pure; the schemas are
 * in taints.ts.
 */
import type { Taint, Toleration } from './taints.js';

export type { Taint, Toleration };

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** At most this many taints on a node and tolerations on a pod. */
export const MAX_TAINTS = 32;

/** The taint `kubectl cordon` makes the node carry (Kubernetes' node lifecycle controller adds it). */
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

/** Kubernetes' ToleratesTaint: same effect (or any), same key (or any with Exists), value for Equal. */
export function tolerates(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const operator = t.operator ?? 'Equal';
  if (!t.key) return operator === 'Exists';
  if (t.key !== taint.key) return false;
  return operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

/** The taints with `effects` that no toleration tolerates. */
export function untolerated(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[], effects: readonly TaintEffect[]): Taint[] {
  return (taints ?? []).filter((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

/**
 * When a pod that tolerates the node's NoExecute taints must leave, as Kubernetes' taint
 * manager decides: per taint, the smallest tolerationSeconds of the tolerations that tolerate
 * it (none given: it may stay for ever), counted from the taint's timeAdded (ms; a taint not
 * yet stamped counts from nothing: no time is due). Undefined: the pod may stay. Taints no
 * toleration tolerates are untolerated()'s business (the pod leaves at once).
 */
export function tolerationDeadline(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[], addedAt: (taint: Taint) => number | undefined): number | undefined {
  let due: number | undefined;
  for (const taint of taints ?? []) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0 || matching.some((t) => t.tolerationSeconds === undefined)) continue;
    const added = addedAt(taint);
    if (added === undefined) continue;
    const seconds = Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds!)));
    const at = added + seconds * 1000;
    if (due === undefined || at < due) due = at;
  }
  return due;
}

/**
 * What Kubernetes' DaemonSet controller adds to every DaemonSet pod: they run on cordoned,
 * not-ready and pressured nodes (a node's own agents must).
 */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: UNSCHEDULABLE_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' },
];
