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
/** The node target's schema from issue 13 on: Pods with their PodSpec (wire-target.ts). Other messages stay at WIRE_SCHEMA. */
export const TARGET_SCHEMA = 2;

import type { AppDependency, ContainerPort, EnvFromSource, EnvVar, ContainerProbes, Volume, VolumeMount, ContainerResources, CronSpec, ImagePullPolicy, JobSpec, RestartPolicy } from './resolved-pod.js';
import type { UpdatePolicy } from './update-policy.js';
import type { DeviceMapping } from './device-spec.js';
import type { SeccompProfileRef } from './seccomp-ref.js';
/*
 * Statuses, presence and RPC messages are the static types of their schemas
 * (src/core/objects/wire.ts), so what the decoders check and what the code reads cannot drift
 * apart. Type-only: no schema is loaded at run time.
 */
import type {
  CONTAINER_STATES,
  WireContainerStatus,
  WireDeferredUpdate,
  WireJobRunStatus,
  WireJobStatus,
  WireLogsRpcRequest,
  WireNodeFacts,
  WireNodeStatus,
  WireNodeUsage,
  WireNodeVolume,
  WirePodStatus,
  WirePresence,
  WireRpcRequest,
  WireRpcResponse,
  WireVolumesRpcRequest,
  WireExecRpcRequest,
  WirePortForwardRpcRequest,
  WireStreamRpcRequest,
} from './objects/wire.js';

export type { UpdatePolicy, UpdateWindow } from './update-policy.js';

/** Schema 1 carried probes resolved: every timing filled in (src/core/resolved-pod.ts). */
export type { ContainerProbes, Probe, ProbeHandler } from './resolved-pod.js';

/*
 * The schema-1 node target (Grove 0.1's wire): ContainerTarget, PodTarget, NodeTarget. Frozen:
 * no server builds one any more (targets are schema 2, src/core/objects/wire.ts); the agent
 * still decodes one (src/core/wire.ts) from its store or from a 0.1 server, only to convert it
 * once to schema 2 (wire-target-schema1.ts), so an agent upgraded offline keeps its containers.
 * These types, and the hand-written decoders of wire.ts and its wire-*.ts helpers, stay for that
 * alone; nothing else may use them.
 */

/** A schema-1 container: Grove 0.1's own container shape (the PodSpec's Container replaced it). */
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

/** A schema-1 pod (see above). */
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

/** A schema-1 node target: the whole desired state of one node. Revisions only move forward. */
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

/* Statuses, presence and RPC messages: the static types of their schemas. */

export type NodeFacts = WireNodeFacts;
export type ContainerStateName = (typeof CONTAINER_STATES)[number];
export type ContainerStatus = WireContainerStatus;
export type PodPhase = WirePodStatus['phase'];
/** One Job run of a CronJob, as the agent keeps it in its history. */
export type JobRunStatus = WireJobRunStatus;
/** Progress of a Job pod, or of a CronJob pod's runs (then `jobs` and the schedule times are set). */
export type JobStatus = WireJobStatus;
export type PodStatus = WirePodStatus;
export type NodeStatus = WireNodeStatus;
/** What a node and its containers use (metrics.k8s.io), in its status. */
export type NodeUsage = WireNodeUsage;
/** One workload's deferred update on a node (docs/agent.md, update windows and locks). */
export type DeferredUpdate = WireDeferredUpdate;
export type Presence = WirePresence;
export type RpcRequest = WireRpcRequest;
export type LogsRpcRequest = WireLogsRpcRequest;
/** The node's named volumes: list them, or remove one (refused while a container uses it). */
export type VolumesRpcRequest = WireVolumesRpcRequest;
/** Stream sessions (docs/protocol.md): exec and portforward open one, `stream` carries the server's side. */
export type ExecRpcRequest = WireExecRpcRequest;
export type PortForwardRpcRequest = WirePortForwardRpcRequest;
export type StreamRpcRequest = WireStreamRpcRequest;
/** One named volume of a node (`grove volume ls`). */
export type NodeVolume = WireNodeVolume;
export type RpcResponse = WireRpcResponse;
