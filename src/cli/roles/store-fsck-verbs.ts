/** The two fsck verbs: which store, and which entry check, for `grove server fsck` and `grove agent fsck`. */
import { join } from 'node:path';
import { agentEntryCheck } from '../../../agent/src/agent/store-checks.js';
import type { CliContext } from '../context.js';
import type { Values } from '../config/option.js';
import type { FSCK_OPTIONS } from './fsck-options.js';
import { serverStoreCheck } from './sealed-store-setup.js';
import { agentStorePath, runFsck, serverStorePath } from './store-fsck.js';

export function runServerFsck(ctx: CliContext, options: Values<typeof FSCK_OPTIONS>): Promise<number> {
  return runFsck(ctx, { role: 'server', path: serverStorePath(ctx.dataDir), check: () => serverStoreCheck(join(ctx.dataDir, 'server')) }, options);
}

export function runAgentFsck(ctx: CliContext, options: Values<typeof FSCK_OPTIONS>): Promise<number> {
  return runFsck(ctx, { role: 'agent', path: agentStorePath(ctx.dataDir), check: async () => agentEntryCheck }, options);
}
