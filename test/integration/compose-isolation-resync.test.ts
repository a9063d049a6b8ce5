/**
 * Compose isolation against real iptables, and its resync (docs/networking.md "Compose
 * networking", "Resync"): a node and three compose pods made of network namespaces
 * (test/support/service-lab.ts), the node's ComposeIsolation programming the mangle table inside
 * the node's namespace from a network view delivered the agent's way (NetworkSync, its resync
 * period shortened). `proxy` shares no network with `db` and is cut off from it; `web` shares
 * one and reaches it. Then the chain is flushed, and its jump deleted, behind the agent's back
 * (what a firewall reload does): the next resync round puts each back and `proxy` is cut off
 * again. A round that finds the chain as programmed runs no transaction.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetworkSync } from '../../agent/src/agent/network-sync.js';
import { runBatch } from '../../agent/src/runtime/net/batch-command.js';
import { ComposeIsolation } from '../../agent/src/runtime/net/compose-isolation-programmer.js';
import type { LocalPod } from '../../agent/src/runtime/net/compose-isolation.js';
import { runCommand } from '../../agent/src/runtime/run-command.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ServiceView } from '../../src/core/network/view.js';
import { encodeNetworkCluster, encodeNetworkService } from '../../src/core/wire-network.js';
import { WIRE_SCHEMA } from '../../src/core/wire-types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { eventually } from '../support/grove-cli.js';
import { describeWith } from '../support/prereq.js';
import { createServiceLab, LAB, type ServiceLab } from '../support/service-lab.js';

const IPS = { db: '10.42.0.21', proxy: '10.42.0.22', web: '10.42.0.23' } as const;
const TOPOLOGY = 'db=back;proxy=front;web=front,back';
const NETS: Record<keyof typeof IPS, string[]> = { db: ['back'], proxy: ['front'], web: ['front', 'back'] };

const composePod = (svc: keyof typeof IPS): LocalPod => ({
  namespace: 'shop',
  name: `${svc}-1`,
  ip: IPS[svc],
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': svc, ...Object.fromEntries(NETS[svc].map((n) => [`network.compose.grove.io/${n}`, 'bridge'])) },
  annotations: { 'grove.io/compose-networks': TOPOLOGY },
});
const service = (svc: keyof typeof IPS, i: number): ServiceView => ({
  namespace: 'shop', name: svc, type: 'ClusterIP', clusterIP: `10.43.0.${20 + i}`, ports: [{ name: 'tcp-8080', protocol: 'TCP', port: 8080 }],
  endpoints: [{ ip: IPS[svc], ready: true, ports: { 'tcp-8080': 8080 }, targetRef: `shop/${svc}-1` }],
});

describeWith(['root', 'iproute2', 'iptables', 'busybox'], 'compose isolation on real iptables, with resync', () => {
  let lab: ServiceLab;
  let sync: NetworkSync | undefined;
  let iso: ComposeIsolation;
  const ns: Record<string, string> = {};
  const tag = randomBytes(3).toString('hex');
  const chain = `GRV-${tag}-CNET`;
  let restores = 0;

  const mangle = async () => (await lab.sh(lab.node, 'iptables-save -t mangle')).stdout;
  /** One connection from `from` to db's httpd; true when it answered. */
  const reachesDb = async (from: 'proxy' | 'web') => (await lab.sh(ns[from]!, `timeout 2 busybox wget -q -O - http://${IPS.db}:8080/`)).stdout.trim() === 'db';

  beforeAll(async () => {
    lab = await createServiceLab();
    for (const svc of Object.keys(IPS) as (keyof typeof IPS)[]) ns[svc] = await lab.addPod(svc, IPS[svc]);
    await lab.serveHttp('db');
    iso = new ComposeIsolation({
      tag,
      pods: () => [composePod('db'), composePod('proxy'), composePod('web')],
      logger: silentLogger(),
      host: {
        restore: async (input) => {
          restores++;
          await runBatch('iptables-restore', input, { path: lab.tool('iptables-restore') });
        },
        save: async () => (await runCommand(lab.tool('iptables-save'), ['-t', 'mangle'], { timeoutMs: 30_000 })).output,
      },
    });
    // The agent's path: NetworkSync hands the view over and asks for a check every resync period (shortened).
    const store = new MemoryStore();
    await store.open();
    sync = new NetworkSync({ cluster: 'lab', store, consumers: [iso], clock: systemClock(), logger: silentLogger(), resyncMs: 300 });
    await sync.start();
    const services = (['db', 'proxy', 'web'] as const).map(service);
    for (const s of services) sync.handle(`grove/v1/lab/network/services/shop/${s.name}`, encodeNetworkService({ schema: WIRE_SCHEMA, revision: 1, service: s }));
    sync.handle('grove/v1/lab/network/cluster', encodeNetworkCluster({
      schema: WIRE_SCHEMA, revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local',
      overlay: { backend: 'none', vni: 1, port: 8472 }, nodes: [{ name: 'n1', internalIP: LAB.nodeIP, podCIDR: '10.42.0.0/24' }],
      services: Object.fromEntries(services.map((s) => [`shop/${s.name}`, 1])),
    }));
    await sync.idle();
  });
  afterAll(async () => {
    await sync?.stop();
    await lab?.destroy();
  });

  it('cuts off the service that shares no network, and leaves the host alone while the chain is as programmed', async () => {
    expect(await mangle()).toContain(`-A FORWARD -j ${chain}`);
    expect(await reachesDb('web')).toBe(true);
    expect(await reachesDb('proxy')).toBe(false);
    const after = restores;
    // Several resync rounds read iptables-save's own rendering of the rules and find nothing to do.
    await new Promise((r) => setTimeout(r, 1200));
    expect(restores).toBe(after);
  });

  it('puts a flushed chain back on the next resync round', async () => {
    await lab.sh(lab.node, `iptables -t mangle -F ${chain}`);
    expect(await mangle()).not.toContain(`-A ${chain} `);
    await eventually(async () => (await mangle()).includes(`-A ${chain} -s ${IPS.proxy}/32 -d ${IPS.db}/32`), 10_000, 'the rules back in the chain');
    expect(await reachesDb('proxy')).toBe(false);
    expect(await reachesDb('web')).toBe(true);
  });

  it('puts a deleted jump back, and a chain flushed with its whole table', async () => {
    await lab.sh(lab.node, `iptables -t mangle -D FORWARD -j ${chain}`);
    expect(await reachesDb('proxy')).toBe(true); // isolation lifted behind the agent's back
    await eventually(async () => (await mangle()).includes(`-A FORWARD -j ${chain}`), 10_000, 'the jump back');
    expect(await reachesDb('proxy')).toBe(false);
    await lab.sh(lab.node, 'iptables -t mangle -F && iptables -t mangle -X');
    await eventually(async () => {
      const saved = await mangle();
      return saved.includes(`-A FORWARD -j ${chain}`) && saved.includes(`-A ${chain} -s ${IPS.proxy}/32`);
    }, 10_000, 'chain and jump back after the table was flushed');
    expect(await reachesDb('proxy')).toBe(false);
  });

  it('cleanup() removes the chain and its jump', async () => {
    await sync?.stop();
    sync = undefined;
    await iso.cleanup();
    expect(await mangle()).not.toContain(chain);
    expect(await reachesDb('proxy')).toBe(true);
  });
});
