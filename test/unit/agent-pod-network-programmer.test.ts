import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import { egressNames, egressRules } from '../../agent/src/runtime/net/pod-egress.js';
import { PodNetworkProgrammer } from '../../agent/src/runtime/net/pod-network-programmer.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';

const VIEW: ClusterNetworkView = {
  revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local',
  overlay: { backend: 'vxlan', vni: 1, port: 8472 }, nodes: [{ name: 'n1', internalIP: '192.168.1.10', podCIDR: '10.42.0.0/24' }], services: [],
};
const names = egressNames('t1');
// What iptables-save shows once the egress chains and their jumps are in place.
const PROGRAMMED = egressRules(names, { podCIDR: '10.42.0.0/24', clusterCIDR: '10.42.0.0/16' })
  .replace('*nat\n', `*nat\n-A POSTROUTING -j ${names.nat}\n`)
  .replace('*filter\n', `*filter\n-A FORWARD -j ${names.filter}\n`);

describe('PodNetworkProgrammer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-egress-resync-'));
    // Fake tools: iptables-save prints <dir>/tables and counts its runs; iptables-restore logs its input.
    await writeFile(join(dir, 'save'), `#!/bin/sh\necho x >> ${dir}/saves\ncat ${dir}/tables\n`);
    await writeFile(join(dir, 'restore'), `#!/bin/sh\ncat >> ${dir}/restores\necho --- >> ${dir}/restores\n`);
    await chmod(join(dir, 'save'), 0o755);
    await chmod(join(dir, 'restore'), 0o755);
    await writeFile(join(dir, 'tables'), '');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const count = async (file: string, line: string) => (await readFile(join(dir, file), 'utf8').catch(() => '')).split('\n').filter((l) => l === line).length;

  const programmerIn = (network: PodNetwork) => new PodNetworkProgrammer({
    nodeName: 'n1', tag: 't1', logger: silentLogger(), underlying: async () => undefined, network,
    local: { bridge: 'grove0', ipamDataDir: join(dir, 'ipam'), podSubnet: '10.88.0.0/16' },
    iptablesSavePath: join(dir, 'save'), iptablesRestorePath: join(dir, 'restore'),
  });

  it('without a cluster network (an older server), pods get the node\'s own subnet at once; a view takes over', async () => {
    const network = new PodNetwork({ settings: undefined, stateDir: join(dir, 'att'), logger: silentLogger() });
    const programmer = programmerIn(network);
    expect(network.subnet).toBeUndefined(); // pods would wait
    programmer.withoutClusterNetwork();
    expect(network.subnet).toBe('10.88.0.0/16');
    await programmer.update(VIEW);
    expect(network.subnet).toBe('10.42.0.0/24');
    programmer.withoutClusterNetwork(); // a view was seen: ignored
    expect(network.subnet).toBe('10.42.0.0/24');
  });

  it('reads the tables once when the chains and jumps are there, writes both again when a flush took them', async () => {
    const programmer = new PodNetworkProgrammer({
      nodeName: 'n1', tag: 't1', logger: silentLogger(), underlying: async () => undefined,
      network: new PodNetwork({ settings: undefined, stateDir: join(dir, 'att'), logger: silentLogger() }),
      local: { bridge: 'grove0', ipamDataDir: join(dir, 'ipam'), podSubnet: '10.88.0.0/16' },
      iptablesSavePath: join(dir, 'save'), iptablesRestorePath: join(dir, 'restore'),
    });
    await programmer.resync();
    expect(await count('saves', 'x')).toBe(0); // nothing programmed yet
    await programmer.update(VIEW);
    expect(await count('restores', '---')).toBe(2); // the chains, then the missing jumps
    await writeFile(join(dir, 'tables'), PROGRAMMED);
    const saves = await count('saves', 'x');
    await programmer.resync();
    expect(await count('saves', 'x')).toBe(saves + 1);
    expect(await count('restores', '---')).toBe(2);
    // `iptables -t nat -F`: the nat chain's rules and the POSTROUTING jump gone.
    await writeFile(join(dir, 'tables'), PROGRAMMED.split('\n').filter((l) => !l.startsWith('-A POSTROUTING') && !l.startsWith(`-A ${names.nat} `)).join('\n'));
    await programmer.resync();
    expect(await count('restores', '---')).toBe(4);
    expect(await readFile(join(dir, 'restores'), 'utf8')).toContain(`-A ${names.nat} -s 10.42.0.0/24 -d 10.42.0.0/16`);
  });
});
