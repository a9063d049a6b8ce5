/**
 * PURE: the EndpointSlice controller (issue 15, docs/networking.md "Services"). For each Service
 * with a selector, the pods of its namespace that the selector matches become endpoints of
 * EndpointSlices labelled `kubernetes.io/service-name` and managed-by Grove, owned by the
 * Service (so they go with it):
 *
 * - an endpoint is ready when its pod's Ready condition is True AND its node is Ready and
 *   online (a node whose MQTT session dropped takes its endpoints out at once, without waiting
 *   for the grace that makes it NotReady); serving = the pod's readiness; terminating = the pod
 *   is being deleted (ready then false). publishNotReadyAddresses makes every endpoint ready.
 * - pods without an IP yet, and pods that ended, are no endpoints.
 * - targetPort by number, or by name resolved per pod from its containers' ports (protocol
 *   too); a pod that has no container port of that name is left out (servicePortProblems
 *   says which, for the Service's events).
 * - pods whose named ports resolve to different numbers land in different slices, one per
 *   distinct port set, as Kubernetes groups them; a slice holds at most 100 endpoints.
 * - a selector matching nothing leaves one empty slice (kubectl shows <unset>).
 *
 * Slice names are the Service's plus a hash of the port set (and a chunk number), so the same
 * pods always give the same slices and nothing is written when nothing changed.
 */
import { createHash } from 'node:crypto';
import type { ObjectChange } from '../../core/objects/changes.js';
import { GROVE_SLICE_MANAGER, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../../core/objects/service-constants.js';
import type { Endpoint, EndpointPort, EndpointSlice, Service, ServicePort } from '../../core/objects/service.js';
import type { Controller, ControllerSnapshot } from './controller.js';
import { conditionOf, controllerRef, isBeingDeleted, isControlledBy, isPodReady, isPodTerminal, matchesLabels, namespaceOf, sameData, type Pod } from './object-kit.js';

/** Kubernetes' controller default (--max-endpoints-per-slice). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

type PortSet = EndpointPort[];

/** The Services whose endpoints Grove computes: a selector, and not ExternalName. */
export function selectsPods(svc: Service): boolean {
  return (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** The container port a Service port reaches on `pod`; undefined when a named port matches no container port. */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec.containers) {
    const found = c.ports?.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
    if (found) return found.containerPort;
  }
  return undefined;
}

/** The pods a Service's selector matches that can be endpoints (an IP, not ended), by name. */
export function selectedPods(svc: Service, pods: readonly Pod[]): Pod[] {
  const ns = namespaceOf(svc);
  return pods
    .filter((p) => namespaceOf(p) === ns && matchesLabels(svc.spec?.selector, p.metadata.labels) && !isPodTerminal(p))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

export interface ServiceProblem {
  reason: 'NoPodsSelected' | 'PortNameNotFound';
  message: string;
}

/** What keeps pods out of a Service's endpoints, for its events: a selector matching nothing, a port name no container has. */
export function servicePortProblems(svc: Service, pods: readonly Pod[]): ServiceProblem[] {
  if (!selectsPods(svc)) return [];
  const selected = selectedPods(svc, pods);
  if (selected.length === 0) {
    const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    return [{ reason: 'NoPodsSelected', message: `selector ${selector} matches no pod in namespace ${namespaceOf(svc)}: the Service has no endpoints` }];
  }
  const out: ServiceProblem[] = [];
  for (const port of svc.spec?.ports ?? []) {
    if (typeof port.targetPort !== 'string') continue;
    const missing = selected.filter((p) => resolveTargetPort(port, p) === undefined).map((p) => p.metadata.name);
    if (missing.length) {
      const shown = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ` and ${missing.length - 3} more` : '');
      out.push({ reason: 'PortNameNotFound', message: `no container port named "${port.targetPort}" (${port.protocol ?? 'TCP'}) in pod ${shown}: left out of the Service's endpoints` });
    }
  }
  return out;
}

interface NodeHealth {
  ready: boolean;
}

/** Node name → whether endpoints on it may take traffic: Ready and (when it reported since the server started) online. */
function nodeHealth(snapshot: ControllerSnapshot): Map<string, NodeHealth> {
  const out = new Map<string, NodeHealth>();
  for (const node of snapshot.objects.Node) {
    const ready = conditionOf(node.status?.conditions, 'Ready')?.status === 'True';
    const report = snapshot.reports.get(node.metadata.name);
    out.set(node.metadata.name, { ready: ready && (report === undefined || report.online) });
  }
  return out;
}

function endpointOf(svc: Service, pod: Pod, nodes: Map<string, NodeHealth>): Endpoint {
  const nodeName = pod.spec.nodeName;
  const terminating = isBeingDeleted(pod);
  const serving = isPodReady(pod) && (nodeName === undefined || nodes.get(nodeName)?.ready === true);
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP;
  return {
    addresses: [ip!],
    conditions: { ready, serving, terminating },
    ...(nodeName ? { nodeName } : {}),
    // The per-pod DNS name <hostname>.<service>: only when the pod's subdomain names this Service (Kubernetes' rule).
    ...(pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? { hostname: pod.spec.hostname } : {}),
    targetRef: { kind: 'Pod', namespace: namespaceOf(pod), name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
  };
}

/** The slices a Service should have: name → [ports, endpoints]. */
function wantedSlices(svc: Service, pods: readonly Pod[], nodes: Map<string, NodeHealth>): Map<string, { ports: PortSet; endpoints: Endpoint[] }> {
  const groups = new Map<string, { ports: PortSet; endpoints: Endpoint[] }>();
  const ports = svc.spec?.ports ?? [];
  for (const pod of selectedPods(svc, pods)) {
    if (!(pod.status?.podIPs?.[0]?.ip || pod.status?.podIP)) continue;
    const resolved: PortSet = [];
    for (const p of ports) {
      const target = resolveTargetPort(p, pod);
      if (target === undefined) break;
      resolved.push({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: target });
    }
    if (resolved.length !== ports.length) continue;
    const key = JSON.stringify(resolved);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports: resolved, endpoints: [] }));
    group.endpoints.push(endpointOf(svc, pod, nodes));
  }
  const out = new Map<string, { ports: PortSet; endpoints: Endpoint[] }>();
  const base = svc.metadata.name;
  if (groups.size === 0) out.set(`${base}-${portSetHash([])}`, { ports: [], endpoints: [] });
  for (const group of groups.values()) {
    const hash = portSetHash(group.ports);
    for (let i = 0; i * MAX_ENDPOINTS_PER_SLICE < group.endpoints.length; i++) {
      out.set(i === 0 ? `${base}-${hash}` : `${base}-${hash}-${i}`, { ports: group.ports, endpoints: group.endpoints.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE) });
    }
  }
  return out;
}

