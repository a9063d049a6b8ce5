/**
 * NodeRuntime: the port the agent drives. The agent never talks to runc, the shim or the image
 * store directly; it asks a NodeRuntime to start, stop, remove and list the containers it owns.
 * Implementations: ContainerManagerRuntime (real containers) and MemoryRuntime (tests and the
 * hollow nodes of scale tests). test/contract/node-runtime.contract.ts runs against both.
 */
import type { ConfigRef } from '../../../src/core/config-refs.js';
import type { NodeVolume } from '../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { Container } from '../../../src/core/objects/pod-container.js';
import type { NetworkCheck, ProbeOutcome } from './probe-net.js';
import { DEFAULT_NAMESPACE, graceSecondsOf, inNamespace, podKey } from './plan/pod-fields.js';
import { MAX_GRACE_SECONDS } from '../../../src/core/objects/limits.js';
import { CONTAINER_NAME, CONTAINER_NAME_ANNOTATION } from '../../../src/core/objects/annotations.js';
import type { PodSandbox, SandboxOps } from '../runtime/sandbox-model.js';
import type { ExecProcess, ExecStreamOptions } from '../runtime/oci-runtime.js';

export type { ExecProcess } from '../runtime/oci-runtime.js';

export type { NetworkCheck, ProbeOutcome } from './probe-net.js';
export type { PodSandbox, SandboxOps, SandboxPort } from '../runtime/sandbox-model.js';

/** Labels on every container the agent creates; containers without them are never touched. */
export const Labels = {
  managed: 'grove.managed',
  pod: 'grove.pod',
  app: 'grove.app',
  container: 'grove.container',
  templateHash: 'grove.template-hash',
  /** How many times this pod container was restarted before this instance (survives agent restarts). */
  restarts: 'grove.restarts',
  /** The pod's namespace; absent = default (0.1's containers, and every pod of `default`, which keep 0.1's labels). */
  namespace: 'grove.namespace',
  /** "true" on a native sidecar (init container with restartPolicy Always): a pod's removal stops it after its main containers, also once the pod left the target. */
  sidecar: 'grove.sidecar',
} as const;

export const MANAGED_BY_AGENT = 'agent';

export interface ManagedLabels {
  'grove.pod': string;
  'grove.app': string;
  'grove.container': string;
  'grove.template-hash': string;
  [label: string]: string;
}

export type ManagedState = 'created' | 'running' | 'exited';

export interface ManagedContainer {
  id: string;
  name: string;
  labels: ManagedLabels;
  image: string;
  imageDigest?: string;
  state: ManagedState;
  /** null while running, or when the exit status is unknown (shim lost, host rebooted). */
  exitCode: number | null;
  oomKilled: boolean;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Restarts of this pod container before this instance was created. */
  restarts?: number;
  /** Exited only: what it left at its terminationMessagePath (termination-message.ts). */
  terminationMessage?: string;
}

export interface RuntimeLogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A container's cumulative CPU and current memory working set, read from its cgroup. */
export interface ContainerUsageSample {
  id: string;
  /** CPU time used since it started, in nanoseconds (cumulative). */
  cpuNanos: number;
  /** Memory in use less inactive file pages, in bytes (Kubernetes' working set). */
  memoryWorkingSetBytes: number;
}

export interface LogOptions {
  /** Only the last N existing lines (all when absent). */
  tail?: number;
  /** Keep yielding new lines until `signal` aborts or the container exits. */
  follow?: boolean;
  signal?: AbortSignal;
}

export interface StartOptions {
  /** Recorded on the new container so the restart count survives remove + start. */
  restarts?: number;
}

export interface ExecOptions {
  /** The command is killed after this long; its result then has exitCode null. */
  timeoutMs: number;
}

export interface ExecResult {
  /** null when it was killed at the timeout (or died by a signal). */
  exitCode: number | null;
  timedOut: boolean;
  /** The first few KiB of stdout + stderr, for probe messages. */
  output: string;
}

/** What a streaming exec asks for (agent/src/runtime/oci-runtime.ts ExecStreamOptions, less the helper). */
export type ExecStreamRequest = Omit<ExecStreamOptions, 'ptyHelper'>;

