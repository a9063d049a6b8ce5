/**
 * The Pod and Node objects `grove get pods|nodes -o json` prints, read into the compact shape the
 * cluster tests assert on (0.1's pod view: name, app, node, phase, ready, restarts, containers).
 * `app` is the top-level workload a pod belongs to, found through its owner's name as the
 * controllers name things: a ReplicaSet `<deployment>-<hash>`, a CronJob's Job `<cronjob>-<minutes>`.
 */
import type { PodJson } from './cluster.js';

interface Owner {
  kind: string;
  name: string;
  controller?: boolean;
}

interface ContainerStatusObject {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { running?: unknown; waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string; message?: string } };
}

export interface PodObject {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: Owner[] };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatusObject[];
    initContainerStatuses?: ContainerStatusObject[];
  };
}

export interface NodeObject {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** The workload a pod belongs to: its controller's name, less a ReplicaSet's hash or a CronJob Job's time. */
export function workloadOf(pod: PodObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!owner) return pod.metadata.name;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  if (owner.kind === 'Job' && /-\d{8,}$/.test(owner.name)) return owner.name.replace(/-\d{8,}$/, '');
  return owner.name;
}

function containerJson(c: ContainerStatusObject): PodJson['containers'][number] {
  const s = c.state ?? {};
  if (s.terminated) {
    const t = s.terminated;
    return { name: c.name, state: 'exited', ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}), oomKilled: t.reason === 'OOMKilled', ...(t.reason ? { reason: t.reason } : {}), ...(t.message ? { message: t.message } : {}) };
  }
  if (s.waiting) return { name: c.name, state: 'waiting', oomKilled: false, ...(s.waiting.reason ? { reason: s.waiting.reason } : {}), ...(s.waiting.message ? { message: s.waiting.message } : {}) };
  return { name: c.name, state: s.running ? 'running' : 'unknown', oomKilled: false };
}

/** RESTARTS as kubectl counts them: the init containers' while they hold the pod back, then the containers'. */
function restartsOf(pod: PodObject): number {
  const sum = (list: ContainerStatusObject[] | undefined) => (list ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const initialized = pod.status?.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True') ?? true;
  return sum(pod.status?.containerStatuses) + (initialized ? 0 : sum(pod.status?.initContainerStatuses));
}

export function podJson(pod: PodObject): PodJson {
  const conditions = pod.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    name: pod.metadata.name,
    app: workloadOf(pod),
    ...(pod.spec.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(!pod.spec.nodeName && scheduled?.status === 'False' && scheduled.message ? { unschedulable: scheduled.message } : {}),
    phase: pod.status?.phase ?? 'Pending',
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: restartsOf(pod),
    templateHash: pod.metadata.labels?.['pod-template-hash'] ?? pod.metadata.labels?.['controller-revision-hash'] ?? '',
    containers: statuses.map(containerJson),
    ...(pod.status?.initContainerStatuses?.length ? { initContainers: pod.status.initContainerStatuses.map(containerJson) } : {}),
  };
}

export function nodeReady(node: NodeObject): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
