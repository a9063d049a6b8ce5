/**
 * Node taints and pod tolerations (core/v1 Taint, Toleration): their schemas. Kubernetes' rule
 * for when a toleration tolerates a taint is in taint-rules.ts, which the server's scheduler and
 * controllers import without these schemas (TypeBox stays out of the daemons).
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, pattern, stringEnum } from './kit.js';
import { LabelKey } from './meta.js';
import { LABEL_VALUE, LABEL_VALUE_MESSAGE } from './names.js';
import { MAX_TAINTS, TAINT_EFFECTS } from './taint-rules.js';

export * from './taint-rules.js';

const taintValue = () => pattern(LABEL_VALUE, LABEL_VALUE_MESSAGE, { maxLength: 63 });

export const Taint = closed({
  key: LabelKey,
  value: Type.Optional(taintValue()),
  effect: stringEnum(TAINT_EFFECTS, { errorMessage: 'expected NoSchedule, PreferNoSchedule or NoExecute' }),
  /** When a NoExecute taint appeared: set by the server (node-taints.ts) when absent. */
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
  /** NoExecute: how long the pod stays after the taint appears (its timeAdded); absent = for ever, <= 0 = not at all. */
  tolerationSeconds: Type.Optional(Type.Integer({ minimum: -(2 ** 53 - 1), maximum: 2 ** 53 - 1 })),
});
export type Toleration = Static<typeof Toleration>;

export const Taints = Type.Array(Taint, { maxItems: MAX_TAINTS });
export const Tolerations = Type.Array(Toleration, { maxItems: MAX_TAINTS });
