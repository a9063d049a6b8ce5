/**
 * The sync protocol's messages as schemas (docs/protocol.md): the generated validators decode
 * them, and their TypeScript types are these schemas' static types.
 *
 * - NodeTarget, schema 2: a node's bound Pods, each `{name, namespace, uid, templateHash,
 *   labels?, annotations?, owner?, spec, job?, cron?}` where `spec` is the Pod object's PodSpec
 *   (the same schema and type, after defaulting) — nothing is copied field by field.
 * - NodeStatus, Presence, RpcRequest, RpcResponse and the config message keep schema 1: their
 *   shapes only grew optional fields, which older peers drop (every object of these messages
 *   is open on the wire: unknown fields are removed, not refused).
 *
 * Limits are today's hand-written decoders' (src/core/wire-limits.ts), so nothing that was
 * accepted is refused and nothing larger gets through.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CONFIG_KEY, CONFIG_KEY_MESSAGE, closed, dnsLabel, dnsSubdomain, IPV4, pattern, refTo, stringEnum, stringMap } from './kit.js';
import { Annotations, Labels } from './meta.js';
import { MAX_GRACE_SECONDS, PodSpec } from './pod.js';
import { CronSettings, JobSettings } from './batch.js';
import { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECTS, STREAM_LIMITS, WIRE_LIMITS } from '../wire-limits.js';
import { TARGET_SCHEMA, WIRE_SCHEMA } from '../wire-types.js';

/**
 * The target's schema is 2 (it carries PodSpecs; an agent speaking 1 refuses it and keeps its
 * last target); every other message stays at 1 (WIRE_SCHEMA), having only grown optional fields.
 */
export { TARGET_SCHEMA };
const MESSAGE_SCHEMA = WIRE_SCHEMA;

const L = WIRE_LIMITS;

/** Cluster and node names go into MQTT topics: a DNS label (src/core/topics.ts). */
const nodeName = () => pattern('^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', "invalid name: use 1-63 lowercase letters, digits and '-'", { maxLength: 63 });
/** What Date.parse reads of ISO 8601, as agents have always sent it (toISOString, the shim's clock). */
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?)?(?:Z|[+-]\\d{2}:?\\d{2})?$';
const time = () => pattern(ISO_TIME, 'expected an ISO 8601 timestamp', { minLength: 1, maxLength: L.timestamp });
const text = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max });
const int = (minimum = 0, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum, maximum });

/* ----------------------------------------------------------------- node target */

/** The workload a pod belongs to (what `grove get pods` and deferred updates name). */
export const WirePodOwner = closed({ kind: text(63, 1), name: dnsSubdomain(), uid: text(128, 1) });
export type WirePodOwner = Static<typeof WirePodOwner>;

export const WirePodTarget = closed(
  {
    name: dnsSubdomain(),
    namespace: dnsLabel(),
    uid: text(128, 1),
    /** pod-template-hash / controller-revision-hash label, or the spec's hash for a bare pod: part of the containers' identity. */
    templateHash: text(L.shortString, 1),
    labels: Type.Optional(refTo(Labels)),
    /** The grove.io/ annotations the agent reads (the pod's, its owner's merged in by the server). */
    annotations: Type.Optional(refTo(Annotations)),
    owner: Type.Optional(WirePodOwner),
    spec: refTo(PodSpec),
    /** Job and CronJob pods: the agent runs the containers to completion with these counts. */
    job: Type.Optional(JobSettings),
    /** CronJob pods: the agent fires runs on this schedule itself, also while offline. */
    cron: Type.Optional(CronSettings),
    /**
     * The pod was deleted with this grace period (kubectl delete --grace-period, an eviction's):
     * the agent stops its containers (SIGTERM, SIGKILL after this many seconds) and starts none.
     */
    deletionGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS })),
  },
  { $id: 'WirePodTarget' },
);
export type WirePodTarget = Static<typeof WirePodTarget>;

