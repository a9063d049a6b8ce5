import { describe, expect, it } from 'vitest';
import { networkView } from '../support/network-view.js';
import { buildProxyRules, proxyJumps, type ProxySelf } from '../../agent/src/runtime/net/proxier-rules.js';
import type { ClusterNetworkView, EndpointView, ServiceView } from '../../src/core/network/view.js';

const N1: ProxySelf = { nodeName: 'n1', addresses: [], tag: 't1' };

function view(services: ServiceView[]): ClusterNetworkView {
  return networkView({
    nodes: [
      { name: 'n1', internalIP: '192.168.1.10', podCIDR: '10.42.0.0/24' },
      { name: 'n2', internalIP: '192.168.1.11', podCIDR: '10.42.1.0/24' },
    ],
    services,
  });
}

const ep = (ip: string, port: number, more: Partial<EndpointView> = {}, name = ''): EndpointView => ({ ip, ready: true, ports: { [name]: port }, ...more });

function web(endpoints: EndpointView[], more: Partial<ServiceView> = {}): ServiceView {
  return { namespace: 'default', name: 'web', type: 'ClusterIP', clusterIP: '10.43.0.10', ports: [{ name: '', protocol: 'TCP', port: 80 }], endpoints, ...more };
}

const COMMON_NAT = [
  '-A GRV-t1-SERVICES -m comment --comment "grove service nodeports, the last rule" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j GRV-t1-NODEPORTS',
  '-A GRV-t1-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A GRV-t1-POSTROUTING -j MARK --xor-mark 0x4000',
  '-A GRV-t1-POSTROUTING -m comment --comment "grove service traffic requiring SNAT" -j MASQUERADE --random-fully',
  '-A GRV-t1-MARK-MASQ -j MARK --or-mark 0x4000',
];
const COMMON_FILTER = [
  '-A GRV-t1-FORWARD -m comment --comment "grove marked service traffic" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A GRV-t1-FORWARD -m comment --comment "grove service traffic after DNAT" -m conntrack --ctstate DNAT -j ACCEPT',
];

