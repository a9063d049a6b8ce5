/**
 * PURE: the events of one controller pass, derived from what the controller changed and the
 * snapshot it decided on, so the controllers themselves stay event-free (docs/kubectl.md,
 * "Nodes, drain and events"). The controller loop calls this only for changes it committed.
 *
 *   scheduler          Scheduled, FailedScheduling (when its text changes), Evicted / NodeGone / NodeMismatch deletions
 *   replicaset, daemonset, job   SuccessfulCreate / SuccessfulDelete "Created pod: web-x2b4k"
 *   deployment         ScalingReplicaSet "Scaled up replica set web-7d4b9 from 0 to 3"
 *   job                Completed, BackoffLimitExceeded / DeadlineExceeded (the Failed condition's reason)
 *   cronjob            SuccessfulCreate "Created job nightly-28930"
 *   pod-status         the kubelet's container events (pod-events.ts)
 *   node-lifecycle     NodeNotSchedulable / NodeSchedulable when it adds or removes the cordon taint
 *   node-ipam          CIDRNotAvailable (Warning) when a node is left without a pod CIDR
 *   ingress-status     TLSSecretNotFound / TLSSecretWrongType / TLSSecretInvalid (Warning) when a TLS error enters an Ingress' status
 *   every controller   Killing for the running containers of a pod it deletes
 */
import type { AnyObject, ObjectChange, ObjectRef } from '../../core/objects/changes.js';
import type { Condition, OwnerReference } from '../../core/objects/meta.js';
import type { PodStatus } from '../../core/objects/pod.js';
import { UNSCHEDULABLE_TAINT_KEY, untolerated, type Taint } from '../../core/objects/taint-rules.js';
import type { ControllerSnapshot } from '../controllers/controller.js';
import { conditionOf, controllerOf, namespaceOf, type Pod } from '../controllers/object-kit.js';
import { CIDR_NOT_AVAILABLE, NETWORK_UNAVAILABLE } from '../controllers/node-ipam.js';
import { EventSource, involvedNode, involvedOf, type EventInput, type InvolvedObject } from './event-types.js';
import { podKillingEvents, podStatusEvents } from './pod-events.js';
import { servicePortProblems } from '../controllers/endpointslice.js';
import type { Ingress } from '../../core/objects/ingress.js';
import { ingressStatusEvents } from './ingress-events.js';

const CREATOR: Record<string, string> = { ReplicaSet: EventSource.replicaSet, DaemonSet: EventSource.daemonSet, StatefulSet: EventSource.statefulSet, Job: EventSource.job, CronJob: EventSource.cronJob };

/** The owner an event about what it made is recorded on. */
function ownerInvolved(ref: OwnerReference, namespace: string): InvolvedObject {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace, uid: ref.uid };
}

function key(ref: { kind: string; namespace?: string; name: string }): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** Snapshot objects by kind/namespace/name. */
function indexSnapshot(snapshot: ControllerSnapshot): Map<string, AnyObject> {
  const out = new Map<string, AnyObject>();
  for (const list of Object.values(snapshot.objects)) for (const o of list as AnyObject[]) out.set(key({ kind: o.kind, namespace: (o.metadata as { namespace?: string }).namespace, name: o.metadata.name }), o);
  return out;
}

/** Reads a field the kinds involved have (spec, status) without narrowing by kind. */
function part(o: AnyObject | undefined, field: 'spec' | 'status'): Record<string, unknown> | undefined {
  return (o as Record<string, unknown> | undefined)?.[field] as Record<string, unknown> | undefined;
}

function replicas(o: AnyObject | undefined): number {
  return (part(o, 'spec')?.replicas as number | undefined) ?? 0;
}

function nodeReady(snapshot: ControllerSnapshot, name: string): boolean | undefined {
  const node = snapshot.objects.Node.find((n) => n.metadata.name === name);
  if (!node) return undefined;
  return conditionOf(node.status?.conditions, 'Ready')?.status === 'True';
}