export const WireNodeTarget = closed(
  {
    schema: Type.Literal(TARGET_SCHEMA),
    cluster: nodeName(),
    node: nodeName(),
    revision: int(),
    /** sha256 hex of the canonical CBOR of `pods` as sent (checked by the decoder). */
    checksum: pattern('^[0-9a-f]{64}$', 'expected 64 lowercase hex digits'),
    pods: Type.Array(refTo(WirePodTarget), { maxItems: L.pods }),
    issuedAt: time(),
    /**
     * True from servers that publish the cluster network view (issue 15): the agent starts pods
     * only once it has the view (their addresses come from the node's pod CIDR). Absent (an
     * older server): no view will come, pods start on the node's own subnet as before.
     */
    networkView: Type.Optional(Type.Boolean()),
  },
  { $id: 'WireNodeTarget' },
);
export type WireNodeTarget = Static<typeof WireNodeTarget>;

/* ----------------------------------------------------------------- node status */

export const WireNodeFacts = closed(
  {
    arch: text(L.shortString),
    os: text(L.shortString),
    cpus: int(),
    memoryBytes: int(),
    memoryAvailableBytes: int(),
    diskFreeBytes: int(),
    kernel: text(L.shortString),
    ociRuntime: text(L.shortString),
    cgroupVersion: int(),
    agentVersion: text(L.shortString),
    labels: stringMap(text(L.labelValue), { keys: text(L.labelKey, 1), maxProperties: L.labels }),
    /** The node's addresses (Node status.addresses); absent from older agents. */
    addresses: Type.Optional(
      Type.Array(closed({ type: stringEnum(['InternalIP', 'ExternalIP', 'Hostname']), address: text(253, 1) }), { maxItems: 16 }),
    ),
    /** /etc/os-release PRETTY_NAME (Node status.nodeInfo.osImage); absent from older agents. */
    osImage: Type.Optional(text(L.shortString)),
    /** Size of the data directory's filesystem (ephemeral-storage capacity; DiskPressure); absent from older agents. */
    diskTotalBytes: Type.Optional(int()),
    /** Processes and threads running, and the kernel's pid_max (PIDPressure); absent when unknown. */
    processes: Type.Optional(int()),
    processesMax: Type.Optional(int()),
  },
  { $id: 'WireNodeFacts' },
);
export type WireNodeFacts = Static<typeof WireNodeFacts>;

export const CONTAINER_STATES = ['waiting', 'running', 'exited'] as const;

/** The previous run's end (Kubernetes' lastState.terminated); absent from older agents. */
export const WireLastState = closed({
  exitCode: int(-(2 ** 31)),
  reason: Type.Optional(text(L.shortString, 1)),
  message: Type.Optional(text(L.message)),
  startedAt: Type.Optional(time()),
  finishedAt: Type.Optional(time()),
});

export const WireContainerStatus = closed(
  {
    name: text(L.name, 1),
    state: stringEnum(CONTAINER_STATES),
    /** Why it is waiting or exited: ImagePull, ImagePullError, CreateError, Completed, Error, OOMKilled … */
    reason: Type.Optional(text(L.shortString, 1)),
    message: Type.Optional(text(L.message)),
    exitCode: Type.Optional(int(-(2 ** 31))),
    oomKilled: Type.Boolean(),
    restarts: int(),
    /** Running and passing its readiness probe (or running, without one). Absent from older agents: running means ready. */
    ready: Type.Optional(Type.Boolean()),
    startedAt: Type.Optional(time()),
    finishedAt: Type.Optional(time()),
    imageDigest: Type.Optional(text(L.shortString, 1)),
    /** The runtime's container id; absent from older agents. */
    containerID: Type.Optional(text(L.shortString, 1)),
    lastState: Type.Optional(WireLastState),
  },
  { $id: 'WireContainerStatus' },
);
export type WireContainerStatus = Static<typeof WireContainerStatus>;

const JOB_RUNS = 300;
const jobCounts = { active: int(0, JOB_RUNS), succeeded: int(), failed: int() };
const jobCondition = () => Type.Optional(stringEnum(['Complete', 'Failed']));
const jobTime = () => pattern(ISO_TIME, 'expected an ISO 8601 timestamp', { minLength: 1, maxLength: 64 });

