import { describe, expect, it } from 'vitest';
import { staleUdpFlows } from '../../agent/src/runtime/net/proxier-conntrack.js';
import type { ClusterNetworkView, EndpointView, ServiceView } from '../../src/core/network/view.js';

function view(services: ServiceView[]): ClusterNetworkView {
  return { revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'vxlan', vni: 1, port: 8472 }, nodes: [], services };
}
const ep = (ip: string, more: Partial<EndpointView> = {}): EndpointView => ({ ip, ready: true, ports: { dns: 5353 }, ...more });
const dns = (endpoints: EndpointView[], more: Partial<ServiceView> = {}): ServiceView => ({
  namespace: 'kube-system', name: 'dns', type: 'NodePort', clusterIP: '10.43.0.53',
  ports: [{ name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 }, { name: 'dns', protocol: 'TCP', port: 53, nodePort: 30054 }], endpoints, ...more,
});

describe('staleUdpFlows', () => {
  it('deletes the flows DNAT-ed to an endpoint that stopped serving (ClusterIP and NodePort)', () => {
    expect(staleUdpFlows(view([dns([ep('10.42.0.5'), ep('10.42.1.7')])]), view([dns([ep('10.42.0.5'), ep('10.42.1.7', { ready: false })])]))).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '10.43.0.53', '--orig-port-dst', '53', '--dst-nat', '10.42.1.7'],
      ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.42.1.7'],
    ]);
  });

  it('deletes the un-NATed flows of a UDP port that gets its first endpoint', () => {
    expect(staleUdpFlows(view([dns([])]), view([dns([ep('10.42.0.5')])]))).toEqual([['-D', '-p', 'udp', '--orig-dst', '10.43.0.53', '--orig-port-dst', '53']]);
    expect(staleUdpFlows(view([]), view([dns([ep('10.42.0.5')])]))).toEqual([['-D', '-p', 'udp', '--orig-dst', '10.43.0.53', '--orig-port-dst', '53']]);
  });

  it('deletes the flows of every endpoint of a removed service, and nothing when nothing UDP changed', () => {
    expect(staleUdpFlows(view([dns([ep('10.42.0.5')], { type: 'ClusterIP' })]), view([]))).toEqual([['-D', '-p', 'udp', '--orig-dst', '10.43.0.53', '--orig-port-dst', '53', '--dst-nat', '10.42.0.5']]);
    const same = view([dns([ep('10.42.0.5')])]);
    expect(staleUdpFlows(same, view([dns([ep('10.42.0.5')], { name: 'renamed-but-same-ip' })]))).toEqual([]);
    // A TCP-only change flushes nothing: TCP ends its connections itself.
    const tcp = (ip: string) => view([dns([ep(ip)], { ports: [{ name: 'dns', protocol: 'TCP', port: 53 }] })]);
    expect(staleUdpFlows(tcp('10.42.0.5'), tcp('10.42.0.6'))).toEqual([]);
  });
});