export interface NetworkProbeOptions {
  timeoutMs: number;
  /** The container shares the host's network: the agent connects from its own. */
  hostNetwork: boolean;
}


export interface NodeRuntime {
  /**
   * Pod sandboxes. Absent: each container gets namespaces of its own (hostNetwork = the host's
   * network), as before sandboxes existed. A container of a pod that has a sandbox joins it.
   */
  readonly sandboxes?: SandboxOps;
  /** Only containers carrying grove.managed=agent, in creation order. */
  list(): Promise<ManagedContainer[]>;
  /** Creates and starts containerName(pod, container), pulling the image if it is missing. */
  start(pod: WirePodTarget, container: Container, options?: StartOptions): Promise<ManagedContainer>;
  /** SIGTERM, then SIGKILL after graceSeconds; a container that is not running is left as is. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Removes a container (killing it if it still runs) and everything it left on disk. */
  remove(id: string): Promise<void>;
  logs(id: string, options?: LogOptions): AsyncIterable<RuntimeLogLine>;
  /**
   * Keeps an exited container's log as its pod container's previous instance (`logs
   * --previous`), just before a restart removes it. Absent on runtimes that keep none.
   */
  keepPreviousLogs?(id: string): Promise<void>;
  /** The log of the previous instance of container `name` (containerName), or undefined when none is kept. */
  previousLogs?(name: string, options?: { tail?: number }): Promise<RuntimeLogLine[] | undefined>;
  /** Usage of the running containers, from their cgroups (metrics); absent on runtimes that cannot tell. */
  usage?(): Promise<ContainerUsageSample[]>;
  /** Runs argv inside a running container (exec probes). Rejects when it cannot be run at all. */
  exec(id: string, argv: string[], options: ExecOptions): Promise<ExecResult>;
  /** Starts argv in a running container with its stdio streaming (`kubectl exec`); absent on runtimes that cannot. */
  execStream?(id: string, argv: string[], options: ExecStreamRequest): Promise<ExecProcess>;
  /** A tcpSocket / httpGet check as seen from the container's network (probes). */
  probeNetwork(id: string, check: NetworkCheck, options: NetworkProbeOptions): Promise<ProbeOutcome>;
  /** After each reconcile: drop node state (volume directories) of pods with no target and no container left. */
  syncPods?(target: readonly WirePodTarget[], current: readonly ManagedContainer[]): Promise<void>;
  /** ConfigMaps/Secrets changed: rewrites the pods' projected files of them, in place. */
  refreshConfig?(changed: readonly ConfigRef[]): Promise<void>;
  /** Each round: rewrites the downwardAPI files of pods whose fields they read changed (labels, annotations). */
  refreshDownward?(target: readonly WirePodTarget[]): Promise<void>;
  /** The node's named volumes (grove volume ls); absent on runtimes that keep none. */
  listVolumes?(): Promise<NodeVolume[]>;
  /** Removes a named volume; refuses while a container mounts it. */
  removeVolume?(name: string): Promise<void>;
}

/** `<pod key>_<container>`: 0.1's `<pod>_<container>` in the default namespace, `<namespace>_<pod>_<container>` elsewhere. */
export function containerName(pod: WirePodTarget, container: string): string {
  return `${podKey(pod)}_${container}`;
}

/**
 * The name the runtime gives a pod's container: compose's container_name
 * (grove.io/container-name) for the one container of a pod that asks for it, else
 * containerName(). Previous logs and everything else keep keying by containerName().
 */
export function runtimeContainerName(pod: WirePodTarget, container: string): string {
  const chosen = pod.annotations?.[CONTAINER_NAME_ANNOTATION];
  const only = pod.spec.containers.length === 1 && pod.spec.containers[0]!.name === container;
  return chosen !== undefined && only && CONTAINER_NAME.test(chosen) ? chosen : containerName(pod, container);
}

/** containerName() of a container the runtime lists, from its labels (whatever name it runs under). */
export function podContainerKeyOf(c: ManagedContainer): string {
  return `${podKeyOf(c)}_${c.labels[Labels.container]}`;
}

