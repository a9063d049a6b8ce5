/**
 * The agent's pod sandboxes for one data dir: records under <data>/agent/sandboxes, namespaces
 * and files under /run/grove/sandboxes-<hash of the data dir> (a tmpfs, so a reboot clears them;
 * per data dir, so agents of several data dirs on one host never collect each other's), and
 * the node bridge of config.json (podBridge, podSubnet) with the lease dir `grove ctr` uses.
 * The agent's CNI attachments are recorded apart from ctr's, so collecting the agent's stale
 * ones never touches a `grove ctr run --network bridge` container.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../src/core/logger.js';
import type { PodNetworkSettings } from './cni/cni-config.js';
import { PodNetwork } from './cni/pod-network.js';
import { PodSandboxes } from './pod-sandbox.js';
import type { ClusterDnsSettings } from './resolv-conf.js';

export const SANDBOX_RUN_ROOT = '/run/grove';

export function sandboxRunDir(dataDir: string, root = SANDBOX_RUN_ROOT): string {
  return join(root, `sandboxes-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`);
}

/**
 * 6 hex characters naming what this data dir's agent programs on the host network (the VXLAN
 * device grvx-<tag>, iptables chains GRV-<tag>-…): agents of several data dirs may share one
 * network namespace (tests), and cleanup removes exactly what carries its own tag.
 */
export function netTag(dataDir: string): string {
  return createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 6);
}

/** The PodNetwork of the agent's pods (its attachments recorded apart from `grove ctr`'s). */
export function agentPodNetwork(dataDir: string, settings: PodNetworkSettings | undefined, logger: Logger, searchPath?: string): PodNetwork {
  return new PodNetwork({ settings, stateDir: join(dataDir, 'cni', 'pod-attachments'), logger, ...(searchPath ? { searchPath } : {}) });
}

/** `network`: settings (a PodNetwork is made), or the agent's PodNetwork (whose settings the network view keeps current). */
export async function openPodSandboxes(dataDir: string, network: PodNetworkSettings | PodNetwork, logger: Logger, searchPath?: string, clusterDns?: ClusterDnsSettings): Promise<PodSandboxes> {
  const sandboxes = new PodSandboxes({
    ...(clusterDns ? { clusterDns } : {}),
    stateDir: join(dataDir, 'agent', 'sandboxes'),
    runDir: sandboxRunDir(dataDir),
    network: network instanceof PodNetwork ? network : agentPodNetwork(dataDir, network, logger, searchPath),
    logger,
  });
  await sandboxes.init();
  return sandboxes;
}
