/**
 * Pod status from node reports: what the pod's node last said about it (WirePodStatus) in
 * Kubernetes' words — phase, the PodScheduled / Initialized / ContainersReady / Ready
 * conditions, containerStatuses and initContainerStatuses (state, lastState, ready,
 * restartCount, image, imageID, containerID), hostIP, podIP, startTime.
 *
 * Conditions keep their lastTransitionTime while their status holds, and nothing else carries
 * a time that moves with heartbeats, so an unchanged pod gives an equal status and the status
 * writer writes nothing. A node that is not Ready keeps its pods' last reported state with
 * Ready=False (reason NodeNotReady), as Kubernetes' node lifecycle controller marks them.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { Condition } from '../../core/objects/meta.js';
import type { ContainerState, ContainerStatus, PodStatus } from '../../core/objects/pod.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { WireContainerStatus, WirePodStatus } from '../../core/objects/wire.js';
import type { Controller, ControllerSnapshot, NodeReport, Reconciled } from './controller.js';
import { OwnerIndex } from './owner-index.js';
import { conditionOf, isBeingDeleted, isoTime, namespaceOf, parseTime, sameData, setCondition, type Pod } from './object-kit.js';

type Node = KindObject<'Node'>;

/** Runtime ids as Kubernetes writes them: "<runtime>://<id>". */
export const CONTAINER_ID_SCHEME = 'grove://';

/** The report's entry for `pod`: same namespace and name, and same uid when the agent sent one. */
export function reportedPod(pod: Pod, report: NodeReport | undefined): WirePodStatus | undefined {
  const ns = namespaceOf(pod);
  return report?.status.pods.find((p) => p.name === pod.metadata.name && (p.namespace ?? 'default') === ns && (p.uid === undefined || p.uid === pod.metadata.uid));
}

function time(t: string | undefined): string | undefined {
  const ms = parseTime(t);
  return ms === undefined ? undefined : isoTime(ms);
}

function terminated(exitCode: number, reason: string | undefined, message: string | undefined, startedAt: string | undefined, finishedAt: string | undefined, containerID?: string): ContainerState {
  const s = time(startedAt);
  const f = time(finishedAt);
  return {
    terminated: {
      exitCode,
      ...(reason !== undefined ? { reason } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(s !== undefined ? { startedAt: s } : {}),
      ...(f !== undefined ? { finishedAt: f } : {}),
      ...(containerID !== undefined ? { containerID } : {}),
    },
  };
}

/**
 * The agent reports a container that waits out its restart backoff as exited with reason
 * CrashLoopBackOff (0.1's wire); Kubernetes shows it waiting, and the run that ended as lastState.
 */
function backingOff(c: WireContainerStatus): boolean {
  return c.state === 'exited' && c.reason === 'CrashLoopBackOff';
}

/** How a run ended when nothing more precise was said. */
function endReason(c: WireContainerStatus, exit: number): string {
  return c.oomKilled ? 'OOMKilled' : exit === 0 ? 'Completed' : 'Error';
}

function containerState(c: WireContainerStatus, containerID: string | undefined): ContainerState {
  if (backingOff(c)) return { waiting: { reason: 'CrashLoopBackOff', ...(c.message !== undefined ? { message: c.message } : {}) } };
  if (c.state === 'running') {
    const s = time(c.startedAt);
    return { running: s !== undefined ? { startedAt: s } : {} };
  }
  if (c.state === 'waiting') return { waiting: { ...(c.reason !== undefined ? { reason: c.reason } : {}), ...(c.message !== undefined ? { message: c.message } : {}) } };
  const exit = c.exitCode ?? 0;
  const reason = c.oomKilled ? 'OOMKilled' : (c.reason ?? endReason(c, exit));
  return terminated(exit, reason, c.message, c.startedAt, c.finishedAt, containerID);
}

function containerStatus(name: string, image: string, c: WireContainerStatus | undefined): ContainerStatus {
  if (!c) return { name, state: { waiting: { reason: 'ContainerCreating' } }, ready: false, restartCount: 0, image, imageID: '', started: false };
  const containerID = c.containerID !== undefined ? `${CONTAINER_ID_SCHEME}${c.containerID}` : undefined;
  const out: ContainerStatus = {
    name,
    state: containerState(c, containerID),
    // Containers without a readiness probe (and older agents) report no `ready`: running is ready.
    ready: c.ready ?? c.state === 'running',
    restartCount: c.restarts,
    image,
    imageID: c.imageDigest ?? '',
    started: c.state === 'running',
  };
  if (containerID !== undefined) out.containerID = containerID;
  if (c.lastState) out.lastState = terminated(c.lastState.exitCode, c.lastState.reason, c.lastState.message, c.lastState.startedAt, c.lastState.finishedAt);
  else if (backingOff(c)) out.lastState = terminated(c.exitCode ?? 0, endReason(c, c.exitCode ?? 0), undefined, c.startedAt, c.finishedAt, containerID);
  return out;
}

function hostIPOf(node: Node | undefined): string | undefined {
  const addresses = node?.status?.addresses ?? [];
  return (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'ExternalIP'))?.address;
}

