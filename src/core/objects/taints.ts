/**
 * Node taints and pod tolerations (core/v1 Taint, Toleration) and Kubernetes' rule for when a
 * toleration tolerates a taint. The scheduler keeps pods off nodes with NoSchedule / NoExecute
 * taints they do not tolerate, and moves pods off NoExecute ones; PreferNoSchedule is accepted and
 * has no effect (Grove's scheduler has no scoring). Pure.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, pattern, stringEnum } from './kit.js';
import { LabelKey } from './meta.js';
import { LABEL_VALUE, LABEL_VALUE_MESSAGE } from './names.js';

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** At most this many taints on a node and tolerations on a pod. */
export const MAX_TAINTS = 32;

const taintValue = () => pattern(LABEL_VALUE, LABEL_VALUE_MESSAGE, { maxLength: 63 });

export const Taint = closed({
  key: LabelKey,
  value: Type.Optional(taintValue()),
  effect: stringEnum(TAINT_EFFECTS, { errorMessage: 'expected NoSchedule, PreferNoSchedule or NoExecute' }),
  timeAdded: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
});
export type Taint = Static<typeof Taint>;

export const Toleration = closed({
  /** Empty with operator Exists: every key. */
  key: Type.Optional(Type.Union([LabelKey, Type.Literal('')])),
  operator: Type.Optional(stringEnum(['Exists', 'Equal'], { errorMessage: 'expected Exists or Equal' })),
  value: Type.Optional(taintValue()),
  /** Empty: every effect. */
  effect: Type.Optional(stringEnum(['', ...TAINT_EFFECTS], { errorMessage: 'expected NoSchedule, PreferNoSchedule or NoExecute' })),
  /** NoExecute only in Kubernetes: how long the pod stays after the taint appears. Grove moves it at once. */
  tolerationSeconds: Type.Optional(Type.Integer({ minimum: -(2 ** 53 - 1), maximum: 2 ** 53 - 1 })),
});
export type Toleration = Static<typeof Toleration>;

export const Taints = Type.Array(Taint, { maxItems: MAX_TAINTS });
export const Tolerations = Type.Array(Toleration, { maxItems: MAX_TAINTS });

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
