/**
 * The overlay planner (pure: view + what the host has → ip / bridge batch lines), the parsers
 * of iproute2's JSON, and the pod network decision and egress rules (issue 15, item 1).
 */
import { networkView } from '../support/network-view.js';
import { describe, expect, it } from 'vitest';
import type { ClusterNetworkView } from '../../src/core/network/view.js';
import { parseDevice, parseFdb, parseLinkOf, parseNeighbours, parseRoutes } from '../../agent/src/runtime/net/host-links.js';
import { desiredOverlay, overlayNames, planOverlay, podMtu, vtepMac, type ObservedOverlay } from '../../agent/src/runtime/net/overlay-plan.js';
import { egressNames, egressRemoval, egressRules, missingJumps, podNetworkFor } from '../../agent/src/runtime/net/pod-egress.js';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';

function view(o: Partial<ClusterNetworkView> = {}): ClusterNetworkView {
  return networkView({
    nodes: [
      { name: 'a', internalIP: '192.168.1.10', podCIDR: '10.42.0.0/24' },
      { name: 'b', internalIP: '192.168.1.11', podCIDR: '10.42.1.0/24' },
      { name: 'c', internalIP: '192.168.1.12', podCIDR: '10.42.2.0/24' },
      { name: 'd', internalIP: '192.168.1.13' },
    ],
    ...o,
  });
}

const names = overlayNames('ab12cd');
const eth0 = { name: 'eth0', mtu: 1500 };
const nothing: ObservedOverlay = { routes: [], neighbours: [], fdb: [] };

describe('overlay names and MACs', () => {
  it('names the device by tag and picks a route protocol from it', () => {
    expect(names).toEqual({ device: 'grvx-ab12cd', routeProto: 100 + (0xab12 % 150) });
    expect(netTag('/var/lib/grove')).toMatch(/^[0-9a-f]{6}$/);
    expect(`grvx-${netTag('/x')}`.length).toBeLessThanOrEqual(15);
  });

  it('derives a locally administered MAC from the pod CIDR', () => {
    expect(vtepMac('10.42.1.0/24')).toBe('0e:6b:0a:2a:01:00');
    expect(vtepMac('10.42.255.0/24')).toBe('0e:6b:0a:2a:ff:00');
  });
});

describe('planOverlay, vxlan', () => {
  it('from nothing: the device, its address, then a route, neighbour and fdb entry per peer (nodes without a pod CIDR skipped)', () => {
    const desired = desiredOverlay(view(), 'a', names, eth0);
    expect(planOverlay(nothing, desired)).toEqual({
      ip: [
        'link add grvx-ab12cd address 0e:6b:0a:2a:00:00 mtu 1450 type vxlan id 1 local 192.168.1.10 dev eth0 dstport 8472 nolearning',
        'addr add 10.42.0.0/32 dev grvx-ab12cd',
        'link set grvx-ab12cd up',
        `route replace 10.42.1.0/24 via 10.42.1.0 dev grvx-ab12cd onlink proto ${names.routeProto}`,
        `route replace 10.42.2.0/24 via 10.42.2.0 dev grvx-ab12cd onlink proto ${names.routeProto}`,
        'neigh replace 10.42.1.0 lladdr 0e:6b:0a:2a:01:00 dev grvx-ab12cd nud permanent',
        'neigh replace 10.42.2.0 lladdr 0e:6b:0a:2a:02:00 dev grvx-ab12cd nud permanent',
      ],
      bridge: ['fdb replace 0e:6b:0a:2a:01:00 dev grvx-ab12cd dst 192.168.1.11 self permanent', 'fdb replace 0e:6b:0a:2a:02:00 dev grvx-ab12cd dst 192.168.1.12 self permanent'],
    });
  });

  const programmed: ObservedOverlay = {
    device: { vni: 1, port: 8472, local: '192.168.1.10', underlying: 'eth0', mtu: 1450, mac: '0e:6b:0a:2a:00:00', addresses: ['10.42.0.0/32'], up: true },
    routes: [
      { dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'grvx-ab12cd', onlink: true },
      { dst: '10.42.2.0/24', gateway: '10.42.2.0', dev: 'grvx-ab12cd', onlink: true },
    ],
    neighbours: [
      { ip: '10.42.1.0', mac: '0e:6b:0a:2a:01:00' },
      { ip: '10.42.2.0', mac: '0e:6b:0a:2a:02:00' },
    ],
    fdb: [
      { mac: '0e:6b:0a:2a:01:00', dst: '192.168.1.11' },
      { mac: '0e:6b:0a:2a:02:00', dst: '192.168.1.12' },
    ],
  };

  it('nothing when the host has it all already', () => {
    expect(planOverlay(programmed, desiredOverlay(view(), 'a', names, eth0))).toEqual({ ip: [], bridge: [] });
  });

  it('a node that leaves: its route, neighbour and fdb entry go; a node that moved: its fdb entry follows', () => {
    const v = view({ nodes: [view().nodes[0]!, { name: 'c', internalIP: '192.168.1.99', podCIDR: '10.42.2.0/24' }] });
    expect(planOverlay(programmed, desiredOverlay(v, 'a', names, eth0))).toEqual({
      ip: [`route del 10.42.1.0/24 proto ${names.routeProto} dev grvx-ab12cd`, 'neigh del 10.42.1.0 dev grvx-ab12cd'],
      bridge: ['fdb del 0e:6b:0a:2a:01:00 dev grvx-ab12cd dst 192.168.1.11 self', 'fdb replace 0e:6b:0a:2a:02:00 dev grvx-ab12cd dst 192.168.1.99 self permanent'],
    });
  });

  it('the last peer gone: the device goes (and its entries with it); a one-node cluster never gets one', () => {
    const alone = view({ nodes: [view().nodes[0]!] });
    expect(planOverlay(programmed, desiredOverlay(alone, 'a', names, eth0))).toEqual({ ip: ['link del grvx-ab12cd'], bridge: [] });
    expect(planOverlay(nothing, desiredOverlay(alone, 'a', names, eth0))).toEqual({ ip: [], bridge: [] });
  });

  it('another VNI or own address remakes the device; another MTU is set in place', () => {
    const remade = planOverlay(programmed, desiredOverlay(view({ overlay: { backend: 'vxlan', vni: 7, port: 8472 } }), 'a', names, eth0));
    expect(remade.ip.slice(0, 2)).toEqual(['link del grvx-ab12cd', 'link add grvx-ab12cd address 0e:6b:0a:2a:00:00 mtu 1450 type vxlan id 7 local 192.168.1.10 dev eth0 dstport 8472 nolearning']);
    expect(remade.bridge).toHaveLength(2);
    expect(planOverlay(programmed, desiredOverlay(view(), 'a', names, { name: 'eth0', mtu: 9000 }))).toEqual({ ip: ['link set grvx-ab12cd mtu 8950'], bridge: [] });
  });

  it('this node without a pod CIDR, or not in the view: nothing of its own (and what it had goes)', () => {
    expect(desiredOverlay(view(), 'd', names, eth0).peers).toEqual([]);
    expect(planOverlay(programmed, desiredOverlay(view(), 'zz', names, eth0)).ip[0]).toBe('link del grvx-ab12cd');
  });
});

