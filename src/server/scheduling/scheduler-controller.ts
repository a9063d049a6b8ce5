/**
 * The scheduler as a Controller: reads Pods and Nodes of the snapshot, runs the pure
 * `schedule`, and turns its answer into object changes: a binding is a put of the Pod with
 * spec.nodeName (and PodScheduled=True), an unschedulable pod gets `PodScheduled=False, reason
 * Unschedulable` with the FailedScheduling text, an evicted or stranded pod is deleted.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import { EVICTION_TIMEOUT_ANNOTATION, readGroveAnnotations } from '../../core/objects/annotations.js';
import type { Controller, ControllerSnapshot, Reconciled } from '../controllers/controller.js';
import { OwnerIndex } from '../controllers/owner-index.js';
import { conditionOf, controllerOf, isBeingDeleted, namespaceOf, nsName, terminatingNamespaces, parseTime, setCondition, type Pod } from '../controllers/object-kit.js';
import { nodeView } from './node-view.js';
import { namespaceLabelsOf } from './affinity.js';
import { podDemandsOf } from './pod-demands.js';
import { DEFAULT_EVICTION_TIMEOUT_MS, schedule, type SchedulingPod } from './schedule.js';
import type { PodDemands } from './pod-demands.js';
import { volumeDemandsOf } from './volume-demands.js';
import { ClaimIndex } from '../controllers/claim-index.js';
import { SELECTED_NODE_ANNOTATION } from '../../core/objects/storage-constants.js';

export interface SchedulerOptions {
  /** How long a node may be NotReady before its ReplicaSet pods move (server --eviction-timeout). */
  evictionTimeoutMs?: number;
}

export function schedulingPod(pod: Pod, owners: OwnerIndex, defaultEvictionMs: number, claims?: ClaimIndex): SchedulingPod {
  const top = owners.topLevel(pod);
  const ownerRef = controllerOf(pod);
  const topAnnotations = top === pod ? undefined : top.metadata.annotations;
  const out: SchedulingPod = {
    key: nsName(pod),
    group: ownerRef?.uid ?? nsName(pod),
    demands: withVolumes(podDemandsOf(pod, owners), pod, claims),
    movable: ownerRef !== undefined && ownerRef.kind !== 'DaemonSet',
  };
  if (pod.spec.nodeName !== undefined) out.node = pod.spec.nodeName;
  const created = parseTime(pod.metadata.creationTimestamp);
  if (created !== undefined) out.createdAt = created;
  if (ownerRef?.kind === 'ReplicaSet') {
    const set = [pod.metadata.annotations, topAnnotations].some((a) => a?.[EVICTION_TIMEOUT_ANNOTATION] !== undefined);
    const seconds = set ? readGroveAnnotations(pod.metadata.annotations, topAnnotations).evictionTimeoutSeconds : undefined;
    out.evictionTimeoutMs = seconds !== undefined ? seconds * 1000 : defaultEvictionMs;
  }
  const scheduled = conditionOf(pod.status?.conditions, 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.message !== undefined) out.unschedulableMessage = scheduled.message;
  return out;
}

function withVolumes(d: PodDemands, pod: Pod, claims: ClaimIndex | undefined): PodDemands {
  // Only pods waiting for a node need their volumes looked at: a bound pod stays where it is.
  const volumes = claims && pod.spec.nodeName === undefined ? volumeDemandsOf(pod, claims) : undefined;
  return volumes ? { ...d, volumes } : d;
}

export function schedulerController(options: SchedulerOptions = {}): Controller {
  const evictionMs = options.evictionTimeoutMs ?? DEFAULT_EVICTION_TIMEOUT_MS;
  return {
    name: 'scheduler',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const owners = new OwnerIndex(snapshot.objects);
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      // Pods of a namespace being deleted are neither bound nor moved: they are on their way out.
      const live = snapshot.objects.Pod.filter((p) => !isBeingDeleted(p) && !terminating.has(namespaceOf(p)) && !owners.isCronRunPod(p));
      const byKey = new Map(live.map((p) => [nsName(p), p]));
      const nodes = snapshot.objects.Node.map((n) => nodeView(n, snapshot.reports.get(n.metadata.name)));
      const claims = new ClaimIndex(snapshot.objects);
      const result = schedule({ pods: live.map((p) => schedulingPod(p, owners, evictionMs, claims)), nodes, now: snapshot.now, namespaces: namespaceLabelsOf(snapshot.objects.Namespace) });
      const changes: ObjectChange[] = [];
      // WaitForFirstConsumer: the node of a claim's first pod is written on the claim; the
      // volume controller provisions there, and the pod reaches its node once the claim is bound.
      const given = new Set<string>();
      for (const b of result.bindings) {
        for (const key of b.claims ?? []) {
          if (given.has(key)) continue;
          given.add(key);
          const [ns, name] = key.split('/') as [string, string];
          const claim = claims.claim(ns, name)!;
          changes.push({ op: 'put', object: { ...claim, metadata: { ...claim.metadata, annotations: { ...claim.metadata.annotations, [SELECTED_NODE_ANNOTATION]: b.node } } } });
        }
      }
      for (const d of result.deletions) changes.push({ op: 'delete', ref: refOfPod(byKey.get(d.key)!) });
      for (const b of result.bindings) {
        const pod = byKey.get(b.key)!;
        changes.push({ op: 'put', object: { ...pod, spec: { ...pod.spec, nodeName: b.node } } });
        const conditions = setCondition(pod.status?.conditions, { type: 'PodScheduled', status: 'True' }, snapshot.now);
        changes.push({ op: 'status', ref: refOfPod(pod), status: { ...pod.status, phase: 'Pending', conditions } });
      }
      for (const u of result.unschedulable) {
        const pod = byKey.get(u.key)!;
        const conditions = setCondition(pod.status?.conditions, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: u.message }, snapshot.now);
        changes.push({ op: 'status', ref: refOfPod(pod), status: { ...pod.status, phase: 'Pending', conditions } });
      }
      return { changes, ...(result.nextEvictionAt !== undefined ? { wakeAt: result.nextEvictionAt } : {}) };
    },
  };
}

function refOfPod(pod: Pod): { kind: 'Pod'; namespace: string; name: string } {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
}
