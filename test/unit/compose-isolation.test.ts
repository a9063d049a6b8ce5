/**
 * Compose network isolation on a node (compose-isolation*.ts, compose-topology.ts): the topology
 * annotation read back, the node's compose pods from the agent's target and status, the mangle
 * rules each gets from the network view, and the transactions the consumer runs for them.
 */
import { describe, expect, it } from 'vitest';
import { ComposeIsolation } from '../../agent/src/runtime/net/compose-isolation-programmer.js';
import { silentLogger } from '../../src/core/logger.js';
import { internalReach, isolationDrift, isolationProgram, isolationRemoval, isolationRules, type LocalPod } from '../../agent/src/runtime/net/compose-isolation.js';
import { composePodsOf } from '../../agent/src/runtime/net/compose-isolation-pods.js';
import { podTarget } from '../support/pod-target.js';
import { formatTopology, parseTopology, servicesApart } from '../../src/core/network/compose-topology.js';
import type { ServiceView } from '../../src/core/network/view.js';
import { networkView } from '../support/network-view.js';

const TOPOLOGY = 'cache=back;db=back;proxy=front;web=front,back';

const service = (name: string, ips: string[], namespace = 'shop'): ServiceView => ({
  namespace,
  name,
  type: 'ClusterIP',
  clusterIP: '10.43.0.9',
  ports: [],
  endpoints: ips.map((ip) => ({ ip, ready: true, ports: {} })),
});
const pod = (name: string, svc: string, ip: string, nets: Record<string, string>, topology = TOPOLOGY): LocalPod => ({
  namespace: 'shop',
  name,
  ip,
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': svc, ...Object.fromEntries(Object.entries(nets).map(([n, v]) => [`network.compose.grove.io/${n}`, v])) },
  annotations: { 'grove.io/compose-networks': topology },
});
const view = networkView({
  services: [service('db', ['10.42.1.5']), service('proxy', ['10.42.2.7', '10.42.0.8']), service('web', ['10.42.0.3']), service('proxy', ['10.42.9.9'], 'blog')],
});

describe('compose topology', () => {
  it('reads back what the translation writes, and says who shares no network', () => {
    const t = parseTopology(TOPOLOGY)!;
    expect(formatTopology(t)).toBe(TOPOLOGY);
    expect(servicesApart(t, 'db')).toEqual(['proxy']);
    expect(servicesApart(t, 'proxy')).toEqual(['cache', 'db']);
    expect(servicesApart(t, 'web')).toEqual([]);
  });

  it.each([['db'], ['db=x;db=y'], ['=x'], ['Db=x'], ['db=x y'], ['a=x'.padEnd(20_000, 'x')]])('refuses %s', (text) => {
    expect(parseTopology(text)).toBeUndefined();
  });
});