describe('buildProxyRules', () => {
  it('spreads a ClusterIP port over its ready, non-terminating endpoints with 1/n, 1/(n-1)…, the last unconditional', () => {
    const rules = buildProxyRules(
      view([web([ep('10.42.1.7', 8080), ep('10.42.0.5', 8080), ep('10.42.2.9', 8080), ep('10.42.2.10', 8080, { ready: false }), ep('10.42.2.11', 8080, { terminating: true })])]),
      N1,
    );
    expect(rules.nat.chains).toEqual([
      'GRV-t1-SERVICES', 'GRV-t1-NODEPORTS', 'GRV-t1-POSTROUTING', 'GRV-t1-MARK-MASQ',
      'GRV-t1-SVC-58063F104855', 'GRV-t1-SEP-613C67124687', 'GRV-t1-SEP-62ABE77487E3', 'GRV-t1-SEP-38A655C6AB37',
    ]);
    expect(rules.nat.rules).toEqual([
      '-A GRV-t1-SERVICES -d 10.43.0.10/32 -m comment --comment "default/web cluster IP" -p tcp -m tcp --dport 80 -j GRV-t1-SVC-58063F104855',
      '-A GRV-t1-SVC-58063F104855 ! -s 10.42.0.0/16 -d 10.43.0.10/32 -m comment --comment "default/web cluster IP" -p tcp -m tcp --dport 80 -j GRV-t1-MARK-MASQ',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.0.5:8080" -m statistic --mode random --probability 0.3333333333 -j GRV-t1-SEP-613C67124687',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.1.7:8080" -m statistic --mode random --probability 0.5000000000 -j GRV-t1-SEP-62ABE77487E3',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.2.9:8080" -j GRV-t1-SEP-38A655C6AB37',
      '-A GRV-t1-SEP-613C67124687 -s 10.42.0.5/32 -m comment --comment "default/web" -j GRV-t1-MARK-MASQ',
      '-A GRV-t1-SEP-613C67124687 -m comment --comment "default/web" -p tcp -m tcp -j DNAT --to-destination 10.42.0.5:8080',
      '-A GRV-t1-SEP-62ABE77487E3 -s 10.42.1.7/32 -m comment --comment "default/web" -j GRV-t1-MARK-MASQ',
      '-A GRV-t1-SEP-62ABE77487E3 -m comment --comment "default/web" -p tcp -m tcp -j DNAT --to-destination 10.42.1.7:8080',
      '-A GRV-t1-SEP-38A655C6AB37 -s 10.42.2.9/32 -m comment --comment "default/web" -j GRV-t1-MARK-MASQ',
      '-A GRV-t1-SEP-38A655C6AB37 -m comment --comment "default/web" -p tcp -m tcp -j DNAT --to-destination 10.42.2.9:8080',
      ...COMMON_NAT,
    ]);
    expect(rules.filter).toEqual({ chains: ['GRV-t1-SERVICES', 'GRV-t1-EXTERNAL', 'GRV-t1-FORWARD'], rules: COMMON_FILTER });
  });

  it('gives four endpoints 1/4, 1/3, 1/2 and the rest', () => {
    const rules = buildProxyRules(view([web(['10.42.0.2', '10.42.0.3', '10.42.0.4', '10.42.0.5'].map((ip) => ep(ip, 80)))]), N1);
    const spread = rules.nat.rules.filter((r) => r.includes(' -j GRV-t1-SEP-') && r.startsWith('-A GRV-t1-SVC-')).map((r) => /--probability (\S+)/.exec(r)?.[1] ?? 'last');
    expect(spread).toEqual(['0.2500000000', '0.3333333333', '0.5000000000', 'last']);
  });

  it('REJECTs a ClusterIP port without ready endpoints in filter and gives it no nat chain', () => {
    const rules = buildProxyRules(view([web([ep('10.42.0.5', 8080, { ready: false })])]), N1);
    expect(rules.nat.chains).toHaveLength(4);
    expect(rules.nat.rules).toEqual(COMMON_NAT);
    expect(rules.filter.rules).toEqual([
      '-A GRV-t1-SERVICES -d 10.43.0.10/32 -m comment --comment "default/web has no endpoints" -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
      ...COMMON_FILTER,
    ]);
  });

  it('counts not-ready endpoints of a publishNotReadyAddresses service, never terminating ones', () => {
    const rules = buildProxyRules(view([web([ep('10.42.0.5', 8080, { ready: false }), ep('10.42.0.6', 8080, { terminating: true })], { publishNotReadyAddresses: true })]), N1);
    expect(rules.nat.rules.filter((r) => r.includes('DNAT'))).toEqual(['-A GRV-t1-SEP-613C67124687 -m comment --comment "default/web" -p tcp -m tcp -j DNAT --to-destination 10.42.0.5:8080']);
  });

  it('opens a NodePort on local addresses through an EXT chain that marks for masquerade, and REJECTs it without endpoints', () => {
    const nodePort = (endpoints: EndpointView[]) => web(endpoints, { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] });
    const rules = buildProxyRules(view([nodePort([ep('10.42.1.7', 8080, {}, 'http')])]), N1);
    expect(rules.nat.rules.slice(0, 4)).toEqual([
      '-A GRV-t1-SERVICES -d 10.43.0.10/32 -m comment --comment "default/web:http cluster IP" -p tcp -m tcp --dport 80 -j GRV-t1-SVC-7ABB66A466FC',
      '-A GRV-t1-EXT-7ABB66A466FC -m comment --comment "masquerade traffic for default/web:http external destinations" -j GRV-t1-MARK-MASQ',
      '-A GRV-t1-EXT-7ABB66A466FC -j GRV-t1-SVC-7ABB66A466FC',
      '-A GRV-t1-NODEPORTS -m comment --comment "default/web:http" -p tcp -m tcp --dport 30080 -j GRV-t1-EXT-7ABB66A466FC',
    ]);
    const none = buildProxyRules(view([nodePort([])]), N1);
    expect(none.filter.rules).toContain(
      '-A GRV-t1-EXTERNAL -m addrtype --dst-type LOCAL -m comment --comment "default/web:http has no endpoints" -p tcp -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable',
    );
  });

  it('opens LoadBalancer ports on this node\'s IPv4 addresses only when the node serves the service', () => {
    const dns: ServiceView = {
      namespace: 'shop', name: 'dns', type: 'LoadBalancer', clusterIP: '10.43.0.53', loadBalancerNodes: ['n2'],
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 }], endpoints: [ep('10.42.1.7', 5353, {}, 'dns')],
    };
    const n2 = buildProxyRules(view([dns]), { nodeName: 'n2', addresses: ['192.168.1.11', '10.0.0.11', 'fe80::1'], tag: 't1' });
    expect(n2.nat.rules.filter((r) => r.includes('loadbalancer'))).toEqual([
      '-A GRV-t1-SERVICES -d 10.0.0.11/32 -m comment --comment "shop/dns:dns loadbalancer IP" -p udp -m udp --dport 53 -j GRV-t1-EXT-45FB3CE259B8',
      '-A GRV-t1-SERVICES -d 192.168.1.11/32 -m comment --comment "shop/dns:dns loadbalancer IP" -p udp -m udp --dport 53 -j GRV-t1-EXT-45FB3CE259B8',
    ]);
    expect(buildProxyRules(view([dns]), N1).nat.rules.filter((r) => r.includes('loadbalancer'))).toEqual([]);
    // No loadBalancerNodes: every node serves it, on its InternalIP from the view when no addresses are given.
    const all = buildProxyRules(view([{ ...dns, loadBalancerNodes: undefined as unknown as string[] }]), N1);
    expect(all.nat.rules.filter((r) => r.includes('loadbalancer'))).toEqual([
      '-A GRV-t1-SERVICES -d 192.168.1.10/32 -m comment --comment "shop/dns:dns loadbalancer IP" -p udp -m udp --dport 53 -j GRV-t1-EXT-45FB3CE259B8',
    ]);
  });

  it('keeps a ClientIP-affine client on its endpoint with recent checks before the spread and a set in each endpoint chain', () => {
    const rules = buildProxyRules(view([web([ep('10.42.0.5', 8080), ep('10.42.1.7', 8080)], { sessionAffinitySeconds: 600 })]), N1);
    const svc = rules.nat.rules.filter((r) => r.startsWith('-A GRV-t1-SVC-'));
    expect(svc.slice(1)).toEqual([
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.0.5:8080" -m recent --name GRV-t1-SEP-613C67124687 --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j GRV-t1-SEP-613C67124687',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.1.7:8080" -m recent --name GRV-t1-SEP-62ABE77487E3 --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j GRV-t1-SEP-62ABE77487E3',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.0.5:8080" -m statistic --mode random --probability 0.5000000000 -j GRV-t1-SEP-613C67124687',
      '-A GRV-t1-SVC-58063F104855 -m comment --comment "default/web to 10.42.1.7:8080" -j GRV-t1-SEP-62ABE77487E3',
    ]);
    expect(rules.nat.rules).toContain(
      '-A GRV-t1-SEP-613C67124687 -m comment --comment "default/web" -m recent --name GRV-t1-SEP-613C67124687 --mask 255.255.255.255 --rsource --set -p tcp -m tcp -j DNAT --to-destination 10.42.0.5:8080',
    );
  });

  it('gives headless and ExternalName services no rules, and skips what is not IPv4', () => {
    const rules = buildProxyRules(
      view([
        web([ep('10.42.0.5', 8080)], { name: 'headless', clusterIP: undefined as unknown as string }),
        { namespace: 'default', name: 'ext', type: 'ExternalName', externalName: 'example.com', ports: [], endpoints: [] },
        web([ep('fd00::5', 8080)], { name: 'v6', clusterIP: 'fd00::10' }),
      ]),
      N1,
    );
    expect(rules.nat.rules).toEqual(COMMON_NAT);
    expect(rules.filter.rules).toEqual(COMMON_FILTER);
  });

  it('is deterministic: the order of services, ports and endpoints in the view does not matter', () => {
    const a = web([ep('10.42.0.5', 8080, {}, 'a'), ep('10.42.1.7', 8080, {}, 'a')], { ports: [{ name: 'a', protocol: 'TCP', port: 80 }, { name: 'b', protocol: 'UDP', port: 81 }] });
    const b = web([ep('10.42.0.9', 9090)], { namespace: 'other' });
    const reordered = { ...a, ports: [...a.ports].reverse(), endpoints: [...a.endpoints].reverse() };
    expect(buildProxyRules(view([a, b]), N1)).toEqual(buildProxyRules(view([b, reordered]), N1));
  });

  it('keeps every chain name within iptables\' 28 characters', () => {
    const many = Array.from({ length: 20 }, (_, i) => web([ep(`10.42.0.${i + 2}`, 8080)], { name: `a-very-long-service-name-${i}`, clusterIP: `10.43.0.${i + 2}`, type: 'NodePort', ports: [{ name: '', protocol: 'TCP', port: 80, nodePort: 30000 + i }] }));
    const rules = buildProxyRules(view(many), { ...N1, tag: 'abcdef' });
    for (const chain of [...rules.nat.chains, ...rules.filter.chains, ...proxyJumps('abcdef').map((j) => j.target)]) expect(chain.length).toBeLessThanOrEqual(28);
    expect(new Set(rules.nat.chains).size).toBe(rules.nat.chains.length);
  });
});