/** One Job run of a CronJob, as the agent keeps it in its history. */
export const WireJobRunStatus = closed({
  name: text(253, 1),
  ...jobCounts,
  startTime: jobTime(),
  completionTime: Type.Optional(jobTime()),
  condition: jobCondition(),
});
export type WireJobRunStatus = Static<typeof WireJobRunStatus>;

/** Progress of a Job pod, or of a CronJob pod's runs (then `jobs` and the schedule times are set). */
export const WireJobStatus = closed(
  {
    ...jobCounts,
    startTime: Type.Optional(jobTime()),
    completionTime: Type.Optional(jobTime()),
    /** Set once the Job is finished. */
    condition: jobCondition(),
    /** Why it failed: BackoffLimitExceeded, DeadlineExceeded. */
    reason: Type.Optional(text(64, 1)),
    lastScheduleTime: Type.Optional(jobTime()),
    lastSuccessfulTime: Type.Optional(jobTime()),
    /** CronJob: the runs kept (active and history), oldest first. */
    jobs: Type.Optional(Type.Array(WireJobRunStatus, { maxItems: JOB_RUNS })),
  },
  { $id: 'WireJobStatus' },
);
export type WireJobStatus = Static<typeof WireJobStatus>;


export const WirePodStatus = closed(
  {
    name: text(L.name, 1),
    /** The pod's namespace (schema-2 targets); absent from older agents = "default". */
    namespace: Type.Optional(dnsLabel()),
    /** The Pod object's uid (schema-2 targets); absent from older agents. */
    uid: Type.Optional(text(128, 1)),
    app: text(L.name, 1),
    templateHash: text(L.shortString, 1),
    phase: stringEnum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
    ready: Type.Boolean(),
    restarts: int(),
    containers: Type.Array(refTo(WireContainerStatus), { maxItems: L.containersPerPod }),
    /** Pods with init containers only, in their order (absent otherwise and from older agents). */
    initContainers: Type.Optional(Type.Array(refTo(WireContainerStatus), { maxItems: L.containersPerPod })),
    /** Job and CronJob pods only; absent from older agents. */
    job: Type.Optional(refTo(WireJobStatus)),
    /** The pod's address on its node's bridge; absent on the host's network, before its sandbox exists, and from older agents. */
    podIP: Type.Optional(pattern(IPV4, 'expected an IPv4 address', { maxLength: 15 })),
    /** When the node accepted the pod (Kubernetes' status.startTime); absent from older agents. */
    startTime: Type.Optional(time()),
  },
  { $id: 'WirePodStatus' },
);
export type WirePodStatus = Static<typeof WirePodStatus>;

/** One workload's deferred update on a node (docs/agent.md, update windows and locks). */
export const WireDeferredUpdate = closed({
  app: text(253, 1),
  reason: stringEnum(['update-window', 'update-lock'], { errorMessage: 'expected update-window or update-lock' }),
  /** When the agent started holding it back. */
  since: time(),
  /** When it goes ahead at the latest (window opens, lock maximum reached); absent = unknown. */
  until: Type.Optional(time()),
  /** One line for people, e.g. "waits for window 0 2 * * * (2h)". */
  message: text(1024),
});
export type WireDeferredUpdate = Static<typeof WireDeferredUpdate>;

/**
 * One container's usage, as a tuple to keep every heartbeat small: its name, CPU in nanocores
 * (the rate over the usage window) and memory working set in bytes (usage less inactive file
 * pages, what the kernel reclaims last: Kubernetes' figure).
 */
export const WireContainerUsage = Type.Tuple([text(L.name, 1), int(), int()]);
export type WireContainerUsage = Static<typeof WireContainerUsage>;

/** The usage of one pod's running containers (those seen in two samples). */
export const WirePodUsage = closed({
  name: text(L.name, 1),
  /** Absent = default. */
  namespace: Type.Optional(dnsLabel()),
  containers: Type.Array(WireContainerUsage, { maxItems: L.containersPerPod }),
});
export type WirePodUsage = Static<typeof WirePodUsage>;

