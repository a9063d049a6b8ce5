/**
 * The service proxier against real iptables (issue 15, PROXY): a node and its pods made of
 * network namespaces (test/support/service-lab.ts), busybox httpd in three pods, the proxier
 * programming hand-made views inside the node's namespace. Nothing touches the host's tables.
 * Last, NetworkSync's periodic resync puts the rules back after the nat table was flushed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBatch } from '../../agent/src/runtime/net/batch-command.js';
import { readHostRules, runConntrack } from '../../agent/src/runtime/net/proxier-host.js';
import { ServiceProxier } from '../../agent/src/runtime/net/proxier.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView, EndpointView, ServiceView } from '../../src/core/network/view.js';
import { describeWith } from '../support/prereq.js';
import { eventually } from '../support/grove-cli.js';
import { NetworkSync } from '../../agent/src/agent/network-sync.js';
import { systemClock } from '../../src/core/clock.js';
import { encodeNetworkCluster, encodeNetworkService } from '../../src/core/wire-network.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { createServiceLab, LAB, type ServiceLab } from '../support/service-lab.js';

const PODS = { p1: '10.42.0.11', p2: '10.42.0.12', p3: '10.42.0.13' } as const;
const CLIENT = '10.42.0.50';
const WEB = '10.43.0.10';
const STICKY = '10.43.0.11';
const EMPTY = '10.43.0.12';
const SELF = '10.43.0.13';
const UDP = '10.43.0.14';

const ep = (pod: keyof typeof PODS, more: Partial<EndpointView> = {}): EndpointView => ({ ip: PODS[pod], ready: true, ports: { http: 8080 }, targetRef: `default/${pod}`, ...more });
const http = (name: string, clusterIP: string, endpoints: EndpointView[], more: Partial<ServiceView> = {}): ServiceView => ({
  namespace: 'default', name, type: 'ClusterIP', clusterIP, ports: [{ name: 'http', protocol: 'TCP', port: 80 }], endpoints, ...more,
});

function view(revision: number, opts: { p3Ready: boolean; udpP3: boolean; withSelf?: boolean }): ClusterNetworkView {
  return {
    revision,
    clusterCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    clusterDomain: 'cluster.local',
    overlay: { backend: 'none', vni: 1, port: 8472 },
    nodes: [{ name: 'n1', internalIP: LAB.nodeIP, podCIDR: '10.42.0.0/24' }],
    services: [
      http('web', WEB, [ep('p1'), ep('p2'), ep('p3', { ready: opts.p3Ready })], {
        type: 'LoadBalancer',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }],
      }),
      http('sticky', STICKY, [ep('p1'), ep('p2'), ep('p3')], { sessionAffinitySeconds: 600 }),
      http('empty', EMPTY, [ep('p1', { ready: false })], { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30081 }] }),
      ...(opts.withSelf === false ? [] : [http('self', SELF, [ep('p1')])]),
      { namespace: 'default', name: 'udp', type: 'ClusterIP', clusterIP: UDP, ports: [{ name: 'dns', protocol: 'UDP', port: 53 }], endpoints: opts.udpP3 ? [{ ip: PODS.p3, ready: true, ports: { dns: 5353 } }] : [] },
    ],
  };
}

/** Counts the answers of `n` requests made one connection each from inside `ns`. */
async function spread(lab: ServiceLab, ns: string, url: string, n: number): Promise<Record<string, number>> {
  const { stdout } = await lab.sh(ns, `for i in $(seq ${n}); do timeout 5 busybox wget -q -O - ${url} || echo failed; done`, 120_000);
  const counts: Record<string, number> = {};
  for (const line of stdout.split('\n').filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

describeWith(['root', 'iproute2', 'iptables', 'conntrack', 'busybox'], 'service proxier on real iptables', () => {
  let lab: ServiceLab;
  let client: string;
  const podNs: Record<string, string> = {};
  let proxier: ServiceProxier;
  const tag = randomBytes(3).toString('hex');

  const newProxier = () =>
    new ServiceProxier({
      nodeName: 'n1',
      addresses: [LAB.nodeIP],
      tag,
      logger: silentLogger(),
      host: {
        restore: (input) => runBatch('iptables-restore', input, { path: lab.tool('iptables-restore') }),
        readRules: (t) => readHostRules(t, { path: lab.tool('iptables-save') }),
        conntrack: (args) => runConntrack(args, { path: lab.tool('conntrack') }),
        // The lab set ip_forward and bridge-nf-call-iptables inside the node's namespace (the test process is not in it).
        sysctls: async () => undefined,
      },
    });
  const saved = async () => (await lab.sh(lab.node, 'iptables-save')).stdout;

  beforeAll(async () => {
    lab = await createServiceLab();
    for (const [name, ip] of Object.entries(PODS)) {
      podNs[name] = await lab.addPod(name, ip);
      await lab.serveHttp(name);
    }
    client = await lab.addPod('client', CLIENT);
    proxier = newProxier();
    await proxier.update(view(1, { p3Ready: true, udpP3: true }));
  });
  afterAll(async () => lab?.destroy());

  it('spreads 300 connections to a ClusterIP over all three endpoints', async () => {
    const counts = await spread(lab, client, `http://${WEB}/`, 300);
    expect(Object.keys(counts).sort()).toEqual(['p1', 'p2', 'p3']);
    // Expected 100 each; 30 is more than 8 standard deviations below.
    for (const pod of ['p1', 'p2', 'p3']) expect(counts[pod]).toBeGreaterThan(30);
  });

  it('answers the node itself (masqueraded) and the NodePort and LoadBalancer port on the node\'s address from outside', async () => {
    expect((await lab.sh(lab.node, `timeout 5 busybox wget -q -O - http://${WEB}/`)).stdout.trim()).toMatch(/^p[123]$/);
    expect((await lab.sh(lab.ext, `timeout 5 busybox wget -q -O - http://${LAB.nodeIP}:30080/`)).stdout.trim()).toMatch(/^p[123]$/);
    expect((await lab.sh(lab.ext, `timeout 5 busybox wget -q -O - http://${LAB.nodeIP}:80/`)).stdout.trim()).toMatch(/^p[123]$/);
  });

  it('lets an endpoint reach its own service (hairpin)', async () => {
    expect((await lab.sh(podNs.p1!, `timeout 5 busybox wget -q -O - http://${SELF}/`)).stdout.trim()).toBe('p1');
  });

  it('keeps a ClientIP-affine client on one endpoint', async () => {
    const counts = await spread(lab, client, `http://${STICKY}/`, 30);
    expect(Object.values(counts)).toEqual([30]);
  });

  it('refuses connections to a service without ready endpoints at once, on its ClusterIP and NodePort', async () => {
    const cluster = await lab.sh(client, `timeout 5 busybox wget -q -O - http://${EMPTY}/`);
    expect(cluster.code).not.toBe(0);
    expect(cluster.stderr).toMatch(/refused/i);
    const nodePort = await lab.sh(lab.ext, `timeout 5 busybox wget -q -O - http://${LAB.nodeIP}:30081/`);
    expect(nodePort.stderr).toMatch(/refused/i);
  });

  it('takes an endpoint turned not ready out of the spread, and flushes the UDP flows to a removed endpoint', async () => {
    // A UDP flow DNAT-ed to p3 (nothing listens: the entry exists anyway, unreplied).
    await lab.sh(client, `bash -c 'echo x > /dev/udp/${UDP}/53'`);
    // The reply tuple names the endpoint the flow was DNAT-ed to.
    const flows = () => lab.sh(lab.node, `conntrack -L -p udp --orig-dst ${UDP} 2>/dev/null`);
    expect((await flows()).stdout).toContain(`src=${PODS.p3}`);
    await proxier.update(view(2, { p3Ready: false, udpP3: false }));
    const counts = await spread(lab, client, `http://${WEB}/`, 150);
    expect(Object.keys(counts).sort()).toEqual(['p1', 'p2']);
    expect((await flows()).stdout).not.toContain(`src=${PODS.p3}`);
  });

  it('after a restart, takes over the rules it finds: no jump twice, the chains of a removed service deleted', async () => {
    const sepChains = (text: string) => text.split('\n').filter((l) => l.startsWith(`:GRV-${tag}-SEP-`)).map((l) => l.split(' ')[0]);
    const before = sepChains(await saved());
    expect(before).toHaveLength(6); // web p1 p2, sticky p1 p2 p3, self p1
    const restarted = newProxier();
    await restarted.update(view(3, { p3Ready: false, udpP3: false, withSelf: false }));
    const after = await saved();
    expect(after.split('\n').filter((l) => l.includes(`comment "grove ${tag} services"`))).toHaveLength(4);
    const left = sepChains(after);
    expect(left).toHaveLength(5);
    expect(before.filter((c) => !left.includes(c))).toHaveLength(1);
    expect(after).not.toContain(`${SELF}/32`);
    proxier = restarted;
  });

  it('programs the rules again within the resync period after a firewall reload flushed the tables', async () => {
    // The agent's path: NetworkSync hands the view to the proxier and asks it to check every resync period (shortened here).
    const v = view(4, { p3Ready: true, udpP3: false, withSelf: false });
    const store = new MemoryStore();
    await store.open();
    const sync = new NetworkSync({ cluster: 'lab', store, consumers: [proxier], clock: systemClock(), logger: silentLogger(), resyncMs: 300 });
    await sync.start();
    for (const service of v.services) sync.handle(`grove/v1/lab/network/services/${service.namespace}/${service.name}`, encodeNetworkService({ schema: 1, revision: v.revision, service }));
    const { services, ...rest } = v;
    sync.handle('grove/v1/lab/network/cluster', encodeNetworkCluster({ schema: 1, ...rest, services: Object.fromEntries(services.map((x) => [`${x.namespace}/${x.name}`, v.revision])) }));
    await sync.idle();
    try {
      expect((await lab.sh(client, `timeout 5 busybox wget -q -O - http://${WEB}/`)).stdout.trim()).toMatch(/^p[123]$/);
      // What `iptables -t nat -F` does on a firewall reload: every rule of the table gone, jumps included.
      await lab.sh(lab.node, 'iptables -t nat -F');
      expect(await saved()).not.toMatch(new RegExp(`-A PREROUTING .*-j GRV-${tag}-SERVICES`));
      await eventually(async () => (await lab.sh(client, `timeout 2 busybox wget -q -O - http://${WEB}/`)).stdout.trim().match(/^p[123]$/) ?? undefined, 10_000, 'the ClusterIP answering again');
      expect(await saved()).toMatch(new RegExp(`-A PREROUTING .*-j GRV-${tag}-SERVICES`));
    } finally {
      await sync.stop();
    }
  });

  it('cleanup() leaves nothing of its tag', async () => {
    expect(await saved()).toContain(`GRV-${tag}-`);
    await proxier.cleanup();
    expect(await saved()).not.toContain(`GRV-${tag}`);
    // Twice is harmless.
    await proxier.cleanup();
  });
});
