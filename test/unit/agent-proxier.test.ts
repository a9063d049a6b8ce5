import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureProxySysctls } from '../../agent/src/runtime/net/proxier-host.js';
import { ServiceProxier } from '../../agent/src/runtime/net/proxier.js';
import { emptyHostRules, hostAfterApply, parseHostRules, type HostRules } from '../../agent/src/runtime/net/proxier-transaction.js';
import { buildProxyRules } from '../../agent/src/runtime/net/proxier-rules.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView, ServiceView } from '../../src/core/network/view.js';

function view(revision: number, services: ServiceView[]): ClusterNetworkView {
  return { revision, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'vxlan', vni: 1, port: 8472 }, nodes: [{ name: 'n1', internalIP: '192.168.1.10' }], services };
}
const dns = (ready: boolean): ServiceView => ({
  namespace: 'kube-system', name: 'dns', type: 'ClusterIP', clusterIP: '10.43.0.53',
  ports: [{ name: '', protocol: 'UDP', port: 53 }], endpoints: [{ ip: '10.42.0.5', ready, ports: { '': 5353 } }, { ip: '10.42.0.6', ready: true, ports: { '': 5353 } }],
});

/** A host whose tables hold `saved` at first; records every transaction and conntrack call. */
function fakeHost(saved = '') {
  const calls = { restores: [] as string[], reads: 0, conntrack: [] as string[], sysctls: 0 };
  let failNext = false;
  const host = {
    restore: async (input: string) => {
      calls.restores.push(input);
      if (failNext) {
        failNext = false;
        throw new Error('iptables-restore transaction failed (exit 1): line 3 failed');
      }
    },
    readRules: async (tag: string): Promise<HostRules> => {
      calls.reads++;
      return parseHostRules(saved, tag);
    },
    conntrack: async (args: readonly string[]) => void calls.conntrack.push(args.join(' ')),
    sysctls: async () => void calls.sysctls++,
  };
  return { host, calls, failOnce: () => (failNext = true) };
}

describe('ServiceProxier', () => {
  const proxier = (host: ReturnType<typeof fakeHost>['host']) => new ServiceProxier({ nodeName: 'n1', addresses: [], tag: 't1', logger: silentLogger(), host });

  it('programs one transaction per change and none for a view that gives the same rules', async () => {
    const { host, calls } = fakeHost();
    const p = proxier(host);
    await p.update(view(1, [dns(true)]));
    expect(calls).toMatchObject({ reads: 1, sysctls: 1 });
    expect(calls.restores).toHaveLength(1);
    expect(calls.restores[0]).toContain('-I PREROUTING');
    await p.update(view(2, [dns(true)]));
    expect(calls.restores).toHaveLength(1);
    await p.update(view(3, [dns(false)]));
    expect(calls.restores).toHaveLength(2);
    // The host is known after the first read: no second iptables-save, no jump inserted twice, the removed endpoint's chain deleted.
    expect(calls.reads).toBe(1);
    expect(calls.sysctls).toBe(1);
    expect(calls.restores[1]).not.toContain('-I ');
    expect(calls.restores[1]).toMatch(/^-X GRV-t1-SEP-/m);
    expect(calls.conntrack).toEqual(['-D -p udp --orig-dst 10.43.0.53 --orig-port-dst 53 --dst-nat 10.42.0.5']);
  });

  it('programs the rules even when the kernel settings cannot be set (warned once, not retried)', async () => {
    const { host, calls } = fakeHost();
    let tries = 0;
    const p = proxier({ ...host, sysctls: async () => { tries++; throw new Error('modprobe br_netfilter failed: not found'); } });
    await p.update(view(1, [dns(true)]));
    await p.update(view(2, [dns(false)]));
    expect(tries).toBe(1);
    expect(calls.restores).toHaveLength(2);
  });

  it('flushes no conntrack entries for the first view after start (the rules left from before are unknown)', async () => {
    const { host, calls } = fakeHost();
    await proxier(host).update(view(1, [dns(true)]));
    expect(calls.conntrack).toEqual([]);
  });

  it('reads the host again after a failed transaction and retries the same rules on the next update', async () => {
    const { host, calls, failOnce } = fakeHost();
    const p = proxier(host);
    failOnce();
    await expect(p.update(view(1, [dns(true)]))).rejects.toThrow(/line 3 failed/);
    await p.update(view(1, [dns(true)]));
    expect(calls.reads).toBe(2);
    expect(calls.restores).toHaveLength(2);
    expect(calls.restores[1]).toBe(calls.restores[0]);
  });

  it('cleanup removes what the host holds of the tag, and the next update programs everything again', async () => {
    const saved = '*nat\n:GRV-t1-SERVICES - [0:0]\n-A OUTPUT -m comment --comment "grove t1 services" -j GRV-t1-SERVICES\nCOMMIT\n';
    const { host, calls } = fakeHost(saved);
    const p = proxier(host);
    await p.update(view(1, [dns(true)]));
    await p.cleanup();
    expect(calls.restores[1]).toBe('*nat\n:GRV-t1-SERVICES - [0:0]\n-D OUTPUT -m comment --comment "grove t1 services" -j GRV-t1-SERVICES\n-X GRV-t1-SERVICES\nCOMMIT\n');
    await p.update(view(1, [dns(true)]));
    expect(calls.restores).toHaveLength(3);
    expect(calls.reads).toBe(3);
  });
});

