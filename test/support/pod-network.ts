/**
 * Test-only: every test agent gets a node bridge and pod subnet of its own (config.json), so
 * agents of tests running side by side never share a bridge or hand out one address twice,
 * and `teardownAgentNetwork` removes what the agent's pod sandboxes left (after a SIGKILL the
 * agent cannot): CNI DEL with the saved results, namespaces, files, then the bridge itself, and
 * the agent's cluster DNS interface.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPodNetwork, netTag, openPodSandboxes, sandboxRunDir } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { podNetworkConsumers } from '../../agent/src/runtime/net/pod-network-consumers.js';
import { ServiceProxier } from '../../agent/src/runtime/net/proxier.js';
import { ComposeIsolation } from '../../agent/src/runtime/net/compose-isolation-programmer.js';
import { dnsInterfaceName } from '../../agent/src/runtime/net/dns-interface.js';
import { silentLogger } from '../../src/core/logger.js';

export interface TestPodNetwork {
  bridge: string;
  subnet: string;
  /** The first three octets of the subnet, e.g. "10.123.7". */
  prefix: string;
}

/** Writes a unique podBridge / podSubnet into <dataDir>/config.json (kept when one is there). */
export async function assignPodNetwork(dataDir: string): Promise<TestPodNetwork> {
  const path = join(dataDir, 'config.json');
  if (existsSync(path)) {
    const c = JSON.parse(await readFile(path, 'utf8')) as { podBridge: string; podSubnet: string };
    return { bridge: c.podBridge, subnet: c.podSubnet, prefix: c.podSubnet.split('.').slice(0, 3).join('.') };
  }
  const prefix = `10.${200 + randomInt(50)}.${randomInt(250)}`;
  const net = { bridge: `gtp${randomBytes(4).toString('hex')}`, subnet: `${prefix}.0/24`, prefix };
  await writeFile(path, JSON.stringify({ podBridge: net.bridge, podSubnet: net.subnet }));
  return net;
}

/** Tears down every pod sandbox recorded in an agent's data dir, then deletes its bridge. */
export async function teardownAgentNetwork(dataDir: string): Promise<void> {
  // The agent's cluster DNS interface (a SIGKILLed agent cannot remove it); absent is fine.
  tryRun('ip', ['link', 'delete', dnsInterfaceName(netTag(dataDir))]);
  const path = join(dataDir, 'config.json');
  const c = existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as { podBridge?: string; podSubnet?: string }) : {};
  // What the agent's network view consumers programmed on the host (overlay device and routes,
  // egress and service chains, all carrying the data dir's tag): their own cleanup removes it.
  const logger = silentLogger();
  const local = { bridge: c.podBridge ?? 'grove0', ipamDataDir: join(dataDir, 'cni', 'ipam'), podSubnet: c.podSubnet ?? '10.42.0.0/16' };
  const programmed = [
    ...podNetworkConsumers({ dataDir, nodeName: 'teardown', network: agentPodNetwork(dataDir, undefined, logger), local, logger }),
    new ServiceProxier({ nodeName: 'teardown', addresses: [], tag: netTag(dataDir), logger }),
    new ComposeIsolation({ tag: netTag(dataDir), pods: () => [], logger }),
  ];
  for (const consumer of programmed) await consumer.cleanup().catch(() => undefined);
  if (!c.podBridge || !c.podSubnet) return;
  const sandboxes = await openPodSandboxes(dataDir, { bridge: c.podBridge, subnet: c.podSubnet, ipamDataDir: join(dataDir, 'cni', 'ipam') }, silentLogger());
  for (const s of await sandboxes.list()) await sandboxes.remove(s.pod).catch(() => undefined);
  // What CNI DEL could not undo from here (an agent that ran in a network namespace of its own:
  // its bridge and rules went with that namespace) is forced away: namespaces and their files.
  const runDir = sandboxRunDir(dataDir);
  for (const id of await readdir(runDir).catch(() => [] as string[])) {
    tryRun('ip', ['netns', 'delete', `grove-${id}`]);
    for (const ns of ['ipc', 'uts']) tryRun('umount', [join(runDir, id, ns)]);
    await rm(join(runDir, id), { recursive: true, force: true }).catch(() => undefined);
  }
  await rmdir(runDir).catch(() => undefined);
  tryRun('ip', ['link', 'delete', c.podBridge]); // never made, or already gone: fine
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: what is already gone is fine
  }
}
