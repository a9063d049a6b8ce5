/**
 * A hand-made ClusterNetworkView with one Service of each kind the cluster DNS answers for
 * (ClusterIP with named ports, headless with hostnames, not-ready and terminating endpoints,
 * ExternalName), for the resolver's unit tests and the DNS server's integration test.
 */
import type { ClusterNetworkView, ServiceView } from '../../src/core/network/view.js';
import { networkView } from './network-view.js';

export function dnsTestView(overrides: Partial<ClusterNetworkView> = {}): ClusterNetworkView {
  const services: ServiceView[] = [
    {
      namespace: 'shop',
      name: 'db',
      type: 'ClusterIP',
      clusterIP: '10.43.0.10',
      ports: [
        { name: 'postgres', protocol: 'TCP', port: 5432 },
        { name: 'metrics', protocol: 'UDP', port: 9100 },
      ],
      endpoints: [{ ip: '10.42.1.5', ready: true, ports: { postgres: 5432, metrics: 9100 } }],
    },
    {
      namespace: 'shop',
      name: 'peers',
      type: 'ClusterIP',
      ports: [{ name: 'gossip', protocol: 'TCP', port: 7000 }],
      endpoints: [
        { ip: '10.42.1.6', ready: true, hostname: 'peer-0', ports: { gossip: 7946 } },
        { ip: '10.42.2.7', ready: true, ports: { gossip: 7946 } },
        { ip: '10.42.2.8', ready: false, hostname: 'peer-2', ports: { gossip: 7946 } },
        { ip: '10.42.2.9', ready: true, terminating: true, hostname: 'peer-3', ports: { gossip: 7946 } },
      ],
    },
    { namespace: 'shop', name: 'mail', type: 'ExternalName', externalName: 'smtp.example.org', ports: [], endpoints: [] },
    { namespace: 'shop', name: 'alias', type: 'ExternalName', externalName: 'db.shop.svc.cluster.local', ports: [], endpoints: [] },
    { namespace: 'web', name: 'front', type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ name: '', protocol: 'TCP', port: 80, nodePort: 30080 }], endpoints: [] },
  ];
  return networkView({ revision: 7, nodes: [{ name: 'n1', internalIP: '192.168.1.10', podCIDR: '10.42.1.0/24' }], services, ...overrides });
}
