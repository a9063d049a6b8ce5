/**
 * PURE: which UDP conntrack entries go stale when the proxier's rules change. UDP has no
 * connection end: a client that keeps sending from one port keeps its conntrack entry, and with
 * it the endpoint it was DNAT-ed to, even after that endpoint is gone (and a flow that started
 * while the service had no rules is never DNAT-ed). As kube-proxy does, the proxier deletes
 *   - the entries DNAT-ed to an endpoint that no longer serves a UDP service port (ClusterIP and NodePort);
 *   - all entries to a UDP ClusterIP port that had no endpoints and now has some.
 * Each item is one `conntrack -D` argument list (Debian `conntrack`).
 */
import type { ClusterNetworkView } from '../../../../src/core/network/view.js';
import { servingBackends } from './proxier-rules.js';

/** One UDP service port as programmed: where it listens and which endpoint IPs serve it. */
interface UdpPort {
  clusterIP: string;
  port: number;
  nodePort?: number;
  endpoints: Set<string>;
}

function udpPorts(view: ClusterNetworkView): Map<string, UdpPort> {
  const out = new Map<string, UdpPort>();
  for (const service of view.services) {
    if (service.type === 'ExternalName' || service.clusterIP === undefined) continue;
    for (const port of service.ports) {
      if (port.protocol !== 'UDP') continue;
      const withNodePort = service.type === 'NodePort' || service.type === 'LoadBalancer';
      out.set(`${service.clusterIP}:${port.port}`, {
        clusterIP: service.clusterIP,
        port: port.port,
        ...(withNodePort && port.nodePort !== undefined ? { nodePort: port.nodePort } : {}),
        endpoints: new Set(servingBackends(service, port).map((b) => b.ip)),
      });
    }
  }
  return out;
}

/**
 * `conntrack` argument lists that delete the entries `next` makes stale, sorted and without
 * repeats. `previous` is the view the host's rules were built from (at agent start there is none:
 * the rules kept from before the restart are unknown, and flushing every flow would break them).
 */
export function staleUdpFlows(previous: ClusterNetworkView, next: ClusterNetworkView): string[][] {
  const before = udpPorts(previous);
  const after = udpPorts(next);
  const out = new Map<string, string[]>();
  const add = (args: string[]): void => void out.set(args.join(' '), args);
  for (const [key, old] of before) {
    const now = after.get(key);
    for (const ip of old.endpoints) {
      if (now?.endpoints.has(ip)) continue;
      add(['-D', '-p', 'udp', '--orig-dst', old.clusterIP, '--orig-port-dst', String(old.port), '--dst-nat', ip]);
      if (old.nodePort !== undefined) add(['-D', '-p', 'udp', '--orig-port-dst', String(old.nodePort), '--dst-nat', ip]);
    }
  }
  for (const [key, now] of after) {
    if (now.endpoints.size > 0 && (before.get(key)?.endpoints.size ?? 0) === 0) {
      add(['-D', '-p', 'udp', '--orig-dst', now.clusterIP, '--orig-port-dst', String(now.port)]);
    }
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, args]) => args);
}