/** The node's usage at `sentAt`: CPU rates over the last `windowMs`, memory working sets now. */
export const WireNodeUsage = closed({
  windowMs: int(1),
  /** The whole node: CPU in nanocores, memory in use (MemTotal − MemAvailable) in bytes. */
  cpu: int(),
  memory: int(),
  pods: Type.Array(WirePodUsage, { maxItems: L.pods }),
});
export type WireNodeUsage = Static<typeof WireNodeUsage>;

export const WireNodeStatus = closed(
  {
    schema: Type.Literal(MESSAGE_SCHEMA),
    node: nodeName(),
    /** Random per agent process start: the server orders statuses by (runId, seq). Absent from older agents. */
    runId: Type.Optional(pattern('^[A-Za-z0-9-]+$', 'expected letters, digits and "-"', { minLength: 1, maxLength: L.runId })),
    /** Increments with every status the agent sends (heartbeats too) since it started. */
    seq: int(),
    /** Revision of the last NodeTarget the agent applied (0 = none). */
    observedRevision: int(),
    /** True for a periodic heartbeat that carries no change. */
    heartbeat: Type.Boolean(),
    facts: refTo(WireNodeFacts),
    pods: Type.Array(refTo(WirePodStatus), { maxItems: L.pods }),
    /** Workloads whose update or stop the agent is holding back (window closed, lock held); absent = none. */
    deferred: Type.Optional(Type.Array(WireDeferredUpdate, { maxItems: 1000 })),
    /** What the node and its containers use (metrics.k8s.io); absent until the agent has two samples, and from older agents. */
    usage: Type.Optional(WireNodeUsage),
    sentAt: time(),
  },
  { $id: 'WireNodeStatus' },
);
export type WireNodeStatus = Static<typeof WireNodeStatus>;

export const WirePresence = closed({ schema: Type.Literal(MESSAGE_SCHEMA), node: nodeName(), online: Type.Boolean(), at: time() }, { $id: 'WirePresence' });
export type WirePresence = Static<typeof WirePresence>;

/* ------------------------------------------------------------------------ rpc */

const rpcId = () => text(L.rpcId, 1);
const volumeName = () => pattern('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'expected a volume name (a DNS label)', { minLength: 1, maxLength: 63 });

export const WireLogsRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('logs'),
  params: closed({
    pod: text(L.name, 1),
    /** The pod's namespace; absent = any (pod names were unique before namespaces). */
    namespace: Type.Optional(dnsLabel()),
    container: Type.Optional(text(L.name, 1)),
    tail: Type.Optional(int()),
    follow: Type.Optional(Type.Boolean()),
    /** The instance before the current one (the agent keeps its log across the last restart); absent from older servers. */
    previous: Type.Optional(Type.Boolean()),
    /** Only lines written at or after this time, by the node's clock; absent = all. */
    sinceTime: Type.Optional(time()),
    /** Only lines of the last N seconds, by the node's clock (kubectl's --since). */
    sinceSeconds: Type.Optional(int(1)),
    /**
     * Follow until a `cancel` request names this request (the agent sends an empty chunk after
     * each quiet spell so the server knows it is alive). Absent (older servers): the agent ends a
     * follow after at most 60 s, as before.
     */
    untilCancelled: Type.Optional(Type.Boolean()),
  }),
});
export type WireLogsRpcRequest = Static<typeof WireLogsRpcRequest>;

/** Ends the request `params.id` (a followed log whose reader went away); answered by nothing. */
export const WireCancelRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('cancel'),
  params: closed({ id: rpcId() }),
});
export type WireCancelRpcRequest = Static<typeof WireCancelRpcRequest>;

/** The node's named volumes: list them, or remove one (refused while a container uses it). */
export const WireVolumesRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('volumes'),
  params: closed(
    { action: stringEnum(['ls', 'rm'], { errorMessage: 'expected ls or rm' }), name: Type.Optional(volumeName()) },
    { if: { properties: { action: { const: 'rm' } } }, then: { required: ['name'] } },
  ),
});
export type WireVolumesRpcRequest = Static<typeof WireVolumesRpcRequest>;

