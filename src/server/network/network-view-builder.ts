/**
 * PURE: Node, Service and EndpointSlice objects → the pieces of the cluster network view
 * (src/core/network/view.ts) the server publishes: the nodes with an InternalIP (and their pod
 * CIDR once allocated), and every Service with its endpoints from the slices labelled with its
 * name (the controller's, and users' for Services without a selector).
 */
import type { Node } from '../../core/objects/cluster.js';
import type { EndpointSlice, Service } from '../../core/objects/service.js';
import { SERVICE_NAME_LABEL } from '../../core/objects/service-constants.js';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from '../../core/objects/annotations.js';
import { composeObjectName } from '../../core/objects/names.js';
import { isIngressNode } from '../../core/objects/ingress-constants.js';
import type { EndpointView, NetworkNode, ServiceView } from '../../core/network/view.js';
import { ipv4ToNumber } from '../../core/network/ipv4.js';
import { ENABLE_LB_LABEL, internalIP, loadBalancerNodes } from '../controllers/service-lb.js';

export function networkNodes(nodes: readonly Node[]): NetworkNode[] {
  const out: NetworkNode[] = [];
  for (const node of nodes) {
    const ip = internalIP(node);
    if (ip === undefined || ipv4ToNumber(ip) === undefined) continue;
    const podCIDR = node.spec?.podCIDR;
    const ingress = isIngressNode(node.metadata.labels);
    out.push({ name: node.metadata.name, internalIP: ip, ...(podCIDR ? { podCIDR } : {}), ...(ingress ? { ingress } : {}) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function endpointsOf(svc: Service, slices: readonly EndpointSlice[]): EndpointView[] {
  const out: EndpointView[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const ports: Record<string, number> = {};
    for (const p of slice.ports ?? []) if (p.port !== undefined) ports[p.name ?? ''] = p.port;
    for (const e of slice.endpoints) {
      const ip = e.addresses[0]!;
      if (seen.has(ip) || ipv4ToNumber(ip) === undefined) continue;
      seen.add(ip);
      const ref = e.targetRef?.name ? `${e.targetRef.namespace ?? svc.metadata.namespace}/${e.targetRef.name}` : undefined;
      out.push({
        ip,
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        // Kubernetes: an absent `ready` means ready.
        ready: e.conditions?.ready ?? true,
        ...(e.conditions?.terminating ? { terminating: true } : {}),
        ...(e.hostname ? { hostname: e.hostname } : {}),
        ...(ref ? { targetRef: ref } : {}),
        ports: { ...ports },
      });
    }
  }
  return out.sort((a, b) => (ipv4ToNumber(a.ip)! - ipv4ToNumber(b.ip)!));
}

export function serviceView(svc: Service, slices: readonly EndpointSlice[], nodes: readonly Node[]): ServiceView {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
  const labelled = nodes.some((n) => n.metadata.labels?.[ENABLE_LB_LABEL] === 'true');
  return {
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name,
    type,
    ...(clusterIP && type !== 'ExternalName' ? { clusterIP } : {}),
    ...(type === 'ExternalName' && spec.externalName ? { externalName: spec.externalName } : {}),
    ...(spec.sessionAffinity === 'ClientIP' ? { sessionAffinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
    ports: type === 'ExternalName' ? [] : (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) })),
    ...(type === 'LoadBalancer' && labelled ? { loadBalancerNodes: loadBalancerNodes(nodes).map((n) => n.metadata.name) } : {}),
    ...(spec.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    ...composeNameOf(svc),
    endpoints: type === 'ExternalName' ? [] : endpointsOf(svc, slices),
  };
}

const COMPOSE_DNS_NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/;

/**
 * A compose service's Service (grove apply of a compose file) whose name was derived from the
 * compose name (`my_db` → `my-db`): the compose name, so the project's pods resolve it as docker
 * compose does. Only the service's own Service (an alias Service carries the same labels but its
 * own name), and only names DNS can carry as one label (a dot would make it two).
 */
function composeNameOf(svc: Service): { composeName?: string } {
  const labels = svc.metadata.labels ?? {};
  const compose = labels[COMPOSE_SERVICE_LABEL]?.toLowerCase();
  if (compose === undefined || labels[COMPOSE_PROJECT_LABEL] === undefined || compose === svc.metadata.name) return {};
  if (composeObjectName(compose) !== svc.metadata.name || !COMPOSE_DNS_NAME.test(compose)) return {};
  return { composeName: compose };
}

/** Every Service's view, keyed "<namespace>/<name>". */
export function serviceViews(services: readonly Service[], slices: readonly EndpointSlice[], nodes: readonly Node[]): Map<string, ServiceView> {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!name) continue;
    const key = `${slice.metadata.namespace ?? 'default'}/${name}`;
    if (!byService.has(key)) byService.set(key, []);
    byService.get(key)!.push(slice);
  }
  const out = new Map<string, ServiceView>();
  for (const svc of services) {
    const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
    out.set(key, serviceView(svc, byService.get(key) ?? [], nodes));
  }
  return out;
}