function schedulerDeletion(pod: Pod, snapshot: ControllerSnapshot): EventInput {
  const node = pod.spec.nodeName ?? '';
  const ready = nodeReady(snapshot, node);
  const taints = snapshot.objects.Node.find((n) => n.metadata.name === node)?.spec?.taints;
  const evicting = untolerated(taints, pod.spec.tolerations ?? [], ['NoExecute']);
  if (evicting.length > 0) {
    return { involved: involvedOf(pod), type: 'Normal', reason: 'TaintManagerEviction', message: `Marking for deletion Pod ${namespaceOf(pod)}/${pod.metadata.name}: node ${node} has taint ${evicting[0]!.key}:NoExecute`, component: EventSource.scheduler };
  }
  const involved = involvedOf(pod);
  const base = { involved, component: EventSource.scheduler };
  if (ready === undefined) return { ...base, type: 'Warning', reason: 'NodeGone', message: `Deleting pod: node ${node} was removed from the cluster` };
  if (!ready) return { ...base, type: 'Warning', reason: 'Evicted', message: `Evicted from node ${node}: not ready for longer than the eviction timeout` };
  return { ...base, type: 'Warning', reason: 'NodeMismatch', message: `Deleting pod: node ${node} no longer matches its nodeSelector or grove.io/arch` };
}

