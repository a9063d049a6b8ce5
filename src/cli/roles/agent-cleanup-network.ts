/**
 * `grove agent cleanup-network` (hidden; docs/networking.md "Removing a node's network"): removes
 * everything the stopped agent of this data dir programmed on the host — service, egress and
 * compose chains, the overlay device and routes, the cluster DNS interface, Caddy's run
 * directory, the pods' network attachments and the node bridge — through the network
 * consumers' own cleanup (agent-network-cleanup.ts). uninstall.sh runs it before removing the
 * data dir. Refused while an agent (or a server with its local agent) holds the data dir.
 */
import { stat } from 'node:fs/promises';
import { cleanupAgentNetwork } from '../../../agent/src/runtime/net/agent-network-cleanup.js';
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { writeLine } from '../io.js';
import { loadLocalConfig } from '../local-config.js';
import { agentStorePath, roleStore } from './store-fsck.js';

export async function runCleanupNetwork(ctx: CliContext): Promise<number> {
  await refuseWhileRunning(ctx);
  const config = await loadLocalConfig(ctx.dataDir);
  const steps = await cleanupAgentNetwork({ dataDir: ctx.dataDir, logger: ctx.logger, bridge: config.podBridge, podSubnet: config.podSubnet });
  const failed = steps.filter((s) => s.error !== undefined);
  for (const s of failed) writeLine(ctx.io.stderr, `grove: network cleanup: ${s.what}: ${s.error}`);
  writeLine(ctx.io.stdout, failed.length === 0 ? `network of ${ctx.dataDir} removed` : `network of ${ctx.dataDir}: ${failed.length} of ${steps.length} steps failed`);
  return failed.length === 0 ? 0 : 1;
}

/** The agent's store is locked while it runs: its rules would come back at its next view. */
async function refuseWhileRunning(ctx: CliContext): Promise<void> {
  const path = agentStorePath(ctx.dataDir);
  if (!(await stat(path).then((s) => s.isDirectory(), () => false))) return;
  const store = roleStore('agent', path, ctx.logger);
  try {
    await store.open();
  } catch (err) {
    if (isGroveError(err) && err.details.locked === true) {
      throw new GroveError(ErrorCode.Conflict, `the agent of ${ctx.dataDir} is running: stop it (systemctl stop grove) before removing its network`, { cause: err });
    }
    return; // a damaged store does not stop the cleanup: it only tells whether an agent runs
  }
  await store.close();
}
