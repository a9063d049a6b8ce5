/**
 * Messages that travel over MQTT as CBOR. Every payload carries `schema`; receivers validate
 * and size-limit it (src/core/wire.ts) before use. docs/protocol.md is the reference.
 *
 * Topics (cluster = a name chosen at `grove server` first start, default "default"):
 *   grove/v1/<cluster>/nodes/<node>/target     server → agent  retained, QoS 1, NodeTarget
 *   grove/v1/<cluster>/nodes/<node>/status     agent → server  QoS 1, NodeStatus
 *   grove/v1/<cluster>/nodes/<node>/presence   agent (Last Will too), retained, QoS 1, Presence
 *   grove/v1/<cluster>/nodes/<node>/rpc/req    server → agent  QoS 1, RpcRequest
 *   grove/v1/<cluster>/nodes/<node>/rpc/res    agent → server  QoS 1, RpcResponse
 */

export const WIRE_SCHEMA = 1;

import type { AppDependency, ContainerPort, EnvFromSource, EnvVar, ContainerProbes, Volume, VolumeMount, ContainerResources, CronSpec, ImagePullPolicy, JobSpec, RestartPolicy } from './model.js';
import type { UpdatePolicy } from './update-policy.js';
import type { DeviceMapping } from './device-spec.js';
import type { SeccompProfileRef } from './seccomp-ref.js';

export type { UpdatePolicy, UpdateWindow } from './update-policy.js';

/** Probes travel as the model has them: every timing filled in (src/core/model.ts Probe). */
export type { ContainerProbes, Probe, ProbeHandler } from './model.js';

export interface ContainerTarget {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  resources: ContainerResources;
  /**
   * Absent = IfNotPresent. Optional (like every field added after schema 1) so agents and
   * servers of different versions still interoperate: an older agent drops it, an older server
   * never sends it.
   */
  imagePullPolicy?: ImagePullPolicy;
  /** Absent when the container has no probe; an older agent ignores it (and runs no probes). */
  probes?: ContainerProbes;
  /** Only when true: every capability and device (an explicit opt-in of the manifest). */
  privileged?: boolean;
  /** Absent = the runtime's default profile. An older agent ignores it (and runs no profile at all). */
  seccompProfile?: SeccompProfileRef;
  /** Each field below only when the template has it (absent = none). */
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  envFrom?: EnvFromSource[];
}

export interface PodTarget {
  /** Unique in the cluster, e.g. web-5f6c7d-x2k4. */
  name: string;
  app: string;
  templateHash: string;
  restartPolicy: RestartPolicy;
  hostNetwork: boolean;
  /** SIGTERM → SIGKILL delay when the pod's containers are stopped, 0..3600; absent = the agent's default. */
  terminationGracePeriodSeconds?: number;
  /** The app's update window / lock maximum (grove.io/update-* annotations); absent = none. */
  update?: UpdatePolicy;
  containers: ContainerTarget[];
  /** Host devices every container of the pod gets; absent = none. */
  devices?: DeviceMapping[];
  /** Supplementary groups of every container (gids or names in the image's /etc/group). */
  supplementalGroups?: string[];
  /** Run in order, each to completion, before `containers` start; absent = none. */
  initContainers?: ContainerTarget[];
  volumes?: Volume[];
  /** Same-node start order (compose depends_on); absent = none. */
  dependsOn?: AppDependency[];
  /** Job / CronJob pods only: the agent runs the containers to completion (agent/src/agent/jobs). */
  job?: JobSpec;
  /** CronJob pods only: the agent fires runs on this schedule itself, also while offline. */
  cron?: CronSpec;
}

/** The whole desired state of one node. Revisions only move forward. */
export interface NodeTarget {
  schema: typeof WIRE_SCHEMA;
  cluster: string;
  node: string;
  revision: number;
  /** sha256 hex of the canonical CBOR encoding of `pods` (wire.ts computes and checks it). */
  checksum: string;
  pods: PodTarget[];
  issuedAt: string;
}

export interface NodeFacts {
  arch: string;
  os: string;
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  diskFreeBytes: number;
  kernel: string;
  ociRuntime: string;
  cgroupVersion: number;
  agentVersion: string;
  labels: Record<string, string>;
}

export type ContainerStateName = 'waiting' | 'running' | 'exited';

