/**
 * Test-only: a ClusterNetworkView with Grove's default cluster settings (10.42.0.0/16 pods,
 * 10.43.0.0/16 Services, cluster.local, VXLAN 1/8472) around the nodes and Services a test
 * gives, for the overlay, proxier and DNS tests.
 */
import type { ClusterNetworkView } from '../../src/core/network/view.js';

export function networkView(parts: Partial<ClusterNetworkView> = {}): ClusterNetworkView {
  return {
    revision: 1,
    clusterCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    clusterDomain: 'cluster.local',
    overlay: { backend: 'vxlan', vni: 1, port: 8472 },
    nodes: [],
    services: [],
    ...parts,
  };
}