/** 5 hex characters of the port set: the same ports always name the same slice. */
function portSetHash(ports: PortSet): string {
  return createHash('sha256').update(JSON.stringify(ports)).digest('hex').slice(0, 5);
}

function isManagedSliceOf(slice: EndpointSlice, svc: Service): boolean {
  return slice.metadata.labels?.[MANAGED_BY_LABEL] === GROVE_SLICE_MANAGER && isControlledBy(slice, svc);
}

/** The slice as the controller writes it (metadata without what the server owns). */
function sliceObject(svc: Service, name: string, ports: PortSet, endpoints: Endpoint[], existing?: EndpointSlice): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: namespaceOf(svc),
      labels: { ...svc.metadata.labels, [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: GROVE_SLICE_MANAGER },
      ownerReferences: [controllerRef(svc)],
      ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

/** Whether the stored slice already says what `wanted` says (labels, owner, ports, endpoints). */
function sameSlice(stored: EndpointSlice, wanted: EndpointSlice): boolean {
  return (
    sameData(stored.metadata.labels ?? {}, wanted.metadata.labels) &&
    sameData(stored.metadata.ownerReferences ?? [], wanted.metadata.ownerReferences) &&
    sameData(stored.ports ?? [], wanted.ports ?? []) &&
    sameData(stored.endpoints, wanted.endpoints)
  );
}

export function endpointSliceController(): Controller {
  return {
    name: 'endpointslice',
    reconcile(snapshot) {
      const changes: ObjectChange[] = [];
      const nodes = nodeHealth(snapshot);
      const podsByNs = new Map<string, Pod[]>();
      for (const pod of snapshot.objects.Pod) {
        const ns = namespaceOf(pod);
        if (!podsByNs.has(ns)) podsByNs.set(ns, []);
        podsByNs.get(ns)!.push(pod);
      }
      const slicesByOwner = new Map<string, EndpointSlice[]>();
      for (const slice of snapshot.objects.EndpointSlice) {
        if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== GROVE_SLICE_MANAGER) continue;
        const owner = slice.metadata.ownerReferences?.find((r) => r.controller)?.uid ?? '';
        if (!slicesByOwner.has(owner)) slicesByOwner.set(owner, []);
        slicesByOwner.get(owner)!.push(slice);
      }
      for (const svc of snapshot.objects.Service) {
        if (isBeingDeleted(svc)) continue;
        const existing = (slicesByOwner.get(svc.metadata.uid ?? '') ?? []).filter((s) => isManagedSliceOf(s, svc));
        const wanted = selectsPods(svc) ? wantedSlices(svc, podsByNs.get(namespaceOf(svc)) ?? [], nodes) : new Map();
        for (const [name, { ports, endpoints }] of wanted) {
          const stored = existing.find((s) => s.metadata.name === name);
          const object = sliceObject(svc, name, ports, endpoints, stored);
          if (!stored || !sameSlice(stored, object)) changes.push({ op: 'put', object });
        }
        for (const stale of existing) if (!wanted.has(stale.metadata.name)) changes.push({ op: 'delete', ref: { kind: 'EndpointSlice', namespace: namespaceOf(stale), name: stale.metadata.name } });
      }
      return { changes };
    },
  };
}