describe('planOverlay, host-gw and none', () => {
  it('host-gw: a plain route per peer, via its InternalIP; switching from vxlan removes the device', () => {
    const hostGw = view({ overlay: { backend: 'host-gw', vni: 1, port: 8472 } });
    expect(planOverlay(nothing, desiredOverlay(hostGw, 'a', names, eth0))).toEqual({
      ip: [`route replace 10.42.1.0/24 via 192.168.1.11 proto ${names.routeProto}`, `route replace 10.42.2.0/24 via 192.168.1.12 proto ${names.routeProto}`],
      bridge: [],
    });
    const plan = planOverlay({ ...nothing, device: { mtu: 1450, mac: 'x', addresses: [], up: true }, routes: [{ dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'grvx-ab12cd', onlink: true }] }, desiredOverlay(hostGw, 'a', names, eth0));
    expect(plan.ip[0]).toBe('link del grvx-ab12cd');
    expect(plan.ip).toContain(`route replace 10.42.1.0/24 via 192.168.1.11 proto ${names.routeProto}`);
  });

  it('none: every route of ours goes', () => {
    const none = view({ overlay: { backend: 'none', vni: 1, port: 8472 } });
    const observed = { ...nothing, routes: [{ dst: '10.42.1.0/24', gateway: '192.168.1.11', dev: 'eth0', onlink: false }] };
    expect(planOverlay(observed, desiredOverlay(none, 'a', names, eth0))).toEqual({ ip: [`route del 10.42.1.0/24 proto ${names.routeProto} dev eth0`], bridge: [] });
  });

  it('pods get the underlying MTU less 50 on vxlan, all of it on host-gw', () => {
    expect(podMtu('vxlan', eth0)).toBe(1450);
    expect(podMtu('host-gw', eth0)).toBe(1500);
    expect(podMtu('vxlan', undefined)).toBeUndefined();
  });
});