export interface ContainerStatus {
  name: string;
  state: ContainerStateName;
  /** Why it is waiting or exited: ImagePull, ImagePullError, CreateError, Completed, Error, OOMKilled … */
  reason?: string;
  message?: string;
  exitCode?: number;
  oomKilled: boolean;
  restarts: number;
  /**
   * Running and passing its readiness probe (or running, without one). Absent from older
   * agents: then running means ready, as before probes existed.
   */
  ready?: boolean;
  startedAt?: string;
  finishedAt?: string;
  imageDigest?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** One Job run of a CronJob, as the agent keeps it in its history. */
export interface JobRunStatus {
  name: string;
  active: number;
  succeeded: number;
  failed: number;
  startTime: string;
  completionTime?: string;
  condition?: 'Complete' | 'Failed';
}

/** Progress of a Job pod, or of a CronJob pod's runs (then `jobs` and the schedule times are set). */
export interface JobStatus {
  active: number;
  succeeded: number;
  failed: number;
  startTime?: string;
  completionTime?: string;
  /** Set once the Job is finished. */
  condition?: 'Complete' | 'Failed';
  /** Why it failed: BackoffLimitExceeded, DeadlineExceeded. */
  reason?: string;
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  /** CronJob: the runs kept (active and history), oldest first. */
  jobs?: JobRunStatus[];
}

export interface PodStatus {
  name: string;
  app: string;
  templateHash: string;
  phase: PodPhase;
  ready: boolean;
  restarts: number;
  containers: ContainerStatus[];
  /** Pods with init containers only, in their order (absent otherwise and from older agents). */
  initContainers?: ContainerStatus[];
  /** Job and CronJob pods only; absent from older agents. */
  job?: JobStatus;
  /** The pod's address on its node's bridge; absent on the host's network, before its sandbox exists, and from older agents. */
  podIP?: string;
}

export interface NodeStatus {
  schema: typeof WIRE_SCHEMA;
  node: string;
  /**
   * Random per agent process start: the server orders statuses by (runId, seq), so a restarted
   * agent is never judged by its previous run's clock (src/server/status-order.ts). Absent from
   * older agents.
   */
  runId?: string;
  /** Increments with every status the agent sends (heartbeats too) since it started. */
  seq: number;
  /** Revision of the last NodeTarget the agent applied (0 = none). */
  observedRevision: number;
  /** True for a periodic heartbeat that carries no change. */
  heartbeat: boolean;
  facts: NodeFacts;
  pods: PodStatus[];
  /** Apps whose update or stop the agent is holding back (window closed, lock held); absent = none. */
  deferred?: DeferredUpdate[];
  sentAt: string;
}

/** One app's deferred update on a node (docs/agent.md, update windows and locks). */
export interface DeferredUpdate {
  app: string;
  reason: 'update-window' | 'update-lock';
  /** When the agent started holding it back. */
  since: string;
  /** When it goes ahead at the latest (window opens, lock maximum reached); absent = unknown. */
  until?: string;
  /** One line for people, e.g. "waits for window 0 2 * * * (2h)". */
  message: string;
}

export interface Presence {
  schema: typeof WIRE_SCHEMA;
  node: string;
  online: boolean;
  at: string;
}

export type RpcRequest = LogsRpcRequest | VolumesRpcRequest;

export interface LogsRpcRequest {
  schema: typeof WIRE_SCHEMA;
  id: string;
  method: 'logs';
  params: { pod: string; container?: string; tail?: number; follow?: boolean };
}

/** The node's named volumes: list them, or remove one (refused while a container uses it). */
export interface VolumesRpcRequest {
  schema: typeof WIRE_SCHEMA;
  id: string;
  method: 'volumes';
  params: { action: 'ls' | 'rm'; name?: string };
}

/** One named volume of a node (`grove volume ls`). */
export interface NodeVolume {
  name: string;
  createdAt: string;
  /** Containers whose mounts come from it. */
  usedBy: string[];
}

export interface RpcResponse {
  schema: typeof WIRE_SCHEMA;
  id: string;
  /** Chunks of one answer are numbered from 0; the last has done = true. */
  seq: number;
  done: boolean;
  error?: { code: string; message: string };
  lines?: { time: string; stream: 'stdout' | 'stderr'; text: string; container: string }[];
  /** The `volumes` method's answer (ls; empty for rm). */
  volumes?: NodeVolume[];
}
