/**
 * Grove's own resource model. Manifests (Kubernetes subset, docker-compose) translate into
 * these; the store holds them; the scheduler turns Apps into per-node pod targets.
 */

import type { DeviceMapping } from './device-spec.js';
import type { SeccompProfileRef } from './seccomp-ref.js';

export type AppKind = 'Deployment' | 'DaemonSet' | 'Job' | 'CronJob';
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface EnvVar {
  name: string;
  /** The literal value; "" when `valueFrom` is set (the agent resolves it at container start). */
  value: string;
  /** k8s env[].valueFrom: one key of a ConfigMap or Secret, read on the node. Absent = literal. */
  valueFrom?: EnvVarSource;
}

/** Exactly one of the two refs. `optional`: a missing object or key leaves the variable unset. */
export type EnvVarSource =
  | { configMapKeyRef: { name: string; key: string; optional?: boolean } }
  | { secretKeyRef: { name: string; key: string; optional?: boolean } };

/** k8s envFrom: every key of a ConfigMap or Secret as a variable (with an optional prefix). */
export type EnvFromSource =
  | { configMapRef: { name: string; optional?: boolean }; prefix?: string }
  | { secretRef: { name: string; optional?: boolean }; prefix?: string };

/** k8s containers[].ports / compose ports. hostPort publishes it on the node (CNI portmap). */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Absent = not published on the node. */
  hostPort?: number;
  /** Host address to bind the published port to; absent = every address. */
  hostIP?: string;
  protocol: 'TCP' | 'UDP';
}

/** k8s volumeMounts / compose volumes (service side). */
export interface VolumeMount {
  /** Names an entry of the pod's `volumes`. */
  name: string;
  mountPath: string;
  readOnly?: boolean;
  /** A path inside the volume mounted instead of its root. */
  subPath?: string;
}

/** One file of a ConfigMap/Secret volume: key → relative path (k8s items). */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/**
 * Kubernetes' hostPath types, with their Kubernetes meaning, plus Grove's own `ComposeBind`
 * (compose binds only; Kubernetes manifests cannot name it): what exists is mounted as it is
 * (file, socket, directory, device) and a missing path is created as a directory, as docker does.
 */
export type HostPathType = 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice' | 'ComposeBind';

/**
 * k8s volumes / compose volumes. `persistentVolumeClaim.claimName` (and a compose named volume)
 * is a named volume kept under the node's data dir across pod restarts, updates and
 * rescheduling on the same node, removed only by an explicit command.
 */
export type Volume = { name: string } & (
  | { emptyDir: { medium?: 'Memory'; sizeLimitBytes?: number } }
  | { hostPath: { path: string; type?: HostPathType } }
  | { persistentVolumeClaim: { claimName: string; readOnly?: boolean } }
  | { configMap: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean } }
  | { secret: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean } }
);

/** compose depends_on: this app's pods on a node start once the named app's pods there are … */
export interface AppDependency {
  app: string;
  condition: 'started' | 'healthy' | 'completed';
}

export interface ContainerResources {
  /** Hard memory limit in bytes (limits.memory / mem_limit). */
  memoryBytes?: number;
  /** CPU limit in cores (limits.cpu / cpus). */
  cpus?: number;
  pidsLimit?: number;
  /** What the scheduler reserves on a node (requests.memory; defaults to the limit). */
  requestMemoryBytes?: number;
  /** requests.cpu / deploy.resources.reservations.cpus, in cores: kept for the scheduler. */
  requestCpus?: number;
}

export interface HttpHeader {
  name: string;
  value: string;
}

/** How a probe checks the container: exactly one handler, as in Kubernetes. */
export type ProbeHandler =
  | { exec: { command: string[] } }
  | { httpGet: { path: string; port: number; host?: string; httpHeaders?: HttpHeader[] } }
  | { tcpSocket: { port: number; host?: string } };

/** A Kubernetes probe with every timing filled in (the manifest's defaults applied). */
export type Probe = ProbeHandler & {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
};

export interface ContainerProbes {
  liveness?: Probe;
  readiness?: Probe;
  startup?: Probe;
}

