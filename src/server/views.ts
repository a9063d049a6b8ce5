/**
 * PURE: what the API shows for apps, pods, nodes and secrets, joined from the store (desired
 * state) and the status cache (what nodes last reported).
 */
import type { App, PodAssignment, Secret } from '../core/model.js';
import type { ContainerStatus, DeferredUpdate, JobStatus, NodeFacts, PodPhase } from '../core/wire-types.js';
import type { NodeLiveView, StoredNode } from './status-cache.js';
import { templateHash } from './targets.js';
import { effectiveNodeLabels } from './node-labels.js';

export interface ContainerView { name: string; state: string; ready: boolean; exitCode?: number; oomKilled: boolean; reason?: string; message?: string }

export interface PodView {
  name: string;
  app: string;
  /** Absent while the pod is Pending with no node (`unschedulable` says why). */
  node?: string;
  phase: PodPhase;
  ready: boolean;
  restarts: number;
  /** `ready` is the container's readiness: false while its readiness probe fails. */
  containers: ContainerView[];
  /** Pods with init containers only, in their order. */
  initContainers?: ContainerView[];
  /**
   * The app revision the pod runs (its template's number in `grove rollout history`), old and new
   * pods alike mid-rollout; undefined only before the controller has recorded the revision.
   */
  revision: number | undefined;
  templateHash: string;
  createdAt: string | undefined;
  /** Job / CronJob pods: the runs' progress as last reported (kept while the node is unreachable). */
  job?: JobStatus;
  /** The pod's address on its node's bridge, as last reported. */
  podIP?: string;
  /** A Pending pod no node can take: why (Kubernetes' FailedScheduling message). */
  unschedulable?: string;
}

/** `live`: what the pod's node last reported; undefined for a pod with no node. */
export function podView(pod: PodAssignment, revision: number | undefined, live: NodeLiveView | undefined): PodView {
  const reported = live?.status?.pods.find((p) => p.name === pod.meta.name);
  const base = {
    name: pod.meta.name,
    app: pod.app,
    ...(pod.node !== undefined ? { node: pod.node } : {}),
    revision,
    templateHash: pod.templateHash,
    createdAt: pod.meta.createdAt,
    // A Job's counts are history, not a claim about now: shown even from a node that went quiet.
    ...(reported?.job ? { job: reported.job } : {}),
  };
  if (pod.node === undefined || live === undefined) {
    return { ...base, phase: 'Pending', ready: false, restarts: 0, containers: [], ...(pod.unschedulable ? { unschedulable: pod.unschedulable } : {}) };
  }
  // A node that stopped reporting may be running the pod or not: say so rather than repeat
  // its last words as if current.
  if (!live.ready) return { ...base, phase: 'Unknown', ready: false, restarts: reported?.restarts ?? 0, containers: [] };
  if (!reported) return { ...base, phase: 'Pending', ready: false, restarts: 0, containers: [] };
  return {
    ...base,
    phase: reported.phase,
    ready: reported.ready,
    restarts: reported.restarts,
    containers: reported.containers.map(containerView),
    ...(reported.initContainers ? { initContainers: reported.initContainers.map(containerView) } : {}),
    ...(reported.podIP ? { podIP: reported.podIP } : {}),
  };
}

function containerView(c: ContainerStatus): ContainerView {
  return {
    name: c.name,
    state: c.state,
    // Containers without a readiness probe (and older agents) report no `ready`: running is ready.
    ready: c.ready ?? c.state === 'running',
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    oomKilled: c.oomKilled,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.message !== undefined ? { message: c.message } : {}),
  };
}

export interface AppSummary {
  /** Replicas asked for; for a DaemonSet, the pods the scheduler placed (one per eligible node). */
  desired: number;
  current: number;
  ready: number;
  upToDate: number;
  /** Job / CronJob: the status of its (one) pod and where it runs. */
  job?: JobStatus;
  node?: string;
  phase?: PodPhase;
}

export function appSummary(app: App, pods: readonly PodView[]): AppSummary {
  const hash = templateHash(app);
  const mine = pods.filter((p) => p.app === app.meta.name);
  const out: AppSummary = {
    desired: app.spec.kind === 'Deployment' ? (app.spec.replicas ?? 1) : mine.length,
    current: mine.length,
    ready: mine.filter((p) => p.ready).length,
    upToDate: mine.filter((p) => p.templateHash === hash).length,
  };
  if (app.spec.job) {
    const pod = mine.find((p) => p.templateHash === hash) ?? mine[0];
    if (pod) Object.assign(out, { node: pod.node, phase: pod.phase, ...(pod.job ? { job: pod.job } : {}) });
  }
  return out;
}

export interface NodeDetail {
  name: string;
  labels: Record<string, string>;
  cordoned: boolean;
  ready: boolean;
  online: boolean;
  facts?: NodeFacts;
  pods: string[];
  joinedAt: string;
  lastStatusAt?: string;
  lastTransitionAt?: string;
  /** When the node went NotReady (after having been Ready); absent while Ready. */
  notReadySince?: string;
  observedRevision?: number;
  targetRevision?: number;
}

export function nodeDetail(record: StoredNode, live: NodeLiveView, pods: readonly PodAssignment[], targetRevision: number | undefined): NodeDetail {
  return {
    name: record.meta.name,
    labels: effectiveLabels(record, live),
    cordoned: record.cordoned,
    ready: live.ready,
    online: live.online,
    ...(live.status ? { facts: live.status.facts, observedRevision: live.status.observedRevision } : {}),
    pods: pods.filter((p) => p.node === record.meta.name).map((p) => p.meta.name).sort(),
    joinedAt: record.joinedAt,
    ...(live.lastStatusAt ? { lastStatusAt: live.lastStatusAt } : {}),
    ...(record.lastTransitionAt ? { lastTransitionAt: record.lastTransitionAt } : {}),
    ...(live.notReadySince ? { notReadySince: live.notReadySince } : {}),
    ...(targetRevision !== undefined ? { targetRevision } : {}),
  };
}

/**
 * The node's labels as the scheduler sees them (node-labels.ts): its own `node.grove.io/`
 * labels, under the well-known ones the server derives, under those set through the API or at
 * its first join, which always win.
 */
export function effectiveLabels(record: StoredNode, live: NodeLiveView): Record<string, string> {
  return effectiveNodeLabels(record.meta.name, record.meta.labels, live.status?.facts);
}

/** Secret values replaced by their length in bytes (UTF-8), unless asked for. */
export function secretView(secret: Secret, showValues: boolean): Secret | (Omit<Secret, 'data'> & { data: Record<string, number> }) {
  if (showValues) return secret;
  const data: Record<string, number> = {};
  for (const [k, v] of Object.entries(secret.data)) data[k] = Buffer.byteLength(v, 'utf8');
  return { ...secret, data };
}

/** A node's deferred update of an app, as `grove describe app` shows it. */
export type DeferredView = DeferredUpdate & { node: string };

/**
 * The app's updates its nodes report as held back (update window closed, update lock held),
 * by node name. Nodes that are not Ready are left out: their last word may be stale.
 */
export function appDeferred(app: string, nodes: readonly { name: string; live: NodeLiveView }[]): DeferredView[] {
  const out: DeferredView[] = [];
  for (const { name, live } of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!live.ready) continue;
    for (const d of live.status?.deferred ?? []) if (d.app === app) out.push({ ...d, node: name });
  }
  return out;
}
