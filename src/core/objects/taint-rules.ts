/**
 * Kubernetes' rule for when a toleration tolerates a taint, and the taints Grove itself uses. The
 * scheduler keeps pods off nodes with NoSchedule / NoExecute taints they do not tolerate, and
 * moves pods off NoExecute ones; PreferNoSchedule is accepted and has no effect (Grove's
 * scheduler has no scoring). Pure; the schemas are in taints.ts.
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