describe('iproute2 JSON', () => {
  it('reads the device, routes, neighbours, fdb and the link of an address (captured from iproute2 6.1)', () => {
    const link = '[{"ifindex":4,"ifname":"grvx-t","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"address":"0e:6b:0a:2a:00:00","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.77.1","link":"dm0","port":8472,"learning":false}}}]';
    const addr = '[{"ifindex":4,"ifname":"grvx-t","mtu":1450,"addr_info":[{"family":"inet","local":"10.42.0.0","prefixlen":32}]}]';
    expect(parseDevice(link, addr)).toEqual({ vni: 1, port: 8472, local: '192.168.77.1', underlying: 'dm0', mtu: 1450, mac: '0e:6b:0a:2a:00:00', addresses: ['10.42.0.0/32'], up: true });
    expect(parseDevice('', '')).toBeUndefined();
    expect(parseRoutes('[{"dst":"10.42.1.0/24","gateway":"10.42.1.0","dev":"grvx-t","flags":["onlink"]},{"dst":"10.42.2.0/24","gateway":"192.168.77.3","dev":"dm0","flags":[]}]')).toEqual([
      { dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'grvx-t', onlink: true },
      { dst: '10.42.2.0/24', gateway: '192.168.77.3', dev: 'dm0', onlink: false },
    ]);
    expect(parseNeighbours('[{"dst":"10.42.1.0","lladdr":"0e:6b:0a:2a:01:00","state":["PERMANENT"]}]')).toEqual([{ ip: '10.42.1.0', mac: '0e:6b:0a:2a:01:00' }]);
    expect(parseFdb('[{"mac":"0e:6b:0a:2a:01:00","dst":"192.168.77.2","flags":["self"],"state":"permanent"},{"mac":"33:33:00:00:00:01","flags":["self"]}]')).toEqual([{ mac: '0e:6b:0a:2a:01:00', dst: '192.168.77.2' }]);
    const all = '[{"ifname":"lo","mtu":65536,"addr_info":[{"local":"127.0.0.1","prefixlen":8}]},{"ifname":"eth0","mtu":1400,"addr_info":[{"local":"192.168.77.1","prefixlen":24}]}]';
    expect(parseLinkOf(all, '192.168.77.1')).toEqual({ name: 'eth0', mtu: 1400 });
    expect(parseLinkOf(all, '192.168.77.9')).toBeUndefined();
  });
});

describe('pod network from the view', () => {
  const local = { bridge: 'grove0', ipamDataDir: '/d/cni/ipam', podSubnet: '10.88.0.0/16' };

  it("uses this node's pod CIDR, ipMasq off, the overlay's MTU; egress for the cluster CIDR", () => {
    expect(podNetworkFor(view(), 'b', local, 1450)).toEqual({
      settings: { bridge: 'grove0', subnet: '10.42.1.0/24', ipamDataDir: '/d/cni/ipam', ipMasq: false, forceAddress: true, mtu: 1450 },
      egress: { podCIDR: '10.42.1.0/24', clusterCIDR: '10.42.0.0/16' },
    });
  });

  it('waits while this node has no pod CIDR; backend none keeps the local subnet and the plugin NAT', () => {
    expect(podNetworkFor(view(), 'd', local, 1450)).toEqual({ pending: 'node d has no pod CIDR yet: the server assigns one (grove describe node d)' });
    expect(podNetworkFor(view({ overlay: { backend: 'none', vni: 1, port: 8472 } }), 'd', local, undefined)).toEqual({ settings: { bridge: 'grove0', subnet: '10.88.0.0/16', ipamDataDir: '/d/cni/ipam' } });
  });

  it('egress rules: pod to pod unNATed, out of the cluster masqueraded, forwarding accepted; jumps added once, removed with the chains', () => {
    const n = egressNames('ab12cd');
    expect(n.nat.length).toBeLessThanOrEqual(28);
    const rules = egressRules(n, { podCIDR: '10.42.1.0/24', clusterCIDR: '10.42.0.0/16' });
    expect(rules).toContain('-A GRV-ab12cd-PODEGRESS -s 10.42.1.0/24 -d 10.42.0.0/16 -m comment --comment "grove: pod to pod keeps its address" -j RETURN');
    expect(rules).toContain('-A GRV-ab12cd-PODEGRESS -s 10.42.1.0/24 -m comment --comment "grove: pods leaving the cluster network" -j MASQUERADE --random-fully');
    expect(rules).toContain('-A GRV-ab12cd-PODFWD -d 10.42.0.0/16 -m comment --comment "grove: pod network forwarding" -j ACCEPT');
    expect(missingJumps('*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n', n)).toBe('*nat\n-I POSTROUTING 1 -j GRV-ab12cd-PODEGRESS\nCOMMIT\n*filter\n-I FORWARD 1 -j GRV-ab12cd-PODFWD\nCOMMIT\n');
    const saved = '*nat\n:GRV-ab12cd-PODEGRESS - [0:0]\n-A POSTROUTING -j GRV-ab12cd-PODEGRESS\nCOMMIT\n*filter\n:GRV-ab12cd-PODFWD - [0:0]\n-A FORWARD -j GRV-ab12cd-PODFWD\nCOMMIT\n';
    expect(missingJumps(saved, n)).toBe('');
    expect(egressRemoval(saved, n)).toBe('*nat\n-D POSTROUTING -j GRV-ab12cd-PODEGRESS\n-F GRV-ab12cd-PODEGRESS\n-X GRV-ab12cd-PODEGRESS\nCOMMIT\n*filter\n-D FORWARD -j GRV-ab12cd-PODFWD\n-F GRV-ab12cd-PODFWD\n-X GRV-ab12cd-PODFWD\nCOMMIT\n');
    expect(egressRemoval('*nat\nCOMMIT\n', n)).toBe('');
  });
});
