/**
 * apps/v1: Deployment → ReplicaSets (one per pod template, labelled pod-template-hash) → Pods;
 * DaemonSet → one Pod per eligible node, its template history kept as ControllerRevisions;
 * StatefulSet → Pods <name>-<ordinal> with claims from volumeClaimTemplates, history as ControllerRevisions.
 * Kubernetes' defaults are schema defaults (replicas 1, strategy RollingUpdate 25%/25%,
 * revisionHistoryLimit 10, progressDeadlineSeconds 600; DaemonSet maxUnavailable 1, maxSurge 0).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { closed, count, dnsLabel, intOrPercent, refTo, stringEnum, unsupported, unsupportedFields } from './kit.js';
import { Annotations, Conditions, Labels, LabelSelector, metaWithShortName, ObjectMeta, typeMeta } from './meta.js';
import { podSpecWith, podTemplateSpec } from './pod.js';
import { PersistentVolumeClaimSpec } from './storage.js';

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

/* ----------------------------------------------------------------- StatefulSet */

/** RollingUpdate (pods replaced in reverse ordinal order, from `partition` up) or OnDelete. */
export const StatefulSetUpdateStrategy = closed(
  {
    type: Type.Optional(stringEnum(['RollingUpdate', 'OnDelete'] as const, { default: 'RollingUpdate', errorMessage: 'must be RollingUpdate or OnDelete' })),
    rollingUpdate: Type.Optional(
      closed({
        /** Ordinals below it keep the current revision (a canary or staged rollout). */
        partition: Type.Optional(Type.Integer({ minimum: 0, maximum: WORKLOAD_LIMITS.replicas, default: 0 })),
        ...unsupportedFields(['maxUnavailable'], 'not supported yet (a beta feature of Kubernetes: pods are replaced one at a time)'),
      }),
    ),
  },
  {
    default: {},
    if: { properties: { type: { const: 'RollingUpdate' } } },
    then: { properties: { rollingUpdate: { default: {} } } },
    else: { properties: { rollingUpdate: { not: {}, errorMessage: 'only with type: RollingUpdate' } } },
  },
);
export type StatefulSetUpdateStrategy = Static<typeof StatefulSetUpdateStrategy>;

/** A claim template: each pod <sts>-<i> gets the claim <name>-<sts>-<i> made from it. */
export const PersistentVolumeClaimTemplate = closed({
  apiVersion: Type.Optional(Type.Literal('v1')),
  kind: Type.Optional(Type.Literal('PersistentVolumeClaim')),
  metadata: closed({
    name: dnsLabel(),
    labels: Type.Optional(refTo(Labels)),
    annotations: Type.Optional(refTo(Annotations)),
  }),
  spec: PersistentVolumeClaimSpec,
  /** Present in `kubectl get -o yaml` dumps; ignored. */
  status: Type.Optional(Type.Object({})),
});
export type PersistentVolumeClaimTemplate = Static<typeof PersistentVolumeClaimTemplate>;

const retain = () =>
  Type.Optional(stringEnum(['Retain'] as const, { default: 'Retain', errorMessage: 'must be Retain: Grove keeps a StatefulSet\'s claims (Delete is not supported yet)' }));

export const StatefulSetSpec = closed({
  replicas: replicas(),
  selector: refTo(LabelSelector),
  template: refTo(AlwaysPodTemplate),
  /** The headless Service that gives each pod its DNS name <pod>.<serviceName>.<ns>.svc. */
  serviceName: Type.Optional(Type.Union([dnsLabel(), Type.Literal('')])),
  podManagementPolicy: Type.Optional(stringEnum(['OrderedReady', 'Parallel'] as const, { default: 'OrderedReady', errorMessage: 'must be OrderedReady or Parallel' })),
  updateStrategy: Type.Optional(StatefulSetUpdateStrategy),
  revisionHistoryLimit: historyLimit(),
  volumeClaimTemplates: Type.Optional(Type.Array(PersistentVolumeClaimTemplate, { maxItems: 16 })),
  persistentVolumeClaimRetentionPolicy: Type.Optional(closed({ whenDeleted: retain(), whenScaled: retain() })),
  ...unsupportedFields(['minReadySeconds', 'ordinals']),
});
export type StatefulSetSpec = Static<typeof StatefulSetSpec>;

export const StatefulSetStatus = closed({
  observedGeneration: Type.Optional(count()),
  replicas: Type.Optional(count()),
  readyReplicas: Type.Optional(count()),
  currentReplicas: Type.Optional(count()),
  updatedReplicas: Type.Optional(count()),
  availableReplicas: Type.Optional(count()),
  currentRevision: Type.Optional(Type.String({ maxLength: 253 })),
  updateRevision: Type.Optional(Type.String({ maxLength: 253 })),
  collisionCount: Type.Optional(count()),
  conditions: Type.Optional(Conditions),
});
export type StatefulSetStatus = Static<typeof StatefulSetStatus>;

export const StatefulSet = workload('StatefulSet', StatefulSetSpec, StatefulSetStatus);
export type StatefulSet = Static<typeof StatefulSet>;

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