function podChangeEvents(controller: string, change: ObjectChange, before: AnyObject | undefined, snapshot: ControllerSnapshot): EventInput[] {
  if (change.op === 'put') {
    const pod = change.object as Pod;
    const owner = controllerOf(pod);
    if (!before) {
      const component = owner ? CREATOR[owner.kind] : undefined;
      return owner && component ? [{ involved: ownerInvolved(owner, namespaceOf(pod)), type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${pod.metadata.name}`, component }] : [];
    }
    const wasBound = (before as Pod).spec.nodeName;
    if (pod.spec.nodeName !== undefined && wasBound === undefined) {
      return [{ involved: involvedOf(before as Pod), type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${namespaceOf(pod)}/${pod.metadata.name} to ${pod.spec.nodeName}`, component: EventSource.scheduler }];
    }
    return [];
  }
  if (change.op === 'status') {
    if (!before) return [];
    const pod = before as Pod;
    const status = change.status as PodStatus;
    if (controller === 'pod-status') return podStatusEvents(pod, pod.status, status);
    if (controller === 'scheduler') {
      const now = conditionOf(status.conditions, 'PodScheduled');
      const old = conditionOf(pod.status?.conditions, 'PodScheduled');
      if (now?.status === 'False' && now.message !== undefined && now.message !== old?.message) {
        return [{ involved: involvedOf(pod), type: 'Warning', reason: 'FailedScheduling', message: now.message, component: EventSource.scheduler }];
      }
    }
    return [];
  }
  // delete
  if (!before) return [];
  const pod = before as Pod;
  const out: EventInput[] = [];
  const owner = controllerOf(pod);
  if (controller === 'scheduler') out.push(schedulerDeletion(pod, snapshot));
  else if (owner && CREATOR[owner.kind] && CREATOR[owner.kind]!.startsWith(controller)) {
    out.push({ involved: ownerInvolved(owner, namespaceOf(pod)), type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${pod.metadata.name}`, component: CREATOR[owner.kind]! });
  }
  out.push(...podKillingEvents(pod));
  return out;
}

function scalingEvents(change: ObjectChange, before: AnyObject | undefined): EventInput[] {
  if (change.op !== 'put') return [];
  const from = replicas(before);
  const to = replicas(change.object);
  if (from === to) return [];
  const owner = controllerOf(change.object);
  if (!owner || owner.kind !== 'Deployment') return [];
  const rs = change.object.metadata.name;
  return [{ involved: ownerInvolved(owner, namespaceOf(change.object)), type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${to > from ? 'up' : 'down'} replica set ${rs} from ${from} to ${to}`, component: EventSource.deployment }];
}

function jobEvents(change: ObjectChange, before: AnyObject | undefined): EventInput[] {
  if (change.op === 'put' && !before) {
    const owner = controllerOf(change.object);
    if (owner?.kind === 'CronJob') return [{ involved: ownerInvolved(owner, namespaceOf(change.object)), type: 'Normal', reason: 'SuccessfulCreate', message: `Created job ${change.object.metadata.name}`, component: EventSource.cronJob }];
    return [];
  }
  if (change.op !== 'status' || !before) return [];
  const conditions = (change.status as { conditions?: Condition[] } | undefined)?.conditions;
  const oldConditions = part(before, 'status')?.conditions as Condition[] | undefined;
  const involved = involvedOf(before);
  if (conditionOf(conditions, 'Complete')?.status === 'True' && conditionOf(oldConditions, 'Complete')?.status !== 'True') {
    return [{ involved, type: 'Normal', reason: 'Completed', message: 'Job completed', component: EventSource.job }];
  }
  const failed = conditionOf(conditions, 'Failed');
  if (failed?.status === 'True' && conditionOf(oldConditions, 'Failed')?.status !== 'True') {
    return [{ involved, type: 'Warning', reason: failed.reason ?? 'Failed', message: failed.message ?? 'Job failed', component: EventSource.job }];
  }
  return [];
}

/** A node left without a pod CIDR (node-ipam.ts): Kubernetes' CIDRNotAvailable, once per transition. */
function nodeCidrEvents(change: ObjectChange, before: AnyObject | undefined): EventInput[] {
  if (change.op !== 'status' || !before) return [];
  const now = conditionOf((change.status as { conditions?: Condition[] } | undefined)?.conditions, NETWORK_UNAVAILABLE);
  const old = conditionOf(part(before, 'status')?.conditions as Condition[] | undefined, NETWORK_UNAVAILABLE);
  if (now?.status !== 'True' || now.reason !== CIDR_NOT_AVAILABLE || (old?.status === 'True' && old.reason === CIDR_NOT_AVAILABLE)) return [];
  return [{ involved: involvedNode(before.metadata.name), type: 'Warning', reason: CIDR_NOT_AVAILABLE, message: now.message ?? 'no pod CIDR available', component: EventSource.node }];
}

/** Cordon shows as the node lifecycle controller adding the unschedulable taint (node-taints.ts). */
function nodeEvents(change: ObjectChange, before: AnyObject | undefined): EventInput[] {
  if (change.op === 'status') return nodeCidrEvents(change, before);
  if (change.op !== 'put' || !before) return [];
  const cordonTaint = (o: AnyObject) => ((part(o, 'spec')?.taints as Taint[] | undefined) ?? []).some((t) => t.key === UNSCHEDULABLE_TAINT_KEY);
  const was = cordonTaint(before);
  const is = cordonTaint(change.object);
  if (was === is) return [];
  const name = change.object.metadata.name;
  const reason = is ? 'NodeNotSchedulable' : 'NodeSchedulable';
  return [{ involved: involvedNode(name), type: 'Normal', reason, message: `Node ${name} status is now: ${reason}`, component: EventSource.node }];
}

/**
 * A Service's slices were written: say once what keeps pods out of them (a selector matching
 * nothing, a port name no container has). Slices are written only on change, so a problem that
 * stays is not repeated every pass.
 */
function endpointSliceEvents(change: ObjectChange, snapshot: ControllerSnapshot, told: Set<string>): EventInput[] {
  if (change.op !== 'put') return [];
  const owner = controllerOf(change.object);
  const ns = namespaceOf(change.object);
  const svc = owner && snapshot.objects.Service.find((s) => s.metadata.uid === owner.uid && namespaceOf(s) === ns);
  if (!svc || told.has(owner.uid)) return [];
  told.add(owner.uid);
  return servicePortProblems(svc, snapshot.objects.Pod).map((p) => ({ involved: involvedOf(svc), type: 'Warning', reason: p.reason, message: p.message, component: EventSource.endpointSlice }));
}

/** The events of `changes`, which the controller named `controller` made from `snapshot` (and which were committed). */
export function controllerEvents(controller: string, snapshot: ControllerSnapshot, changes: readonly ObjectChange[]): EventInput[] {
  const objects = indexSnapshot(snapshot);
  const out: EventInput[] = [];
  const servicesTold = new Set<string>();
  for (const change of changes) {
    const ref: ObjectRef = change.op === 'put' ? { kind: change.object.kind, name: change.object.metadata.name, ...((change.object.metadata as { namespace?: string }).namespace !== undefined ? { namespace: (change.object.metadata as { namespace?: string }).namespace! } : {}) } : change.ref;
    const before = objects.get(key(ref));
    switch (ref.kind) {
      case 'Pod':
        out.push(...podChangeEvents(controller, change, before, snapshot));
        break;
      case 'ReplicaSet':
        if (controller === 'deployment') out.push(...scalingEvents(change, before));
        break;
      case 'Job':
        out.push(...jobEvents(change, before));
        break;
      case 'Node':
        out.push(...nodeEvents(change, before));
        break;
      case 'EndpointSlice':
        if (controller === 'endpointslice') out.push(...endpointSliceEvents(change, snapshot, servicesTold));
        break;
      case 'Ingress':
        if (controller === 'ingress-status') out.push(...ingressStatusEvents(change, before as Ingress | undefined, snapshot));
        break;
      default:
        break;
    }
  }
  return out;
}