describe('ensureProxySysctls', () => {
  let root: string | undefined;
  afterEach(async () => root && rm(root, { recursive: true, force: true }));

  it('loads br_netfilter when the bridge settings are missing and writes only values that differ', async () => {
    root = await mkdtemp(join(tmpdir(), 'grove-sysctl-'));
    await mkdir(join(root, 'net', 'ipv4'), { recursive: true });
    await writeFile(join(root, 'net', 'ipv4', 'ip_forward'), '1\n');
    const before = (await stat(join(root, 'net', 'ipv4', 'ip_forward'))).mtimeMs;
    let loaded = 0;
    const modprobe = async () => {
      loaded++;
      await mkdir(join(root!, 'net', 'bridge'), { recursive: true });
      await writeFile(join(root!, 'net', 'bridge', 'bridge-nf-call-iptables'), '0\n');
    };
    await ensureProxySysctls({ procSys: root, modprobe });
    expect(loaded).toBe(1);
    expect(await readFile(join(root, 'net', 'bridge', 'bridge-nf-call-iptables'), 'utf8')).toBe('1');
    expect(await readFile(join(root, 'net', 'ipv4', 'ip_forward'), 'utf8')).toBe('1\n');
    expect((await stat(join(root, 'net', 'ipv4', 'ip_forward'))).mtimeMs).toBe(before);
    await ensureProxySysctls({ procSys: root, modprobe });
    expect(loaded).toBe(1);
  });

  it('resync: one read of the host when nothing is missing, everything again when a flush took its jumps', async () => {
    let held: HostRules = emptyHostRules();
    const calls = { restores: [] as string[], reads: 0 };
    const host = {
      restore: async (input: string) => void calls.restores.push(input),
      readRules: async () => {
        calls.reads++;
        return structuredClone(held);
      },
      conntrack: async () => undefined,
      sysctls: async () => undefined,
    };
    const p = new ServiceProxier({ nodeName: 'n1', addresses: [], tag: 't1', logger: silentLogger(), host });
    await p.resync();
    expect(calls).toEqual({ restores: [], reads: 0 }); // nothing programmed yet: nothing to check
    const v = view(1, [dns(true)]);
    await p.update(v);
    held = hostAfterApply(buildProxyRules(v, { nodeName: 'n1', addresses: [], tag: 't1' }), 't1');
    expect(calls.restores).toHaveLength(1);
    await p.resync();
    await p.resync();
    expect(calls.reads).toBe(3);
    expect(calls.restores).toHaveLength(1); // all there: no transaction
    // `iptables -t nat -F` (a firewall reload): the chains stay, empty; the jumps into them are gone.
    held.nat.jumps = [];
    await p.resync();
    expect(calls.restores).toHaveLength(2);
    const again = calls.restores[1]!;
    expect(again).toContain('-I PREROUTING');
    expect(again).toContain('-I POSTROUTING');
    // Every chain is declared (flushed) and refilled, not only the changed ones.
    for (const chain of held.nat.chains) expect(again).toContain(`:${chain} - [0:0]`);
    expect(again).toMatch(/^-A GRV-t1-SVC-/m);
    expect(again.split('*nat')[0]).not.toContain('-I '); // the filter jumps were still there
  });
});