describe('isolation rules', () => {
  it('drops traffic to a pod from the endpoints of services that share no network with it', () => {
    expect(isolationRules('a1b2c3', view, [pod('db-1', 'db', '10.42.0.5', { back: 'bridge' }), pod('web-1', 'web', '10.42.0.3', { front: 'bridge', back: 'bridge' })])).toEqual([
      '-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32 -m comment --comment "grove: shop: proxy shares no network with db" -j DROP',
      '-A GRV-a1b2c3-CNET -s 10.42.2.7/32 -d 10.42.0.5/32 -m comment --comment "grove: shop: proxy shares no network with db" -j DROP',
    ]);
  });

  it('keeps pods on internal networks only from opening connections out of the cluster', () => {
    const rules = isolationRules('a1b2c3', view, [pod('cache-1', 'cache', '10.42.0.6', { back: 'internal' }), pod('web-1', 'web', '10.42.0.3', { front: 'bridge', back: 'internal' })]);
    expect(rules.filter((l) => l.includes('internal'))).toEqual([
      '-A GRV-a1b2c3-CNET -s 10.42.0.6/32 ! -d 10.42.0.0/16 -m conntrack --ctstate NEW -m comment --comment "grove: shop/cache-1 is on internal networks only" -j DROP',
    ]);
  });

  it('lets internal pods reach the node\'s own pod subnet on a cluster without a pod network', () => {
    expect(internalReach(view, '10.201.7.0/24')).toBe('10.42.0.0/16');
    const none = { ...view, overlay: { ...view.overlay, backend: 'none' as const } };
    expect(internalReach(none, '10.201.7.0/24')).toBe('10.201.7.0/24');
    expect(isolationRules('a1b2c3', none, [pod('cache-1', 'cache', '10.201.7.6', { back: 'internal' })], internalReach(none, '10.201.7.0/24')).at(-1)).toContain('-s 10.201.7.6/32 ! -d 10.201.7.0/24 ');
  });

  it('has no rules for pods that are not compose pods, have no address or use the host network', () => {
    const plain: LocalPod = { namespace: 'shop', name: 'x', ip: '10.42.0.9', labels: {}, annotations: {} };
    const noIp = { ...pod('db-2', 'db', '', { back: 'bridge' }), ip: undefined };
    const host = { ...pod('db-3', 'db', '192.168.1.2', { back: 'internal' }), hostNetwork: true };
    const bad = pod('db-4', 'db', '10.42.0.4', { back: 'bridge' }, 'not a topology');
    expect(isolationRules('a1b2c3', view, [plain, noIp, host, bad])).toEqual([]);
  });

  it('sets the chain and adds its jump only when missing, in one section; removes exactly its own chain', () => {
    const saved = '*mangle\n:FORWARD ACCEPT [0:0]\n:GRV-a1b2c3-CNET - [0:0]\n:GRV-ffffff-CNET - [0:0]\n-A FORWARD -j GRV-a1b2c3-CNET\n-A FORWARD -j GRV-ffffff-CNET\nCOMMIT\n';
    expect(isolationProgram('a1b2c3', ['-A GRV-a1b2c3-CNET -j DROP'], saved)).toBe('*mangle\n:GRV-a1b2c3-CNET - [0:0]\n-A GRV-a1b2c3-CNET -j DROP\nCOMMIT\n');
    expect(isolationProgram('123456', ['-A GRV-123456-CNET -j DROP'], saved)).toBe('*mangle\n:GRV-123456-CNET - [0:0]\n-A GRV-123456-CNET -j DROP\n-I FORWARD 1 -j GRV-123456-CNET\nCOMMIT\n');
    expect(isolationProgram('123456', ['-A GRV-123456-CNET -j DROP'], undefined)).not.toContain('-I FORWARD');
    expect(isolationRemoval(saved, 'a1b2c3')).toBe('*mangle\n-D FORWARD -j GRV-a1b2c3-CNET\n-F GRV-a1b2c3-CNET\n-X GRV-a1b2c3-CNET\nCOMMIT\n');
    expect(isolationRemoval(saved, '123456')).toBe('');
  });
});

describe('isolation drift (what resync finds changed on the host)', () => {
  const rules = ['-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32 -m comment --comment "grove: shop: proxy shares no network with db" -j DROP'];
  // As iptables-save prints it: another tag's chain beside ours, the comment re-quoted the same.
  const host = (chainRules: string[], jump = true, chain = true) =>
    ['*mangle', ':FORWARD ACCEPT [0:0]', ...(chain ? [':GRV-a1b2c3-CNET - [0:0]'] : []), ':GRV-ffffff-CNET - [0:0]', ...(jump ? ['-A FORWARD -j GRV-a1b2c3-CNET'] : []), '-A FORWARD -j GRV-ffffff-CNET', ...chainRules, '-A GRV-ffffff-CNET -j DROP', 'COMMIT', ''].join('\n');

  it('finds nothing when the chain, its jump and its rules are as programmed', () => {
    expect(isolationDrift(host(rules), 'a1b2c3', rules)).toBeUndefined();
    // iptables-save drops the quotes of a comment without spaces.
    const bare = ['-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32 -m comment --comment "grove:x" -j DROP'];
    expect(isolationDrift(host([bare[0]!.replace('"grove:x"', 'grove:x')]), 'a1b2c3', bare)).toBeUndefined();
  });

  it('names a flushed chain, a deleted jump, a deleted chain and an edited rule', () => {
    expect(isolationDrift(host([]), 'a1b2c3', rules)).toMatch(/rules of GRV-a1b2c3-CNET were changed \(0 there, 1 programmed\)/);
    expect(isolationDrift(host(rules, false), 'a1b2c3', rules)).toMatch(/jump from FORWARD to GRV-a1b2c3-CNET is gone/);
    expect(isolationDrift(host([], false, false), 'a1b2c3', rules)).toMatch(/chain GRV-a1b2c3-CNET is gone/);
    expect(isolationDrift(host([rules[0]!.replace('-j DROP', '-j ACCEPT')]), 'a1b2c3', rules)).toMatch(/were changed/);
    expect(isolationDrift(host([...rules, '-A GRV-a1b2c3-CNET -j ACCEPT']), 'a1b2c3', rules)).toMatch(/2 there, 1 programmed/);
  });
});

