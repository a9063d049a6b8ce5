/**
 * Uninstall leaves nothing of the network (issue 15 item 2): a node in a network namespace of
 * its own (test/support/netns-lan.ts) programs everything an agent programs from a view — the
 * VXLAN device and its route to the peer, the pod egress chains, the service proxier's chains,
 * compose isolation's chain, the cluster DNS interface, Caddy's run directory, a pod attached
 * to the node bridge — then `grove agent cleanup-network` (what uninstall.sh runs), inside that
 * namespace, removes all of it: iptables-save and ip link show nothing of the node's tag.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { dnsInterfaceName } from '../../agent/src/runtime/net/dns-interface.js';
import { ingressRunDir } from '../../agent/src/runtime/net/ingress-caddy-process.js';
import { overlayNames } from '../../agent/src/runtime/net/overlay-plan.js';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';
import { LevelStore } from '../../src/store/level-store.js';
import { assertBuilt, GROVE_BIN } from '../support/grove-cli.js';
import { createNetnsLan, type NetnsLan } from '../support/netns-lan.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);
const MAIN = new URL('../../dist/test/support/pod-network-node-main.js', import.meta.url).pathname;

async function sh(argv: string[], timeout = 60_000): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return (await run(cmd, args, { timeout })).stdout;
}

/** Runs a command and keeps its exit code (never throws on one). */
async function attempt(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv as [string, ...string[]];
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describeWith(['root', 'iproute2', 'iptables'], 'grove agent cleanup-network', () => {
  let lan: NetnsLan | undefined;
  let dataDir: string | undefined;
  let pod: string | undefined;

  afterEach(async () => {
    if (pod) await sh(['ip', 'netns', 'del', `grove-${pod}`]).catch(() => undefined);
    await lan?.destroy();
    if (dataDir) {
      await rm(ingressRunDir(netTag(dataDir)), { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
    lan = undefined;
    dataDir = undefined;
    pod = undefined;
  });

  it('removes every chain, link, route, attachment and directory the node programmed; refused while the agent runs', async () => {
    assertBuilt();
    lan = await createNetnsLan(2);
    const [a, b] = lan.nodes as [NonNullable<NetnsLan['nodes'][0]>, NonNullable<NetnsLan['nodes'][0]>];
    dataDir = await mkdtemp(join(tmpdir(), 'grove-netclean-'));
    const bridge = `grvc${randomBytes(3).toString('hex')}`;
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ podBridge: bridge, podSubnet: '10.42.0.0/16' }));
    const tag = netTag(dataDir);
    pod = `pc${randomBytes(4).toString('hex')}`;
    const view: ClusterNetworkView = {
      revision: 1,
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      clusterDomain: 'cluster.local',
      overlay: { backend: 'vxlan', vni: 1, port: 8472 },
      nodes: [
        { name: 'node-a', internalIP: a.ip, podCIDR: '10.42.0.0/24' },
        { name: 'node-b', internalIP: b.ip, podCIDR: '10.42.1.0/24' },
      ],
      services: [
        { namespace: 'default', name: 'web', type: 'NodePort', clusterIP: '10.43.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }], endpoints: [{ ip: '10.42.1.5', ready: true, ports: { http: 8080 } }] },
      ],
    };
    const applied = await attempt([...a.netOnly, process.execPath, MAIN, JSON.stringify({ op: 'apply', all: true, dataDir, nodeName: 'node-a', bridge, view, attach: [pod] })]);
    expect(applied.stdout).toContain(`"${pod}":"10.42.0.`);

    const routeProto = String(overlayNames(tag).routeProto);
    const inNode = (...argv: string[]) => sh([...a.netOnly, ...argv]);
    const ours = async () => ({
      rules: (await inNode('iptables-save')).split('\n').filter((l) => l.includes(`GRV-${tag}-`)),
      links: (await inNode('ip', '-o', 'link', 'show')).split('\n').filter((l) => l.includes(tag) || l.includes(bridge)),
      routes: (await inNode('ip', '-4', 'route', 'show', 'proto', routeProto)).trim(),
      netns: existsSync(`/run/netns/grove-${pod}`),
      ingressDir: existsSync(ingressRunDir(tag)),
    });
    // Everything is there before (so the test can fail): every table and every kind of link.
    const before = await ours();
    for (const chain of ['SERVICES', 'NODEPORTS', 'PODEGRESS', 'PODFWD', 'CNET']) expect(before.rules.join('\n')).toContain(`GRV-${tag}-${chain}`);
    expect(before.rules.some((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) /.test(l))).toBe(true);
    expect(before.links.join('\n')).toContain(`grvx-${tag}`);
    expect(before.links.join('\n')).toContain(dnsInterfaceName(tag));
    expect(before.links.join('\n')).toContain(bridge);
    expect(before.routes).toContain('10.42.1.0/24');
    expect(before.netns).toBe(true);
    expect(before.ingressDir).toBe(true);

    const cleanup = [...a.netOnly, process.execPath, GROVE_BIN, '--data-dir', dataDir, 'agent', 'cleanup-network'];
    // While the agent holds its store (it runs), the cleanup is refused with one line, and nothing is removed.
    const store = new LevelStore({ path: join(dataDir, 'agent', 'db'), logger: silentLogger() });
    await store.open();
    try {
      const refused = await attempt(cleanup);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toEqual([`grove: the agent of ${dataDir} is running: stop it (systemctl stop grove) before removing its network`]);
      expect((await ours()).rules.length).toBe(before.rules.length);
    } finally {
      await store.close();
    }

    const done = await attempt(cleanup);
    expect(done.stderr).toBe('');
    expect(done.stdout).toBe(`network of ${dataDir} removed\n`);
    expect(done.code).toBe(0);
    expect(await ours()).toEqual({ rules: [], links: [], routes: '', netns: false, ingressDir: false });
    // Nothing else of Grove's either (any tag), and a second run finds nothing and fails nothing.
    expect(await inNode('iptables-save')).not.toContain('GRV-');
    expect((await attempt(cleanup)).code).toBe(0);
  }, 120_000);
});