/** Kubernetes imagePullPolicy (compose pull_policy maps onto it); absent = pull if missing. */
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface ContainerTemplate {
  name: string;
  /** Canonical image reference (parseImageRef + formatImageRef). */
  image: string;
  /** Replaces the image entrypoint (k8s command / compose entrypoint). */
  command?: string[];
  /** Replaces the image cmd (k8s args / compose command). */
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  resources: ContainerResources;
  /** Only set when the manifest says so, so that templates without it hash as before. */
  imagePullPolicy?: ImagePullPolicy;
  /** Only set when the manifest has a probe, so templates without probes hash as before. */
  probes?: ContainerProbes;
  /** securityContext.privileged / compose privileged: an explicit opt-in, shown by describe. */
  privileged?: boolean;
  /**
   * securityContext.seccompProfile (the container's, else the pod's) / compose security_opt.
   * Absent = RuntimeDefault, so templates without it hash as before.
   */
  seccompProfile?: SeccompProfileRef;
  /** Only set when the manifest has them (templates without them hash as before). */
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  envFrom?: EnvFromSource[];
}

export interface PodTemplate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector: Record<string, string>;
  restartPolicy: RestartPolicy;
  hostNetwork: boolean;
  /** SIGTERM-to-SIGKILL delay on stop (k8s terminationGracePeriodSeconds / compose stop_grace_period). */
  terminationGracePeriodSeconds?: number;
  /** Host devices every container of the pod gets (grove.io/devices, compose devices:). */
  devices?: DeviceMapping[];
  /** Supplementary groups, gids or names (securityContext.supplementalGroups, compose group_add). */
  supplementalGroups?: string[];
  /** Run one after another to completion before `containers` start (k8s initContainers). */
  initContainers?: ContainerTemplate[];
  containers: ContainerTemplate[];
  volumes?: Volume[];
  /** compose depends_on: start order between apps on one node. */
  dependsOn?: AppDependency[];
}

/** A count of pods, or a share of the desired count ("25%"), as Kubernetes' IntOrString. */
export type IntOrPercent = number | string;

/**
 * How a new template replaces the old pods. Deployment: RollingUpdate (default 25% / 25%) or
 * Recreate; DaemonSet: RollingUpdate (default maxUnavailable 1, maxSurge 0) or OnDelete.
 */
export interface UpdateStrategy {
  type: 'RollingUpdate' | 'Recreate' | 'OnDelete';
  maxSurge?: IntOrPercent;
  maxUnavailable?: IntOrPercent;
}

/** batch/v1 Job fields Grove implements (docs/manifests.md); defaults filled in at parse. */
export interface JobSpec {
  /** Successful runs needed (default 1). */
  completions: number;
  /** Runs at a time (default 1). */
  parallelism: number;
  /** Failures tolerated before the Job fails (default 6). */
  backoffLimit: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
}

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';

/** batch/v1 CronJob fields Grove implements; each firing runs a Job with `job`'s settings. */
export interface CronSpec {
  /** node-cron syntax: 5 fields, or 6 with seconds first. */
  schedule: string;
  /** IANA name, e.g. Europe/Berlin; absent = the node's local time. */
  timeZone?: string;
  concurrencyPolicy: ConcurrencyPolicy;
  successfulJobsHistoryLimit: number;
  failedJobsHistoryLimit: number;
  suspend: boolean;
}

export interface AppSpec {
  kind: AppKind;
  /** Deployment only; a DaemonSet runs one pod per eligible node. */
  replicas?: number;
  template: PodTemplate;
  /** Absent = the kind's default RollingUpdate. Not part of the template hash. */
  strategy?: UpdateStrategy;
  /** Old revisions kept for `grove rollout undo` (default 10). */
  revisionHistoryLimit?: number;
  /** A rollout that makes no progress for this long has failed (default 600). */
  progressDeadlineSeconds?: number;
  /** Roll back to the last good revision when a rollout fails (default true). */
  autoRollback?: boolean;
  /** Job and CronJob only (a CronJob's jobTemplate.spec); absent otherwise, so hashes stay. */
  job?: JobSpec;
  /** CronJob only. */
  cron?: CronSpec;
}

