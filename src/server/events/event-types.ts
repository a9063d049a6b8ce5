/**
 * PURE: core/v1 Event as Grove serves it (docs/kubectl.md, "Nodes, drain and events"), and
 * EventInput, what a producer (a controller, the node reports, the eviction route) says
 * happened. The EventStore turns inputs into Events: it names them, times them and aggregates
 * repeats (count, lastTimestamp) as Kubernetes' event recorder does.
 */

/** Who an event is about: kubectl describe finds events by kind, name, namespace and uid. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects (Nodes): kubectl asks for `involvedObject.namespace=`. */
  namespace?: string;
  uid?: string;
  /** A container of a pod: `spec.containers{web}`. */
  fieldPath?: string;
}

export type EventType = 'Normal' | 'Warning';

/** Components as Kubernetes names them in `source.component` (kubectl describe's From column). */
export const EventSource = Object.freeze({
  scheduler: 'default-scheduler',
  kubelet: 'kubelet',
  replicaSet: 'replicaset-controller',
  deployment: 'deployment-controller',
  daemonSet: 'daemonset-controller',
  statefulSet: 'statefulset-controller',
  job: 'job-controller',
  cronJob: 'cronjob-controller',
  node: 'node-controller',
  eviction: 'eviction-api',
  endpointSlice: 'endpoint-slice-controller',
  ingress: 'grove-ingress-controller',
});

export interface EventInput {
  involved: InvolvedObject;
  type: EventType;
  /** UpperCamelCase, as Kubernetes: Scheduled, Pulled, BackOff, NodeNotReady … */
  reason: string;
  message: string;
  component: string;
  /** The node it happened on (kubelet events). */
  host?: string;
}

/** A type alias (not an interface) so it is an ApiObject of the watch contract. */
export type CoreEvent = {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string };
  involvedObject: InvolvedObject;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: EventType;
  eventTime: null;
  reportingComponent: string;
  reportingInstance: string;
};

/** Event messages are cut here (Kubernetes limits them to 1 KiB in events.k8s.io). */
export const MAX_EVENT_MESSAGE = 1024;
/** Reasons longer than this are a producer bug; cut rather than refused. */
const MAX_REASON = 128;

/** The involved object of a stored object (its kind, apiVersion, name, namespace, uid). */
export function involvedOf(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string } }, fieldPath?: string): InvolvedObject {
  const m = o.metadata;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: m.name,
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(fieldPath !== undefined ? { fieldPath } : {}),
  };
}

/**
 * A Node as events name it: uid = the node's name, as the kubelet does, which is one of the two
 * uids `kubectl describe node` searches by.
 */
export function involvedNode(name: string): InvolvedObject {
  return { apiVersion: 'v1', kind: 'Node', name, uid: name };
}

/** `spec.containers{web}` / `spec.initContainers{setup}`: the fieldPath of a pod's container. */
export function containerFieldPath(name: string, init = false): string {
  return `${init ? 'spec.initContainers' : 'spec.containers'}{${name}}`;
}

/** The namespace an event lives in: its object's, or "default" for cluster-scoped objects (as Kubernetes). */
export function eventNamespace(involved: InvolvedObject): string {
  return involved.namespace ?? 'default';
}

/** Inputs cut to the limits: an overlong message from a node's report cannot grow the store. */
export function boundedInput(e: EventInput): EventInput {
  const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  return { ...e, reason: cut(e.reason, MAX_REASON), message: cut(e.message, MAX_EVENT_MESSAGE) };
}

/**
 * What makes two inputs "the same event" (Kubernetes' aggregation key): the object (with uid and
 * fieldPath), type, reason, message and source. A repeat bumps count and lastTimestamp.
 */
export function aggregationKey(e: EventInput): string {
  const o = e.involved;
  return [o.kind, o.namespace ?? '', o.name, o.uid ?? '', o.fieldPath ?? '', e.type, e.reason, e.component, e.host ?? '', e.message].join('\0');
}
