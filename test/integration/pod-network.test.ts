/**
 * One pod network across nodes (issue 15, item 1), on a virtual LAN (test/support/netns-lan.ts):
 * two network namespaces are the nodes, each driving its Overlay and PodNetwork with a hand-made
 * network view, as its agent does (test/support/pod-network-node-main.ts, run inside the node's
 * namespace). For vxlan and host-gw: a pod on each node, pod → pod by IP across nodes (ping, and
 * a TCP connection whose far end sees the near pod's own address: no NAT), a node's own process
 * → the other node's pod by IP and by ClusterIP, then a node leaves the view and its route goes; cleanup leaves no device, route or GRV- chain behind.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import type { ClusterNetworkView, OverlayBackend } from '../../src/core/network/view.js';
import { overlayNames } from '../../agent/src/runtime/net/overlay-plan.js';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { readNodePodSubnet } from '../../agent/src/runtime/cni/node-pod-subnet.js';
import { createNetnsLan, type LanNode, type NetnsLan } from '../support/netns-lan.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);
const MAIN = new URL('../../dist/test/support/pod-network-node-main.js', import.meta.url).pathname;

async function sh(argv: string[], timeout = 20_000): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return (await run(cmd, args, { timeout })).stdout;
}

interface TestNode {
  lan: LanNode;
  name: string;
  dataDir: string;
  bridge: string;
  podCIDR: string;
}

/** Runs one command of the node helper inside the node's namespace. */
async function onNode(node: TestNode, cmd: Record<string, unknown>): Promise<Record<string, string>> {
  const out = await sh([...node.lan.netOnly, process.execPath, MAIN, JSON.stringify({ dataDir: node.dataDir, nodeName: node.name, bridge: node.bridge, ...cmd })], 60_000).catch((err: { stdout?: string }) => err.stdout ?? String(err));
  const reply = JSON.parse(out.trim().split('\n').pop()!) as { ips?: Record<string, string>; error?: string };
  if (reply.error) throw new Error(`node ${node.name}: ${reply.error}`);
  return reply.ips ?? {};
}

function viewOf(nodes: readonly TestNode[], backend: OverlayBackend, revision: number): ClusterNetworkView {
  return {
    revision,
    clusterCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    clusterDomain: 'cluster.local',
    overlay: { backend, vni: 1, port: 8472 },
    nodes: nodes.map((n) => ({ name: n.name, internalIP: n.lan.ip, podCIDR: n.podCIDR })),
    services: [],
  };
}

const podNs = (id: string) => ['nsenter', `--net=/run/netns/grove-${id}`, '--'];

const SERVICE_PORT = 18080;

/** The source address a TCP server in pod `to` sees for a connection from `from` (a pod, or a node's argv prefix) to `toIp`:`port`. */
async function seenSource(from: string | string[], toPod: string, toIp: string, port = SERVICE_PORT): Promise<string> {
  const server = execFile(podNs(toPod)[0]!, [...podNs(toPod).slice(1), process.execPath, '-e', `require('net').createServer((s)=>{s.end(s.remoteAddress);}).listen(${SERVICE_PORT},'0.0.0.0',()=>console.log('up'))`]);
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout?.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      server.once('exit', () => reject(new Error('the test server in the pod exited')));
    });
    const client = `const s=require('net').connect(${port},'${toIp}');let b='';s.on('data',(d)=>b+=d);s.on('end',()=>{console.log(b)});s.setTimeout(5000,()=>{console.log('timeout');process.exit(1)})`;
    return (await sh([...(typeof from === 'string' ? podNs(from) : from), process.execPath, '-e', client])).trim();
  } finally {
    server.kill('SIGKILL');
  }
}

