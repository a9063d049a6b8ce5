/** The two fsck verbs: which store, and which entry check, for `grove server fsck` and `grove agent fsck`. */
import { join } from 'node:path';
import { agentEntryCheck } from '../../../agent/src/agent/store-checks.js';
import type { CliContext } from '../context.js';
import { serverStoreCheck } from './sealed-store-setup.js';
import { agentStorePath, runFsck, serverStorePath } from './store-fsck.js';

export function runServerFsck(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  return runFsck(ctx, { role: 'server', path: serverStorePath(ctx.dataDir), check: () => serverStoreCheck(join(ctx.dataDir, 'server')) }, options);
}

export function runAgentFsck(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  return runFsck(ctx, { role: 'agent', path: agentStorePath(ctx.dataDir), check: async () => agentEntryCheck }, options);
}
