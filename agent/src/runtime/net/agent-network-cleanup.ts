/**
 * Everything an agent's network programmed on its host, removed (docs/networking.md "Removing a
 * node's network"): what `grove agent cleanup-network` (and through it uninstall.sh) runs on a
 * stopped node, and what tests run after killing an agent. Each network view consumer removes
 * its own part with its own cleanup() — the overlay's device and routes, the pod egress chains,
 * the service proxier's chains, compose isolation's chain — so the knowledge of what each one
 * adds lives in that consumer only; then the cluster DNS interface, Caddy's run directory, the
 * pod sandboxes' network attachments (CNI DEL, namespaces) and the node bridge.
 *
 * Best effort, step by step: a step that fails is reported and the others still run, so one
 * broken piece never leaves the rest behind. Everything carries the data dir's tag, so another
 * agent on the same host (tests) keeps its own.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { runCommand } from '../run-command.js';
import { agentPodNetwork, netTag, openPodSandboxes, SANDBOX_RUN_ROOT } from '../pod-sandbox-setup.js';
import { ComposeIsolation } from './compose-isolation-programmer.js';
import { dnsInterfaceName, removeDnsInterface } from './dns-interface.js';
import { ingressRunDir } from './ingress-caddy-process.js';
import { podNetworkConsumers } from './pod-network-consumers.js';
import { ServiceProxier } from './proxier.js';

export interface AgentNetworkCleanupOptions {
  dataDir: string;
  logger: Logger;
  /** The node bridge (config.json podBridge): its pods' attachments are undone, then it is deleted. Absent: both skipped. */
  bridge?: string;
  /** config.json podSubnet: what attachments recorded without their config were made with. */
  podSubnet?: string;
  /** Where the run directories live (tests); default /run/grove. */
  runRoot?: string;
}

export interface CleanupStep {
  /** What the step removes, for the report (e.g. "service proxier rules"). */
  what: string;
  /** Undefined when it went well (or there was nothing to remove). */
  error?: string;
}

/** The consumers whose cleanup() removes what they programmed, built without starting anything. */
export function programmedNetwork(dataDir: string, logger: Logger, bridge = 'grove0', podSubnet = '10.42.0.0/16'): { what: string; consumer: NetworkViewConsumer }[] {
  const tag = netTag(dataDir);
  const local = { bridge, ipamDataDir: join(dataDir, 'cni', 'ipam'), podSubnet };
  const [overlay, egress] = podNetworkConsumers({ dataDir, nodeName: 'cleanup', network: agentPodNetwork(dataDir, undefined, logger), local, logger });
  return [
    { what: 'service proxier rules', consumer: new ServiceProxier({ nodeName: 'cleanup', addresses: [], tag, logger }) },
    { what: 'compose isolation rules', consumer: new ComposeIsolation({ tag, pods: () => [], logger }) },
    { what: 'pod egress rules', consumer: egress },
    { what: 'overlay device and routes', consumer: overlay },
  ];
}

/** Runs every step; resolves with each step's outcome (never rejects). */
export async function cleanupAgentNetwork(o: AgentNetworkCleanupOptions): Promise<CleanupStep[]> {
  const tag = netTag(o.dataDir);
  const runRoot = o.runRoot ?? SANDBOX_RUN_ROOT;
  const steps: CleanupStep[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
      steps.push({ what });
    } catch (err) {
      steps.push({ what, error: errorMessage(err) });
      o.logger.warn({ err: errorMessage(err) }, `network cleanup: ${what} not removed`);
    }
  };
  // The pods' attachments first: CNI DEL needs the bridge and removes its own port mappings.
  if (o.bridge && o.podSubnet) {
    const settings = { bridge: o.bridge, subnet: o.podSubnet, ipamDataDir: join(o.dataDir, 'cni', 'ipam') };
    await step('pod network attachments', async () => {
      const sandboxes = await openPodSandboxes(o.dataDir, settings, o.logger);
      const failed: string[] = [];
      for (const s of await sandboxes.list()) await sandboxes.remove(s.pod).catch((err: unknown) => failed.push(`${s.pod}: ${errorMessage(err)}`));
      if (failed.length) throw new Error(failed.join('; '));
    });
  }
  for (const { what, consumer } of programmedNetwork(o.dataDir, o.logger, o.bridge, o.podSubnet)) await step(what, () => consumer.cleanup());
  await step(`cluster DNS interface ${dnsInterfaceName(tag)}`, () => removeDnsInterface(dnsInterfaceName(tag)));
  await step('ingress run directory', () => rm(ingressRunDir(tag, runRoot), { recursive: true, force: true }));
  if (o.bridge) await step(`node bridge ${o.bridge}`, () => deleteLinkIfPresent(o.bridge!));
  return steps;
}

async function deleteLinkIfPresent(name: string): Promise<void> {
  const shown = await runCommand('ip', ['-o', 'link', 'show', 'dev', name], { timeoutMs: 10_000 });
  if (shown.exitCode !== 0) return; // absent: nothing to remove
  const r = await runCommand('ip', ['link', 'delete', name], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`ip link delete ${name}: ${r.output.trim()}`);
}