/** Where a resource came from, for messages and `describe`. */
export interface ResourceSource {
  format: 'kubernetes' | 'compose';
  file?: string;
  /** 1-based index of the YAML document in `file`, to name both places of a duplicate. */
  document?: number;
}

export interface ResourceMeta {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Store revision of the last change (set by the store). */
  revision?: number;
  createdAt?: string;
  updatedAt?: string;
  source?: ResourceSource;
}

export interface App {
  kind: 'App';
  meta: ResourceMeta;
  spec: AppSpec;
  /** Bumped by the server when spec changes (not on label-only or no-op applies). */
  generation?: number;
}

export interface ConfigMap {
  kind: 'ConfigMap';
  meta: ResourceMeta;
  data: Record<string, string>;
  /** k8s immutable: data can no longer change (delete and recreate instead). Absent = false. */
  immutable?: boolean;
}

/** The Kubernetes Secret types Grove accepts (absent = Opaque). */
export const SECRET_TYPES = ['Opaque', 'kubernetes.io/tls', 'kubernetes.io/basic-auth', 'kubernetes.io/dockerconfigjson'] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

export interface Secret {
  kind: 'Secret';
  meta: ResourceMeta;
  /** Decoded values (base64 in manifests). Never logged; sealed at rest (server/sealed-store.ts). */
  data: Record<string, string>;
  /** Only when the manifest names a type other than Opaque. */
  type?: SecretType;
  immutable?: boolean;
}

/** What a manifest file turns into: the input of `apply`. */
export type AppliedResource = App | ConfigMap | Secret;

export interface NodeRecord {
  kind: 'Node';
  meta: ResourceMeta;
  cordoned: boolean;
  /** sha256 of the node's MQTT password; the password itself is only ever sent to the node. */
  credentialHash: string;
  joinedAt: string;
}

/**
 * A pod of an app: placed on a node by the scheduler, or Pending (no node) while none can take
 * it. Stable across server restarts so nothing churns; a Pending pod keeps its name when placed.
 */
export interface PodAssignment {
  kind: 'Pod';
  meta: ResourceMeta;
  app: string;
  /** Absent while the pod is Pending: no node could take it (`unschedulable` says why). */
  node?: string;
  /** Hash of the app's pod template this pod runs; a change means an update. */
  templateHash: string;
  /**
   * Only on a Pending pod: why no node could take it, as Kubernetes' FailedScheduling says it
   * ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector").
   */
  unschedulable?: string;
}

/**
 * One version of an app's pod template, kept so that pods of an older version can still be
 * described to their node during a rollout and so that `grove rollout undo` can go back.
 * Stored under revisions/<app>/<templateHash>; `revision` numbers only grow (an undo gives the
 * revision it returns to the next number, as Kubernetes does).
 */
export interface AppRevision {
  kind: 'AppRevision';
  app: string;
  revision: number;
  templateHash: string;
  template: PodTemplate;
  createdAt: string;
  /** The app's kubernetes.io/change-cause annotation when the revision was made. */
  changeCause?: string;
}

export type RolloutPhase = 'Progressing' | 'Complete' | 'Failed';

/** The state of an app's latest rollout, stored under rollouts/<app>; written only on change. */
export interface RolloutRecord {
  kind: 'Rollout';
  app: string;
  /** The revision being rolled out (or reached). */
  revision: number;
  templateHash: string;
  phase: RolloutPhase;
  startedAt: string;
  /** Last time a pod of the new revision was added, became available, or an old one went. */
  lastProgressAt: string;
  /** Counts the last progress was judged on: "updated/updatedAvailable/total". */
  progressKey: string;
  /** The last revision that completed: where an automatic rollback goes. */
  stableHash?: string;
  message?: string;
  /** The latest automatic rollback, kept until the next one so `rollout status` can tell. */
  lastRollback?: { fromRevision: number; toRevision: number; at: string; reason: string };
}