/*
 * Stream sessions (exec, attach, portforward: docs/protocol.md "Stream sessions"). The opening
 * request carries the session's id; the server's later messages for it are `stream` requests
 * with the same id, numbered from 0; the node answers on rpc/res with numbered chunks as for
 * logs. Bytes travel as CBOR byte strings: the schemas say "anything" for them and the decoders
 * check they are bytes of at most STREAM_LIMITS.chunkBytes (JSON Schema has no bytes).
 */
const S = STREAM_LIMITS;
const streamBytes = () => Type.Optional(Type.Unsafe<Uint8Array>({}));
const terminalSize = () => closed({ width: int(0, S.terminalCells), height: int(0, S.terminalCells) });
/** Which pod and container: the same fields as the logs request's. */
const podParams = {
  pod: text(L.name, 1),
  namespace: dnsLabel(),
  container: Type.Optional(text(L.name, 1)),
};

/** Runs `command` in a running container of the pod; stdio streams through the session. */
export const WireExecRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('exec'),
  params: closed({
    ...podParams,
    command: Type.Array(text(S.argBytes), { minItems: 1, maxItems: S.args }),
    stdin: Type.Boolean(),
    tty: Type.Boolean(),
    /** The terminal's size at the start (tty). */
    size: Type.Optional(terminalSize()),
  }),
});
export type WireExecRpcRequest = Static<typeof WireExecRpcRequest>;

/** One TCP connection to `port` of the pod, its bytes relayed through the session. */
export const WirePortForwardRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('portforward'),
  params: closed({ pod: text(L.name, 1), namespace: dnsLabel(), port: int(1, 65535) }),
});
export type WirePortForwardRpcRequest = Static<typeof WirePortForwardRpcRequest>;

/** The server's side of an open session: input, its end, a resize, acknowledgements, the end. */
export const WireStreamRpcRequest = closed({
  schema: Type.Literal(MESSAGE_SCHEMA),
  id: rpcId(),
  method: Type.Literal('stream'),
  params: closed({
    seq: int(),
    /** Bytes for the process's stdin (exec) or the connection (portforward). */
    input: streamBytes(),
    /** No more input: the process's stdin (or the connection's write side) is closed. */
    eof: Type.Optional(Type.Boolean()),
    resize: Type.Optional(terminalSize()),
    /** Total bytes of output the server has passed on so far (flow control). */
    ack: Type.Optional(int()),
    /** The client went away: the process is killed, the connection closed. */
    close: Type.Optional(Type.Boolean()),
  }),
});
export type WireStreamRpcRequest = Static<typeof WireStreamRpcRequest>;

/** One of the requests, told apart by `method` (ajv's discriminator: errors name the method, not every branch). */
function byMethod<T extends TSchema[]>(branches: [...T], options: { $id: string }) {
  return Type.Unsafe<Static<T[number]>>({ type: 'object', required: ['method'], discriminator: { propertyName: 'method' }, oneOf: branches, ...options });
}

export const WireRpcRequest = byMethod([WireLogsRpcRequest, WireVolumesRpcRequest, WireCancelRpcRequest, WireExecRpcRequest, WirePortForwardRpcRequest, WireStreamRpcRequest], { $id: 'WireRpcRequest' });
export type WireRpcRequest = Static<typeof WireRpcRequest>;

/** One named volume of a node (`grove volume ls`). */
export const WireNodeVolume = closed({
  name: volumeName(),
  createdAt: text(64),
  /** Containers whose mounts come from it. */
  usedBy: Type.Array(text(253, 1), { maxItems: 256 }),
});
export type WireNodeVolume = Static<typeof WireNodeVolume>;

export const WireLogLine = closed({ time: time(), stream: stringEnum(['stdout', 'stderr']), text: text(L.longString), container: text(L.name, 1) });
export type WireLogLine = Static<typeof WireLogLine>;

