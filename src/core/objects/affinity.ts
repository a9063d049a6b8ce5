/**
 * core/v1 Affinity (nodeAffinity, podAffinity, podAntiAffinity) and TopologySpreadConstraint:
 * their schemas. The scheduler evaluates them (src/server/scheduling/affinity.ts, spread.ts);
 * what a schema cannot say (operators' values, minDomains with DoNotSchedule) is in
 * affinity-rules.ts. Topology keys are node labels; kubernetes.io/hostname is the node's name.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NODE_SELECTOR_OPERATORS } from '../label-selector.js';
import { closed, dnsLabel, dnsSubdomain, refTo, stringEnum, unsupportedFields } from './kit.js';
import { LabelKey, LabelSelector, selectorRequirement } from './meta.js';

/** Terms, expressions and constraints per list: far above what real files carry. */
export const MAX_AFFINITY_TERMS = 32;

const weight = () => Type.Integer({ minimum: 1, maximum: 100, errorMessage: 'must be a whole number from 1 to 100' });
const list = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Array(item, { maxItems: MAX_AFFINITY_TERMS });

/** matchFields: Kubernetes allows metadata.name only, with In or NotIn (DaemonSets use it). */
const NodeFieldRequirement = closed({
  key: stringEnum(['metadata.name'], { errorMessage: 'only metadata.name can be matched as a field' }),
  operator: stringEnum(['In', 'NotIn'], { errorMessage: 'expected In or NotIn' }),
  values: Type.Optional(Type.Array(dnsSubdomain(), { maxItems: 256 })),
});

export const NodeSelectorTerm = closed(
  {
    matchExpressions: Type.Optional(list(selectorRequirement(NODE_SELECTOR_OPERATORS))),
    matchFields: Type.Optional(list(NodeFieldRequirement)),
  },
  { $id: 'NodeSelectorTerm' },
);
export type NodeSelectorTerm = Static<typeof NodeSelectorTerm>;

export const NodeAffinity = closed({
  /** The terms are ORed, the expressions of a term ANDed. */
  requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(closed({ nodeSelectorTerms: Type.Array(refTo(NodeSelectorTerm), { minItems: 1, maxItems: MAX_AFFINITY_TERMS }) })),
  preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(list(closed({ weight: weight(), preference: refTo(NodeSelectorTerm) }))),
});

export const PodAffinityTerm = closed(
  {
    /** Absent selects no pod; {} every pod of the term's namespaces. */
    labelSelector: Type.Optional(refTo(LabelSelector)),
    /** With namespaceSelector absent and this empty: the pod's own namespace. */
    namespaces: Type.Optional(Type.Array(dnsLabel(), { maxItems: 64 })),
    /** {} selects every namespace. */
    namespaceSelector: Type.Optional(refTo(LabelSelector)),
    /** A node label: nodes with the same value are one domain (kubernetes.io/hostname: each node alone). */
    topologyKey: LabelKey,
    ...unsupportedFields(['matchLabelKeys', 'mismatchLabelKeys']),
  },
  { $id: 'PodAffinityTerm' },
);
export type PodAffinityTerm = Static<typeof PodAffinityTerm>;

const PodAffinity = closed({
  requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(list(refTo(PodAffinityTerm))),
  preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(list(closed({ weight: weight(), podAffinityTerm: refTo(PodAffinityTerm) }))),
});

export const Affinity = closed({
  nodeAffinity: Type.Optional(NodeAffinity),
  podAffinity: Type.Optional(PodAffinity),
  podAntiAffinity: Type.Optional(PodAffinity),
});
export type Affinity = Static<typeof Affinity>;

const POLICIES = ['Honor', 'Ignore'] as const;

export const TopologySpreadConstraint = closed({
  maxSkew: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
  topologyKey: LabelKey,
  whenUnsatisfiable: stringEnum(['DoNotSchedule', 'ScheduleAnyway'], { errorMessage: 'expected DoNotSchedule or ScheduleAnyway' }),
  labelSelector: Type.Optional(refTo(LabelSelector)),
  /** DoNotSchedule only: fewer domains than this count as having a domain with 0 pods. */
  minDomains: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
  /** Honor (default): only nodes that match the pod's nodeSelector and node affinity count. */
  nodeAffinityPolicy: Type.Optional(stringEnum(POLICIES, { errorMessage: 'expected Honor or Ignore' })),
  /** Ignore (default): tainted nodes count too. */
  nodeTaintsPolicy: Type.Optional(stringEnum(POLICIES, { errorMessage: 'expected Honor or Ignore' })),
  /** The pod's values of these labels are added to labelSelector (pods of one revision spread). */
  matchLabelKeys: Type.Optional(Type.Array(LabelKey, { maxItems: MAX_AFFINITY_TERMS })),
});
export type TopologySpreadConstraint = Static<typeof TopologySpreadConstraint>;

export const TopologySpreadConstraints = list(TopologySpreadConstraint);
