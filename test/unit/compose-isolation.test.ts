/**
 * Compose network isolation on a node (compose-isolation.ts, compose-topology.ts): the topology
 * annotation read back, and the mangle rules each compose pod gets from the network view.
 */
import { describe, expect, it } from 'vitest';
import { ComposeIsolation } from '../../agent/src/runtime/net/compose-isolation-programmer.js';
import { silentLogger } from '../../src/core/logger.js';
import { isolationRemoval, isolationRules, missingIsolationJump, type LocalPod } from '../../agent/src/runtime/net/compose-isolation.js';
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
    expect(isolationRules('a1b2c3', view, [pod('db-1', 'db', '10.42.0.5', { back: 'bridge' }), pod('web-1', 'web', '10.42.0.3', { front: 'bridge', back: 'bridge' })])).toBe(
      [
        '*mangle',
        ':GRV-a1b2c3-CNET - [0:0]',
        '-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32 -m comment --comment "grove: shop: proxy shares no network with db" -j DROP',
        '-A GRV-a1b2c3-CNET -s 10.42.2.7/32 -d 10.42.0.5/32 -m comment --comment "grove: shop: proxy shares no network with db" -j DROP',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('keeps pods on internal networks only from opening connections out of the cluster', () => {
    const rules = isolationRules('a1b2c3', view, [pod('cache-1', 'cache', '10.42.0.6', { back: 'internal' }), pod('web-1', 'web', '10.42.0.3', { front: 'bridge', back: 'internal' })]);
    expect(rules.split('\n').filter((l) => l.includes('internal'))).toEqual([
      '-A GRV-a1b2c3-CNET -s 10.42.0.6/32 ! -d 10.42.0.0/16 -m conntrack --ctstate NEW -m comment --comment "grove: shop/cache-1 is on internal networks only" -j DROP',
    ]);
  });

  it('writes an empty chain for pods that are not compose pods, have no address or use the host network', () => {
    const plain: LocalPod = { namespace: 'shop', name: 'x', ip: '10.42.0.9', labels: {}, annotations: {} };
    const noIp = { ...pod('db-2', 'db', '', { back: 'bridge' }), ip: undefined };
    const host = { ...pod('db-3', 'db', '192.168.1.2', { back: 'internal' }), hostNetwork: true };
    const bad = pod('db-4', 'db', '10.42.0.4', { back: 'bridge' }, 'not a topology');
    expect(isolationRules('a1b2c3', view, [plain, noIp, host, bad])).toBe('*mangle\n:GRV-a1b2c3-CNET - [0:0]\nCOMMIT\n');
  });

  it('adds its jump only when missing, and removes exactly its own chain', () => {
    const saved = '*mangle\n:FORWARD ACCEPT [0:0]\n:GRV-a1b2c3-CNET - [0:0]\n:GRV-ffffff-CNET - [0:0]\n-A FORWARD -j GRV-a1b2c3-CNET\n-A FORWARD -j GRV-ffffff-CNET\nCOMMIT\n';
    expect(missingIsolationJump(saved, 'a1b2c3')).toBe('');
    expect(missingIsolationJump(saved, '123456')).toBe('*mangle\n-I FORWARD 1 -j GRV-123456-CNET\nCOMMIT\n');
    expect(isolationRemoval(saved, 'a1b2c3')).toBe('*mangle\n-D FORWARD -j GRV-a1b2c3-CNET\n-F GRV-a1b2c3-CNET\n-X GRV-a1b2c3-CNET\nCOMMIT\n');
    expect(isolationRemoval(saved, '123456')).toBe('');
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

  it('programs the chain and its jump in one transaction, then only when the rules change', async () => {
    const { iso, restored, setPods, saves } = setup();
    await iso.update(view);
    expect(restored).toHaveLength(1);
    expect(restored[0]).toContain('-A GRV-a1b2c3-CNET -s 10.42.0.8/32 -d 10.42.0.5/32');
    expect(restored[0]!.endsWith('*mangle\n-I FORWARD 1 -j GRV-a1b2c3-CNET\nCOMMIT\n')).toBe(true);
    await iso.update({ ...view, revision: 2 });
    await iso.podsChanged();
    expect(restored).toHaveLength(1); // same rules: no process
    setPods([]);
    await iso.podsChanged();
    expect(restored[1]).toBe('*mangle\n:GRV-a1b2c3-CNET - [0:0]\nCOMMIT\n'); // the jump is known to be there
    expect(saves()).toBe(1);
  });

  it('does nothing before it has a view; leaves a present jump alone; cleanup removes its own', async () => {
    const saved = '*mangle\n:GRV-a1b2c3-CNET - [0:0]\n-A FORWARD -j GRV-a1b2c3-CNET\nCOMMIT\n';
    const { iso, restored } = setup(saved);
    await iso.podsChanged();
    expect(restored).toEqual([]);
    await iso.update(view);
    expect(restored[0]).not.toContain('-I FORWARD');
    await iso.cleanup();
    expect(restored[1]).toBe('*mangle\n-D FORWARD -j GRV-a1b2c3-CNET\n-F GRV-a1b2c3-CNET\n-X GRV-a1b2c3-CNET\nCOMMIT\n');
  });
});