export const WireRpcResponse = closed(
  {
    schema: Type.Literal(MESSAGE_SCHEMA),
    id: rpcId(),
    /** Chunks of one answer are numbered from 0; the last has done = true. */
    seq: int(),
    done: Type.Boolean(),
    error: Type.Optional(closed({ code: rpcId(), message: text(L.message) })),
    lines: Type.Optional(Type.Array(WireLogLine, { maxItems: L.rpcLines })),
    /** The `volumes` method's answer (ls; empty for rm). */
    volumes: Type.Optional(Type.Array(WireNodeVolume, { maxItems: 1000 })),
    /** Stream sessions: the session is open (the first chunk). */
    started: Type.Optional(Type.Boolean()),
    /** Stream sessions: stdout (exec) or the connection's bytes (portforward); stderr (exec). */
    out: streamBytes(),
    err: streamBytes(),
    /** Stream sessions: total bytes of input written so far (flow control). */
    ack: Type.Optional(int()),
    /** Exec: the process's exit code, in the last chunk (128 + n for signal n). */
    exitCode: Type.Optional(int(0, 255)),
  },
  { $id: 'WireRpcResponse' },
);
export type WireRpcResponse = Static<typeof WireRpcResponse>;

/* --------------------------------------------------------------------- config */

export { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECTS };

/** The outer config message; `iv`, `tag` and `payload` are bytes (checked by the decoder: JSON Schema has no bytes). */
export const WireConfigMessage = closed(
  {
    schema: Type.Literal(MESSAGE_SCHEMA),
    cluster: nodeName(),
    node: nodeName(),
    revision: int(1),
    issuedAt: pattern(ISO_TIME, 'expected a timestamp', { maxLength: 40 }),
    keyId: pattern('^[0-9a-f]{16}$', 'expected 16 hex digits'),
    iv: Type.Unsafe<Uint8Array>({}),
    tag: Type.Unsafe<Uint8Array>({}),
    payload: Type.Unsafe<Uint8Array>({}),
  },
  { $id: 'WireConfigMessage' },
);
export type WireConfigMessage = Static<typeof WireConfigMessage>;

/** One ConfigMap or Secret a node's pods reference (Secret values decoded). Values never appear in messages. */
export const WireConfigObject = closed({
  kind: stringEnum(['ConfigMap', 'Secret'], { errorMessage: 'expected ConfigMap or Secret' }),
  /** Absent from older servers = "default". */
  namespace: Type.Optional(dnsLabel()),
  name: dnsSubdomain(),
  /** Changes whenever `data` changes: lets volume files be rewritten only when needed. */
  version: text(64, 1),
  /**
   * A Secret's type when it is not Opaque (`kubernetes.io/tls`): an ingress node hands Caddy only
   * kubernetes.io/tls Secrets, and a pod on that node may bring an Opaque one of the same name
   * into the bundle. Absent = Opaque (and from older servers).
   */
  type: Type.Optional(text(253, 1)),
  data: stringMap(Type.String(), {
    keys: pattern(CONFIG_KEY, `a key is not a valid ConfigMap/Secret key (${CONFIG_KEY_MESSAGE})`, { minLength: 1, maxLength: 253 }),
    maxProperties: MAX_CONFIG_KEYS,
  }),
  /** A ConfigMap's binaryData, base64 as stored (mounted as bytes); absent when it has none. */
  binaryData: Type.Optional(
    stringMap(Type.String(), {
      keys: pattern(CONFIG_KEY, `a key is not a valid ConfigMap key (${CONFIG_KEY_MESSAGE})`, { minLength: 1, maxLength: 253 }),
      maxProperties: MAX_CONFIG_KEYS,
    }),
  ),
});
export type WireConfigObject = Static<typeof WireConfigObject>;

/** The decrypted bundle: size and duplicates are checked by the decoder. */
export const WireConfigBundle = closed({ objects: Type.Array(WireConfigObject, { maxItems: MAX_CONFIG_OBJECTS }) }, { $id: 'WireConfigBundle' });
export type WireConfigBundle = Static<typeof WireConfigBundle>;

