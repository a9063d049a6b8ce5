/**
 * A pod's fields resolved to what a node works with: sizes in bytes, CPU in cores, every probe
 * timing and Job/CronJob default filled in, env values with their sources. Not a resource model
 * (the objects are src/core/objects; a container is the PodSpec's Container, one type): these
 * are the values derived from a PodSpec where they are used —
 * - the agent reads a pod target's PodSpec in these terms (agent/src/agent/plan/pod-fields.ts);
 * - the schema-1 node target (0.1's wire, src/core/wire-types.ts), which carried these resolved
 *   values, is decoded into them (src/core/wire.ts) before its conversion to schema 2;
 * - the compose readers (src/core/manifests/compose-*.ts) build them from a service before
 *   compose-objects.ts writes the PodSpec fields.
 */
import type { ResourceField } from './downward-api.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface EnvVar {
  name: string;
  /** The literal value; "" when `valueFrom` is set (the agent resolves it at container start). */
  value: string;
  /** k8s env[].valueFrom: one key of a ConfigMap or Secret, read on the node. Absent = literal. */
  valueFrom?: EnvVarSource;
}

/**
 * Exactly one source. `optional`: a missing object or key leaves the variable unset. fieldRef
 * and resourceFieldRef are the downward API (src/core/downward-api.ts), resolved on the node
 * when the container is created.
 */
export type EnvVarSource =
  | { configMapKeyRef: { name: string; key: string; optional?: boolean } }
  | { secretKeyRef: { name: string; key: string; optional?: boolean } }
  | { fieldRef: { fieldPath: string } }
  | { resourceFieldRef: ResourceFieldRef };

/** A container's limit or request; containerName absent = the container whose env it is. */
export interface ResourceFieldRef {
  containerName?: string;
  resource: ResourceField;
  divisor?: string | number;
}

/** One file of a downwardAPI volume or projection. */
export interface DownwardFile {
  path: string;
  mode?: number;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: ResourceFieldRef;
}

/** One source of a projected volume. */
export type ProjectedSource =
  | { configMap: { name: string; items?: KeyToPath[]; optional?: boolean } }
  | { secret: { name: string; items?: KeyToPath[]; optional?: boolean } }
  | { downwardAPI: { items: DownwardFile[] } };

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
  | { downwardAPI: { items: DownwardFile[]; defaultMode?: number } }
  | { projected: { sources: ProjectedSource[]; defaultMode?: number } }
);

/** compose depends_on: this app's pods on a node start once the named app's pods there are … */
export interface AppDependency {
  app: string;
  condition: 'started' | 'healthy' | 'completed';
}

/** A container's limits and requests in numbers (the schema-1 target, compose's mem_limit/cpus/pids_limit). */
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
  | { httpGet: { path: string; port: number; host?: string; scheme?: 'HTTPS'; httpHeaders?: HttpHeader[] } }
  | { tcpSocket: { port: number; host?: string } }
  /** grpc.health.v1 Health/Check; `service` absent = the server as a whole (""). */
  | { grpc: { port: number; service?: string } };

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

/** imagePullPolicy as the schema-1 target carried it; absent = pull if missing. */
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** batch/v1 Job fields Grove implements (docs/manifests.md), Kubernetes' defaults filled in. */
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

/** batch/v1 CronJob fields Grove implements, defaults filled in; each firing runs a Job with the pod's Job settings. */
export interface CronSpec {
  /** node-cron syntax: 5 fields, or 6 with seconds first. */
  schedule: string;
  /** IANA name, e.g. Europe/Berlin; absent = the node's local time. */
  timeZone?: string;
  concurrencyPolicy: ConcurrencyPolicy;
  successfulJobsHistoryLimit: number;
  failedJobsHistoryLimit: number;
  suspend: boolean;
  /** A missed firing still starts within this many seconds of its time; absent: missed ones are skipped. */
  startingDeadlineSeconds?: number;
}