/** The status of a bound pod from its node's last report (`report` undefined: the node has not reported it yet). */
export function podStatusFromReport(pod: Pod, report: NodeReport | undefined, node: Node | undefined, now: number): PodStatus {
  const before = pod.status;
  const reported = reportedPod(pod, report);
  const nodeReady = conditionOf(node?.status?.conditions, 'Ready')?.status === 'True';
  let conditions: Condition[] = setCondition(before?.conditions, { type: 'PodScheduled', status: 'True' }, now);
  const status: PodStatus = { phase: reported?.phase ?? before?.phase ?? 'Pending' };
  const hostIP = hostIPOf(node);
  if (hostIP !== undefined) {
    status.hostIP = hostIP;
    status.hostIPs = [{ ip: hostIP }];
  }
  const podIP = reported?.podIP ?? (pod.spec.hostNetwork ? hostIP : undefined);
  if (podIP !== undefined) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  const start = time(reported?.startTime);
  if (start !== undefined) status.startTime = start;
  if (!reported) {
    // Known only as bound: keep what was there (a node that went quiet) or say it is coming.
    if (before?.containerStatuses) status.containerStatuses = before.containerStatuses;
    if (before?.initContainerStatuses) status.initContainerStatuses = before.initContainerStatuses;
    if (before?.startTime) status.startTime = before.startTime;
    if (before?.podIP) Object.assign(status, { podIP: before.podIP, podIPs: before.podIPs });
  } else {
    const byName = new Map(reported.containers.map((c) => [c.name, c]));
    status.containerStatuses = pod.spec.containers.map((c) => containerStatus(c.name, c.image, byName.get(c.name)));
    if (pod.spec.initContainers?.length) {
      const initByName = new Map((reported.initContainers ?? []).map((c) => [c.name, c]));
      status.initContainerStatuses = pod.spec.initContainers.map((c) => containerStatus(c.name, c.image, initByName.get(c.name)));
    }
  }
  const initDone = (status.initContainerStatuses ?? []).every((c) => c.state?.terminated?.exitCode === 0) || status.phase === 'Running' || status.phase === 'Succeeded';
  conditions = setCondition(conditions, initDone ? { type: 'Initialized', status: 'True' } : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' }, now);
  const containersReady = (status.containerStatuses ?? []).length > 0 && status.containerStatuses!.every((c) => c.ready);
  const ready = reported !== undefined ? reported.ready && containersReady : false;
  const notReady = (reason: string): Condition => ({ type: 'Ready', status: 'False', reason });
  let readyCondition: Condition;
  if (!nodeReady && node?.status?.conditions?.some((c) => c.type === 'Ready')) readyCondition = notReady('NodeNotReady');
  else if (status.phase === 'Succeeded' || status.phase === 'Failed') readyCondition = notReady('PodCompleted');
  else readyCondition = ready ? { type: 'Ready', status: 'True' } : notReady('ContainersNotReady');
  const containersCondition: Condition = ready ? { type: 'ContainersReady', status: 'True' } : { type: 'ContainersReady', status: 'False', reason: readyCondition.reason === 'PodCompleted' ? 'PodCompleted' : 'ContainersNotReady' };
  conditions = setCondition(conditions, containersCondition, now);
  conditions = setCondition(conditions, readyCondition, now);
  status.conditions = conditions;
  return status;
}

/** Writes pod statuses from the nodes' reports: one status change per pod whose status differs. */
export function podStatusController(): Controller {
  return {
    name: 'pod-status',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const nodes = new Map(snapshot.objects.Node.map((n) => [n.metadata.name, n]));
      const owners = new OwnerIndex(snapshot.objects);
      const changes: ObjectChange[] = [];
      for (const pod of snapshot.objects.Pod) {
        const nodeName = pod.spec.nodeName;
        // A CronJob run's pod record gets its status from the run (cronjob.ts), not from a report of its own.
        if (nodeName === undefined || isBeingDeleted(pod) || owners.isCronRunPod(pod)) continue;
        const report = snapshot.reports.get(nodeName);
        // Nothing heard from the node since the server started: the stored status stands.
        if (!report && pod.status?.conditions?.some((c) => c.type === 'Ready')) continue;
        const status = podStatusFromReport(pod, report, nodes.get(nodeName), snapshot.now);
        if (!sameData(status, pod.status)) changes.push({ op: 'status', ref: { kind: 'Pod', namespace: namespaceOf(pod), name: pod.metadata.name }, status });
      }
      return { changes };
    },
  };
}
