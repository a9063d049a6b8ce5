/**
 * apps/v1: Deployment → ReplicaSets (one per pod template, labelled pod-template-hash) → Pods;
 * DaemonSet → one Pod per eligible node, its template history kept as ControllerRevisions.
 * Kubernetes' defaults are schema defaults (replicas 1, strategy RollingUpdate 25%/25%,
 * revisionHistoryLimit 10, progressDeadlineSeconds 600; DaemonSet maxUnavailable 1, maxSurge 0).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { closed, count, intOrPercent, refTo, stringEnum, unsupported, unsupportedFields } from './kit.js';
import { Conditions, LabelSelector, metaWithShortName, ObjectMeta, typeMeta } from './meta.js';
import { podSpecWith, podTemplateSpec } from './pod.js';

export const WORKLOAD_LIMITS = Object.freeze({ replicas: 1000, revisionHistoryLimit: 100, progressDeadlineSeconds: 7 * 24 * 3600 });

/** Pod names derive from workload names, so workloads keep to 63 characters as pods must. */
export const WorkloadMeta = metaWithShortName(63);

/** Deployment, ReplicaSet and DaemonSet pods always restart (as in Kubernetes). */
export const AlwaysPodTemplate = podTemplateSpec(
  podSpecWith(Type.Literal('Always', { errorMessage: 'must be Always: Deployment, ReplicaSet and DaemonSet pods always restart (as in Kubernetes)' })),
  { $id: 'AlwaysPodTemplate' },
);

const replicas = () => Type.Optional(Type.Integer({ minimum: 0, maximum: WORKLOAD_LIMITS.replicas, default: 1 }));
const historyLimit = () => Type.Optional(Type.Integer({ minimum: 0, maximum: WORKLOAD_LIMITS.revisionHistoryLimit, default: 10 }));

/**
 * An update strategy of `types`; with RollingUpdate (the default) the rollingUpdate parameters
 * get `defaults`, with any other type they are refused (Kubernetes' rule).
 */
function strategy<const T extends readonly string[]>(types: T, defaults: { maxSurge: number | string; maxUnavailable: number | string }) {
  const rolling = closed({
    maxSurge: Type.Optional(intOrPercent({ default: defaults.maxSurge })),
    maxUnavailable: Type.Optional(intOrPercent({ default: defaults.maxUnavailable })),
  });
  return closed(
    {
      type: Type.Optional(stringEnum(types, { default: 'RollingUpdate', errorMessage: `must be ${types.join(' or ')}` })),
      rollingUpdate: Type.Optional(rolling),
    },
    {
      default: {},
      if: { properties: { type: { const: 'RollingUpdate' } } },
      then: { properties: { rollingUpdate: { default: {} } } },
      else: { properties: { rollingUpdate: { not: {}, errorMessage: 'only with type: RollingUpdate' } } },
    },
  );
}

export const DeploymentStrategy = strategy(['RollingUpdate', 'Recreate'] as const, { maxSurge: '25%', maxUnavailable: '25%' });
export type DeploymentStrategy = Static<typeof DeploymentStrategy>;

export const DaemonSetUpdateStrategy = strategy(['RollingUpdate', 'OnDelete'] as const, { maxSurge: 0, maxUnavailable: 1 });
export type DaemonSetUpdateStrategy = Static<typeof DaemonSetUpdateStrategy>;

export const DeploymentSpec = closed({
  replicas: replicas(),
  selector: refTo(LabelSelector),
  template: refTo(AlwaysPodTemplate),
  strategy: Type.Optional(DeploymentStrategy),
  revisionHistoryLimit: historyLimit(),
  /** A rollout that makes no progress this long fails (Progressing=False, ProgressDeadlineExceeded). */
  progressDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKLOAD_LIMITS.progressDeadlineSeconds, default: 600 })),
  ...unsupportedFields(['minReadySeconds', 'paused']),
});
export type DeploymentSpec = Static<typeof DeploymentSpec>;

