import { describe, expect, it } from 'vitest';
import { nodeResolvConf, parseResolvConf, podResolvConf, type PodDnsInput } from '../../agent/src/runtime/resolv-conf.js';

const node = 'nameserver 192.168.1.1\nsearch lan.example corp.example\noptions edns0\n';
const cluster = { nameserver: '169.254.20.10', domain: 'cluster.local' };
const input = (over: Partial<PodDnsInput> = {}): PodDnsInput => ({ policy: 'ClusterFirst', hostNetwork: false, namespace: 'shop', cluster, node, ...over });

describe('pod resolv.conf by dnsPolicy', () => {
  it('ClusterFirst: the cluster DNS, the namespace search path then the host search domains, ndots:5', () => {
    expect(podResolvConf(input())).toBe('nameserver 169.254.20.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local lan.example corp.example\noptions ndots:5\n');
  });

  it('ClusterFirst on the host network means Default: the host file stays (undefined = not written)', () => {
    expect(podResolvConf(input({ hostNetwork: true }))).toBeUndefined();
  });

  it('ClusterFirstWithHostNet: the cluster file on the host network too', () => {
    expect(podResolvConf(input({ hostNetwork: true, policy: 'ClusterFirstWithHostNet' }))).toMatch(/^nameserver 169\.254\.20\.10\n/);
  });

  it('Default: the node file for a bridge pod, and ClusterFirst without a cluster DNS falls back to it', () => {
    expect(podResolvConf(input({ policy: 'Default' }))).toBe(node);
    const { cluster: _c, ...noDns } = input();
    expect(podResolvConf(noDns)).toBe(node);
  });

  it('None: only dnsConfig; dnsConfig merges after the policy file with the pod options winning by name', () => {
    expect(podResolvConf(input({ policy: 'None', config: { nameservers: ['1.1.1.1'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }))).toBe(
      'nameserver 1.1.1.1\nsearch a.example\noptions ndots:2 edns0\n',
    );
    expect(podResolvConf(input({ config: { nameservers: ['10.0.0.2'], options: [{ name: 'ndots', value: '1' }] } }))).toBe(
      'nameserver 169.254.20.10\nnameserver 10.0.0.2\nsearch shop.svc.cluster.local svc.cluster.local cluster.local lan.example corp.example\noptions ndots:1\n',
    );
  });

  it('never writes a line break or a bad address from dnsConfig, and keeps kubelet limits (3 nameservers, 32 searches)', () => {
    const out = podResolvConf(input({ policy: 'None', config: { nameservers: ['1.1.1.1', 'not-an-ip', '1.1.1.2', '1.1.1.3', '1.1.1.4'], searches: ['ok.example', 'bad\nnameserver 6.6.6.6', ...Array.from({ length: 40 }, (_, i) => `d${i}.example`)], options: [{ name: 'x\ny' }] } }))!;
    expect(out.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 1.1.1.1', 'nameserver 1.1.1.2', 'nameserver 1.1.1.3']);
    expect(out).not.toMatch(/6\.6\.6\.6|x\ny/);
    expect(out.split('\n').find((l) => l.startsWith('search'))!.split(' ')).toHaveLength(33);
  });
});

describe('host resolv.conf', () => {
  it('reads nameservers, the last search line and options, ignoring comments and junk', () => {
    expect(parseResolvConf('# c\nnameserver 127.0.0.53\nnameserver bogus\nsearch a b\nsearch c\noptions edns0 trust-ad ; x\n')).toEqual({ nameservers: ['127.0.0.53'], search: ['c'], options: ['edns0', 'trust-ad'] });
  });

  it('gives bridge pods the stub resolver upstream list when the host names only a loopback stub', () => {
    expect(nodeResolvConf('nameserver 127.0.0.53\n', 'nameserver 192.168.1.1\n')).toBe('nameserver 192.168.1.1\n');
    expect(nodeResolvConf('nameserver 192.168.1.1\n', 'nameserver 9.9.9.9\n')).toBe('nameserver 192.168.1.1\n');
  });
});