describeWith(['root', 'iproute2', 'iptables'], 'pod network across nodes (virtual LAN)', () => {
  let lan: NetnsLan | undefined;
  const dirs: string[] = [];
  const pods: string[] = [];
  const newPod = (prefix: string) => {
    const id = `${prefix}${randomBytes(4).toString('hex')}`;
    pods.push(id);
    return id;
  };

  afterEach(async () => {
    // A failed test's pods: their namespaces are global mounts (their veths go with the nodes).
    for (const id of pods.splice(0)) await sh(['ip', 'netns', 'del', `grove-${id}`]).catch(() => undefined);
    await lan?.destroy();
    lan = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function cluster(): Promise<TestNode[]> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    lan = await createNetnsLan(2);
    const nodes: TestNode[] = [];
    for (const [i, l] of lan.nodes.entries()) {
      const dataDir = await mkdtemp(join(tmpdir(), `grove-podnet-${i}-`));
      dirs.push(dataDir);
      nodes.push({ lan: l, name: `node-${i}`, dataDir, bridge: `grvb${randomBytes(3).toString('hex')}`, podCIDR: `10.42.${i}.0/24` });
    }
    return nodes;
  }

  for (const backend of ['vxlan', 'host-gw'] as const) {
    it(`${backend}: pods on two nodes reach each other by IP with their own addresses; a node leaving takes its route; cleanup leaves nothing`, async () => {
      const [a, b] = await cluster();
      const podA = newPod('pa');
      const podB = newPod('pb');
      const view = viewOf([a!, b!], backend, 1);
      const ipA = (await onNode(a!, { op: 'apply', view, attach: [podA] }))[podA]!;
      const ipB = (await onNode(b!, { op: 'apply', view, attach: [podB] }))[podB]!;
      expect(ipA.startsWith('10.42.0.')).toBe(true);
      expect(ipB.startsWith('10.42.1.')).toBe(true);
      // Recorded for `grove ctr` on the same node (same bridge, same range).
      expect(await readNodePodSubnet(a!.dataDir)).toEqual({ subnet: '10.42.0.0/24', mtu: backend === 'vxlan' ? 1450 : 1500 });

      const names = overlayNames(netTag(a!.dataDir));
      const linkA = await sh([...a!.lan.netOnly, 'ip', '-d', 'link', 'show']);
      if (backend === 'vxlan') {
        expect(linkA).toMatch(new RegExp(`${names.device}.*mtu 1450`));
        expect(linkA).toMatch(/vxlan id 1 local \S+ dev lan0 srcport 0 0 dstport 8472 nolearning/);
        // The pods' MTU leaves room for VXLAN's 50 bytes.
        expect(await sh([...podNs(podA), 'ip', 'link', 'show', 'eth0'])).toMatch(/mtu 1450/);
      } else {
        expect(linkA).not.toContain('grvx-');
      }

      await sh([...podNs(podA), 'busybox', 'ping', '-c', '1', '-W', '3', ipB]);
      await sh([...podNs(podB), 'busybox', 'ping', '-c', '1', '-W', '3', ipA]);
      expect(await seenSource(podA, podB, ipB)).toBe(ipA);
      // Applying the same view again changes nothing (and fails nothing).
      await onNode(a!, { op: 'apply', view });

      // Node a itself (a host process, as its ingress proxy) reaches pod b by IP and through a
      // ClusterIP whose only endpoint is pod b: on vxlan pod b sees node a's overlay address (the
      // device's <block>.0, MASQUERADE's choice for the ClusterIP), on host-gw its LAN address.
      const clusterIP = '10.43.0.10';
      const withService: ClusterNetworkView = {
        ...view,
        services: [{ namespace: 'default', name: 'b', type: 'ClusterIP', clusterIP, ports: [{ name: '', protocol: 'TCP', port: 80 }], endpoints: [{ ip: ipB, nodeName: b!.name, ready: true, ports: { '': SERVICE_PORT } }] }],
      };
      await onNode(a!, { op: 'apply', view: withService });
      const nodeASource = backend === 'vxlan' ? '10.42.0.0' : a!.lan.ip;
      expect(await seenSource(a!.lan.netOnly, podB, ipB)).toBe(nodeASource);
      expect(await seenSource(a!.lan.netOnly, podB, clusterIP, 80)).toBe(nodeASource);

      // Node b leaves the view: a's route to b's pods goes (with the device: no peer is left).
      await onNode(a!, { op: 'apply', view: viewOf([a!], backend, 2) });
      const routes = await sh([...a!.lan.netOnly, 'ip', '-4', 'route', 'show']);
      expect(routes).not.toContain('10.42.1.0/24');
      expect(await sh([...a!.lan.netOnly, 'ip', 'link', 'show'])).not.toContain('grvx-');
      await expect(sh([...podNs(podA), 'busybox', 'ping', '-c', '1', '-W', '1', ipB])).rejects.toThrow();

      // Cleanup: pods detached, overlay and chains removed; nothing of ours left in either node.
      for (const [node, pod] of [[a!, podA], [b!, podB]] as const) {
        await onNode(node, { op: 'cleanup', detach: [pod] });
        const tag = netTag(node.dataDir);
        expect(await sh([...node.lan.netOnly, 'ip', 'link', 'show'])).not.toContain(`grvx-${tag}`);
        expect(await sh([...node.lan.netOnly, 'ip', '-4', 'route', 'show', 'proto', String(overlayNames(tag).routeProto)])).toBe('');
        expect(await sh([...node.lan.netOnly, 'iptables-save'])).not.toContain(`GRV-${tag}`);
        expect(existsSync(`/run/netns/grove-${pod}`)).toBe(false);
      }
    }, 120_000);
  }

  it('a pod waits with NetworkNotReady while its node has no pod CIDR', async () => {
    const [a, b] = await cluster();
    const view = { ...viewOf([a!, b!], 'vxlan', 1), nodes: [{ name: a!.name, internalIP: a!.lan.ip }] };
    await expect(onNode(a!, { op: 'apply', view, attach: [newPod('pw')] })).rejects.toThrow(`network not ready: node ${a!.name} has no pod CIDR yet`);
  }, 60_000);
});