export function managedLabels(pod: WirePodTarget, container: Container, restarts = 0): Record<string, string> {
  return {
    [Labels.managed]: MANAGED_BY_AGENT,
    [Labels.pod]: pod.name,
    [Labels.app]: pod.owner?.name ?? pod.name,
    [Labels.container]: container.name,
    [Labels.templateHash]: pod.templateHash,
    ...(pod.namespace !== DEFAULT_NAMESPACE ? { [Labels.namespace]: pod.namespace } : {}),
    ...(restarts > 0 ? { [Labels.restarts]: String(restarts) } : {}),
    ...(container.restartPolicy === 'Always' ? { [Labels.sidecar]: 'true' } : {}),
  };
}

/** The namespace of a container's pod (its label; default when it has none). */
export const namespaceOfContainer = (c: ManagedContainer): string => c.labels[Labels.namespace] ?? DEFAULT_NAMESPACE;

/** The key of a container's pod on the node (podKey of its target). */
export const podKeyOf = (c: ManagedContainer): string => inNamespace(namespaceOfContainer(c), c.labels[Labels.pod]);

/** The workload of a container's pod, as podApp names it. */
export const appOf = (c: ManagedContainer): string => inNamespace(namespaceOfContainer(c), c.labels[Labels.app]);

/**
 * Records the pod's terminationGracePeriodSeconds on each container the agent creates. Removals
 * mostly concern pods that have left the target (app deleted, rolling update to new pod names),
 * so the target cannot say how long they may take to stop; the container itself can, also after
 * an agent restart. Both runtimes add these labels next to managedLabels().
 */
export const STOP_GRACE_LABEL = 'grove.stop-grace-seconds';

export function stopGraceLabels(pod: WirePodTarget): Record<string, string> {
  const g = graceSecondsOf(pod);
  return g === undefined ? {} : { [STOP_GRACE_LABEL]: String(g) };
}

/**
 * The grace recorded on a container, or undefined (none, or not a valid 0..3600 integer: labels
 * can be set by hand with `grove ctr run`, and a bad one must not stall a removal for hours).
 */
export function stopGraceOf(c: ManagedContainer): number | undefined {
  const raw = c.labels[STOP_GRACE_LABEL];
  if (raw === undefined || !/^\d{1,4}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= MAX_GRACE_SECONDS ? n : undefined;
}


/** Whether a label set marks a container as ours and complete enough to plan with. */
export function isManaged(labels: Record<string, string> | undefined): labels is ManagedLabels {
  return (
    labels !== undefined &&
    labels[Labels.managed] === MANAGED_BY_AGENT &&
    typeof labels[Labels.pod] === 'string' &&
    typeof labels[Labels.container] === 'string' &&
    typeof labels[Labels.templateHash] === 'string' &&
    typeof labels[Labels.app] === 'string'
  );
}

export function restartsFromLabels(labels: Record<string, string>): number {
  const n = Number(labels[Labels.restarts] ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** "pod/container" (pod = its key, podKey): the identity the planner, executor and status share. */
export function podContainerKey(pod: string, container: string): string {
  return `${pod}/${container}`;
}

export function keyOf(c: ManagedContainer): string {
  return podContainerKey(podKeyOf(c), c.labels[Labels.container]);
}

/** Joins CRI partial records into whole lines; an over-long line is cut at maxChars. */
export async function* joinPartials(
  lines: AsyncIterable<{ time: string; stream: 'stdout' | 'stderr'; text: string; partial: boolean }>,
  maxChars = 16 * 1024,
): AsyncGenerator<RuntimeLogLine> {
  const pending: Record<'stdout' | 'stderr', { time: string; text: string } | undefined> = { stdout: undefined, stderr: undefined };
  for await (const line of lines) {
    const prev = pending[line.stream];
    const text = (prev?.text ?? '') + line.text;
    const time = prev?.time ?? line.time;
    if (line.partial && text.length < maxChars) {
      pending[line.stream] = { time, text };
      continue;
    }
    pending[line.stream] = undefined;
    yield { time, stream: line.stream, text: text.slice(0, maxChars) };
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const rest = pending[stream];
    if (rest) yield { time: rest.time, stream, text: rest.text };
  }
}