describe('the node\'s compose pods (from the agent\'s target and status)', () => {
  const compose = (name: string, namespace: string, labels: Record<string, string>, annotations: Record<string, string> = {}, hostNetwork = false) => podTarget(name, { namespace, labels, annotations, hostNetwork });
  it('keeps compose pods whose networks matter, with the address the status reported', () => {
    const target = [
      compose('db-1', 'shop', { 'com.docker.compose.service': 'db', 'network.compose.grove.io/back': 'bridge' }, { 'grove.io/compose-networks': TOPOLOGY }),
      compose('cache-1', 'shop', { 'com.docker.compose.service': 'cache', 'network.compose.grove.io/back': 'internal' }),
      compose('web-1', 'blog', { 'com.docker.compose.service': 'web' }),
      compose('plain', 'default', { app: 'x', 'network.compose.grove.io/back': 'bridge' }),
      compose('agent', 'shop', { 'com.docker.compose.service': 'agent', 'network.compose.grove.io/back': 'bridge' }, {}, true),
    ];
    const reported = [{ name: 'db-1', namespace: 'shop', podIP: '10.42.0.5' }, { name: 'web-1', namespace: 'blog', podIP: '10.42.0.6' }, { name: 'cache-1', namespace: 'shop' }];
    expect(composePodsOf(target, reported)).toEqual([
      { namespace: 'shop', name: 'db-1', ip: '10.42.0.5', labels: target[0]!.labels, annotations: { 'grove.io/compose-networks': TOPOLOGY } },
      { namespace: 'shop', name: 'cache-1', labels: target[1]!.labels, annotations: target[1]!.annotations ?? {} },
      { namespace: 'shop', name: 'agent', hostNetwork: true, labels: target[4]!.labels, annotations: target[4]!.annotations ?? {} },
    ]);
  });
});

