/**
 * PURE: LoadBalancer Services as k3s' ServiceLB serves them (issue 15, docs/networking.md
 * "Services"): every node opens the Service's ports, or only the nodes labelled
 * `svccontroller.k3s.cattle.io/enablelb=true` when any node carries that label; the Service's
 * status.loadBalancer.ingress lists those nodes' InternalIPs (the Ready ones), so `kubectl get
 * svc` shows where to connect. Written only when it changes.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { Node } from '../../core/objects/cluster.js';
import type { LoadBalancerIngress, Service } from '../../core/objects/service.js';
import type { Controller } from './controller.js';
import { conditionOf, namespaceOf, sameData } from './object-kit.js';

export const ENABLE_LB_LABEL = 'svccontroller.k3s.cattle.io/enablelb';

export function internalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

/** The nodes that serve LoadBalancer Services, by name: the labelled ones if any node is labelled, else all. */
export function loadBalancerNodes(nodes: readonly Node[]): Node[] {
  const labelled = nodes.filter((n) => n.metadata.labels?.[ENABLE_LB_LABEL] === 'true');
  return (labelled.length ? labelled : [...nodes]).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/** The InternalIPs of the Ready ones of `nodes`, distinct, in address order (what a status lists to connect to). */
export function readyNodeAddresses(nodes: readonly Node[]): string[] {
  const ips = nodes
    .filter((n) => conditionOf(n.status?.conditions, 'Ready')?.status === 'True')
    .map(internalIP)
    .filter((ip): ip is string => ip !== undefined);
  return [...new Set(ips)].sort();
}

/** The ingress list: the Ready serving nodes' InternalIPs, in address order. */
export function loadBalancerIngress(nodes: readonly Node[]): LoadBalancerIngress[] {
  return readyNodeAddresses(loadBalancerNodes(nodes)).map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

export function serviceLoadBalancerController(): Controller {
  return {
    name: 'service-lb',
    reconcile(snapshot) {
      const changes: ObjectChange[] = [];
      const ingress = loadBalancerIngress(snapshot.objects.Node);
      for (const svc of snapshot.objects.Service as readonly Service[]) {
        const isLb = svc.spec?.type === 'LoadBalancer';
        const current = svc.status?.loadBalancer?.ingress;
        if (isLb && sameData(current ?? [], ingress) && current !== undefined) continue;
        if (!isLb && current === undefined) continue;
        const status = { ...svc.status, loadBalancer: isLb ? { ingress } : {} };
        changes.push({ op: 'status', ref: { kind: 'Service', namespace: namespaceOf(svc), name: svc.metadata.name }, status });
      }
      return { changes };
    },
  };
}
