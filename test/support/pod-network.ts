/**
 * Test-only: every test agent gets a node bridge and pod subnet of its own (config.json), so
 * agents of tests running side by side never share a bridge or hand out one address twice,
 * and `teardownAgentNetwork` removes what the agent left on the host (after a SIGKILL the agent
 * cannot): `grove agent cleanup-network`'s cleanupAgentNetwork, then whatever of the pod
 * sandboxes CNI DEL could not undo from outside the agent's namespace.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sandboxRunDir } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { cleanupAgentNetwork } from '../../agent/src/runtime/net/agent-network-cleanup.js';
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
  const path = join(dataDir, 'config.json');
  const c = existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as { podBridge?: string; podSubnet?: string }) : {};
  // What the agent programmed on the host (a SIGKILLed agent cannot remove it): the production
  // cleanup `grove agent cleanup-network` runs, through each network consumer's own cleanup().
  const bridge = c.podBridge && c.podSubnet ? { bridge: c.podBridge, podSubnet: c.podSubnet } : {};
  await cleanupAgentNetwork({ dataDir, logger: silentLogger(), ...bridge });
  if (!c.podBridge || !c.podSubnet) return;
  // What CNI DEL could not undo from here (an agent that ran in a network namespace of its own:
  // its bridge and rules went with that namespace) is forced away: namespaces and their files.
  const runDir = sandboxRunDir(dataDir);
  for (const id of await readdir(runDir).catch(() => [] as string[])) {
    tryRun('ip', ['netns', 'delete', `grove-${id}`]);
    for (const ns of ['ipc', 'uts']) tryRun('umount', [join(runDir, id, ns)]);
    await rm(join(runDir, id), { recursive: true, force: true }).catch(() => undefined);
  }
  await rmdir(runDir).catch(() => undefined);
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: what is already gone is fine
  }
}