export const DeploymentStatus = closed({
  observedGeneration: Type.Optional(count()),
  replicas: Type.Optional(count()),
  updatedReplicas: Type.Optional(count()),
  readyReplicas: Type.Optional(count()),
  availableReplicas: Type.Optional(count()),
  unavailableReplicas: Type.Optional(count()),
  terminatingReplicas: Type.Optional(count()),
  /** Available, Progressing (reason ProgressDeadlineExceeded when a rollout failed), ReplicaFailure. */
  conditions: Type.Optional(Conditions),
  collisionCount: Type.Optional(count()),
});
export type DeploymentStatus = Static<typeof DeploymentStatus>;

function workload<K extends string, S extends TSchema, T extends TSchema>(kind: K, spec: S, status: T) {
  return closed({ ...typeMeta('apps/v1', kind), metadata: WorkloadMeta, spec, status: Type.Optional(status) }, { $id: kind });
}

export const Deployment = workload('Deployment', DeploymentSpec, DeploymentStatus);
export type Deployment = Static<typeof Deployment>;

export const ReplicaSetSpec = closed({
  replicas: replicas(),
  selector: refTo(LabelSelector),
  template: refTo(AlwaysPodTemplate),
  ...unsupportedFields(['minReadySeconds']),
});
export type ReplicaSetSpec = Static<typeof ReplicaSetSpec>;

export const ReplicaSetStatus = closed({
  replicas: Type.Optional(count()),
  fullyLabeledReplicas: Type.Optional(count()),
  readyReplicas: Type.Optional(count()),
  availableReplicas: Type.Optional(count()),
  terminatingReplicas: Type.Optional(count()),
  observedGeneration: Type.Optional(count()),
  conditions: Type.Optional(Conditions),
});
export type ReplicaSetStatus = Static<typeof ReplicaSetStatus>;

/** A ReplicaSet's name is its Deployment's plus "-<pod-template-hash>": longer than 63 is allowed, as in Kubernetes. */
export const ReplicaSet = closed(
  { ...typeMeta('apps/v1', 'ReplicaSet'), metadata: refTo(ObjectMeta), spec: ReplicaSetSpec, status: Type.Optional(ReplicaSetStatus) },
  { $id: 'ReplicaSet' },
);
export type ReplicaSet = Static<typeof ReplicaSet>;

export const DaemonSetSpec = closed({
  selector: refTo(LabelSelector),
  template: refTo(AlwaysPodTemplate),
  updateStrategy: Type.Optional(DaemonSetUpdateStrategy),
  revisionHistoryLimit: historyLimit(),
  ...unsupportedFields(['minReadySeconds']),
});
export type DaemonSetSpec = Static<typeof DaemonSetSpec>;

export const DaemonSetStatus = closed({
  currentNumberScheduled: Type.Optional(count()),
  numberMisscheduled: Type.Optional(count()),
  desiredNumberScheduled: Type.Optional(count()),
  numberReady: Type.Optional(count()),
  observedGeneration: Type.Optional(count()),
  updatedNumberScheduled: Type.Optional(count()),
  numberAvailable: Type.Optional(count()),
  numberUnavailable: Type.Optional(count()),
  collisionCount: Type.Optional(count()),
  conditions: Type.Optional(Conditions),
});
export type DaemonSetStatus = Static<typeof DaemonSetStatus>;

export const DaemonSet = workload('DaemonSet', DaemonSetSpec, DaemonSetStatus);
export type DaemonSet = Static<typeof DaemonSet>;

/**
 * One version of a DaemonSet's pod template (Kubernetes keeps DaemonSet history this way):
 * named <daemonset>-<controller-revision-hash>, `revision` only grows. `data` holds the
 * template as Kubernetes' patch form does: {spec: {template}}.
 */
export const ControllerRevision = closed(
  {
    ...typeMeta('apps/v1', 'ControllerRevision'),
    metadata: refTo(ObjectMeta),
    data: Type.Optional(closed({ spec: closed({ template: refTo(AlwaysPodTemplate) }) })),
    revision: count(),
    status: Type.Optional(unsupported('ControllerRevisions have no status')),
  },
  { $id: 'ControllerRevision' },
);
export type ControllerRevision = Static<typeof ControllerRevision>;
