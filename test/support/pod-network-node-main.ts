/**
 * Test-only entry point: one node's pod network, driven inside that node's network namespace
 * (`nsenter --net=/run/netns/<node> node dist/test/support/pod-network-node-main.js '<json>'`),
 * as its agent would: the Overlay and the PodNetworkProgrammer take a view, then pods attach or
 * detach through PodNetwork. Prints one JSON line: {"ips": {...}} or {"error": "..."}.
 *
 *   {"op": "apply", "dataDir", "nodeName", "bridge", "view", "attach"?: [ids], "detach"?: [ids]}
 *   {"op": "cleanup", "dataDir", "nodeName", "bridge", "detach"?: [ids]}
 *
 * apply also programs the service proxier's rules; with "all": true the rest of what an agent
 * programs from a view too: compose isolation's chain, the cluster DNS interface (169.254.20.10)
 * and Caddy's run directory — what `grove agent cleanup-network` must remove.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ComposeIsolation } from '../../agent/src/runtime/net/compose-isolation-programmer.js';
import { dnsInterfaceName, ensureDnsInterface } from '../../agent/src/runtime/net/dns-interface.js';
import { ingressRunDir } from '../../agent/src/runtime/net/ingress-caddy-process.js';
import { ServiceProxier } from '../../agent/src/runtime/net/proxier.js';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import { podNetworkConsumers } from '../../agent/src/runtime/net/pod-network-consumers.js';
import { errorMessage } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';

interface Command {
  op: 'apply' | 'cleanup';
  dataDir: string;
  nodeName: string;
  bridge: string;
  view?: ClusterNetworkView;
  attach?: string[];
  detach?: string[];
  all?: boolean;
}

async function main(): Promise<void> {
  const cmd = JSON.parse(process.argv[2] ?? '{}') as Command;
  const logger = silentLogger();
  const local = { bridge: cmd.bridge, ipamDataDir: join(cmd.dataDir, 'cni', 'ipam'), podSubnet: '10.99.0.0/16' };
  const network = new PodNetwork({ settings: undefined, stateDir: join(cmd.dataDir, 'cni', 'pod-attachments'), logger });
  const [overlay, programmer] = podNetworkConsumers({ dataDir: cmd.dataDir, nodeName: cmd.nodeName, network, local, logger });
  const proxier = new ServiceProxier({ nodeName: cmd.nodeName, addresses: [], tag: netTag(cmd.dataDir), logger });
  const ips: Record<string, string> = {};
  if (cmd.op === 'apply' && cmd.view) {
    await overlay.update(cmd.view);
    await programmer.update(cmd.view);
    await proxier.update(cmd.view);
    if (cmd.all) await programEverythingElse(cmd.dataDir, cmd.view);
  }
  for (const id of cmd.detach ?? []) await network.detach(id);
  for (const id of cmd.attach ?? []) ips[id] = (await network.attach(id, [])).ip;
  if (cmd.op === 'cleanup') {
    await overlay.cleanup();
    await programmer.cleanup();
    await proxier.cleanup();
  }
  process.stdout.write(JSON.stringify({ ips }) + '\n');
}

async function programEverythingElse(dataDir: string, view: ClusterNetworkView): Promise<void> {
  const logger = silentLogger();
  const tag = netTag(dataDir);
  // One pod on an internal compose network only: the node then needs its isolation chain.
  const internalPod = { namespace: 'shop', name: 'worker-1', ip: '10.42.0.250', labels: { 'network.compose.grove.io/back': 'internal' }, annotations: {} };
  await new ComposeIsolation({ tag, pods: () => [internalPod], logger }).update(view);
  await ensureDnsInterface(dnsInterfaceName(tag), '169.254.20.10');
  await mkdir(ingressRunDir(tag), { recursive: true });
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ error: errorMessage(err) }) + '\n');
  process.exitCode = 1;
});