describe('ComposeIsolation (the consumer)', () => {
  const setup = (saved = '') => {
    const restored: string[] = [];
    let pods: LocalPod[] = [pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })];
    let saves = 0;
    const iso = new ComposeIsolation({
      tag: 'a1b2c3',
      pods: () => pods,
      logger: silentLogger(),
      host: {
        restore: async (input) => void restored.push(input),
        save: async () => {
          saves++;
          return saved;
        },
      },
    });
    return { iso, restored, setPods: (p: LocalPod[]) => (pods = p), saves: () => saves };
  };
  const removal = '*mangle\n-D FORWARD -j GRV-a1b2c3-CNET\n-F GRV-a1b2c3-CNET\n-X GRV-a1b2c3-CNET\nCOMMIT\n';

  it('programs the chain and its jump in one transaction, then only when the rules change', async () => {
    const { iso, restored, setPods, saves } = setup();
    await iso.update(view);
    expect(restored).toHaveLength(1);
    expect(restored[0]).toContain('-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32');
    expect(restored[0]!.endsWith('-I FORWARD 1 -j GRV-a1b2c3-CNET\nCOMMIT\n')).toBe(true);
    expect(restored[0]!.match(/\*mangle/g)).toHaveLength(1);
    await iso.update({ ...view, revision: 2 });
    await iso.podsChanged();
    expect(restored).toHaveLength(1); // same rules: no process
    expect(saves()).toBe(1);
    // Another address for db: the chain is refilled, the jump known to be there.
    setPods([pod('db-1', 'db', '10.42.0.15', { back: 'bridge' })]);
    await iso.podsChanged();
    expect(restored[1]).toContain('-d 10.42.0.15/32');
    expect(restored[1]).not.toContain('-I FORWARD');
    expect(saves()).toBe(1);
  });

  it('never touches a node without compose pods that need isolation; removes the chain when the last one goes', async () => {
    const { iso, restored, setPods, saves } = setup();
    setPods([{ namespace: 'default', name: 'plain', ip: '10.42.0.9', labels: {}, annotations: {} }]);
    await iso.update(view);
    await iso.podsChanged();
    expect(restored).toEqual([]);
    expect(saves()).toBe(1); // once, for a chain an earlier run may have left
    setPods([pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })]);
    await iso.podsChanged();
    expect(restored[0]).toContain('-I FORWARD 1 -j GRV-a1b2c3-CNET');
    setPods([]);
    const host = setup('*mangle\n:GRV-a1b2c3-CNET - [0:0]\n-A FORWARD -j GRV-a1b2c3-CNET\nCOMMIT\n');
    host.setPods([pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })]);
    await host.iso.update(view);
    host.setPods([]);
    await host.iso.podsChanged();
    expect(host.restored[1]).toBe(removal);
  });

  it('leaves the host as it is while the node\'s pods are not known yet (an agent restart before its first round)', async () => {
    const saved = '*mangle\n:GRV-a1b2c3-CNET - [0:0]\n-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32 -j DROP\n-A FORWARD -j GRV-a1b2c3-CNET\nCOMMIT\n';
    const { iso, restored, setPods, saves } = setup(saved);
    setPods(undefined as unknown as LocalPod[]);
    await iso.update(view);
    expect([restored, saves()]).toEqual([[], 0]);
    expect(composePodsOf([podTarget('db-1')], undefined)).toBeUndefined();
    setPods([pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })]);
    await iso.podsChanged();
    expect(restored).toHaveLength(1);
  });

  it('does nothing before it has a view; leaves a present jump alone; a failed restore reads the host again', async () => {
    const saved = '*mangle\n:GRV-a1b2c3-CNET - [0:0]\n-A FORWARD -j GRV-a1b2c3-CNET\nCOMMIT\n';
    const { iso, restored, saves } = setup(saved);
    await iso.podsChanged();
    expect(restored).toEqual([]);
    await iso.update(view);
    expect(restored[0]).not.toContain('-I FORWARD');
    await iso.cleanup();
    expect(restored[1]).toBe(removal);

    let fail = true;
    const failing = new ComposeIsolation({
      tag: 'a1b2c3', pods: () => [pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })], logger: silentLogger(),
      host: { save: async () => '', restore: async () => { if (fail) throw new Error('iptables-restore: exit 1'); } },
    });
    await expect(failing.update(view)).rejects.toThrow('exit 1');
    fail = false;
    await failing.podsChanged(); // same rules, but not known to be in place: written again
    expect(saves()).toBe(2);
  });

  it('resync: one save when the host holds the chain as programmed; a flushed chain or a lost jump is written again', async () => {
    let saved = '';
    const restored: string[] = [];
    let saves = 0;
    const iso = new ComposeIsolation({
      tag: 'a1b2c3', pods: () => [pod('db-1', 'db', '10.42.0.5', { back: 'bridge' })], logger: silentLogger(),
      host: { save: async () => (saves++, saved), restore: async (input) => void restored.push(input) },
    });
    await iso.resync(); // no view yet: nothing to check
    expect(saves).toBe(0);
    await iso.update(view);
    const rules = restored[0]!.split('\n').filter((l) => l.startsWith('-A GRV-a1b2c3-CNET'));
    saved = ['*mangle', ':GRV-a1b2c3-CNET - [0:0]', '-A FORWARD -j GRV-a1b2c3-CNET', ...rules, 'COMMIT', ''].join('\n');
    await iso.resync();
    expect([restored.length, saves]).toEqual([1, 2]);
    // Flushed (iptables -t mangle -F GRV-…-CNET): the rules again, the jump being there.
    saved = ['*mangle', ':GRV-a1b2c3-CNET - [0:0]', '-A FORWARD -j GRV-a1b2c3-CNET', 'COMMIT', ''].join('\n');
    await iso.resync();
    expect(restored).toHaveLength(2);
    expect(restored[1]).toContain(rules[0]);
    expect(restored[1]).not.toContain('-I FORWARD');
    // The jump deleted: written again with the chain.
    saved = ['*mangle', ':GRV-a1b2c3-CNET - [0:0]', ...rules, 'COMMIT', ''].join('\n');
    await iso.resync();
    expect(restored[2]).toContain('-I FORWARD 1 -j GRV-a1b2c3-CNET');
    // A node whose chain was removed (no pods left) checks nothing.
    const quiet = new ComposeIsolation({ tag: 'a1b2c3', pods: () => [], logger: silentLogger(), host: { save: async () => (saves++, ''), restore: async () => undefined } });
    await quiet.update(view);
    const before = saves;
    await quiet.resync();
    expect(saves).toBe(before);
  });
});
