import type { Command } from 'commander';
import { AGENT_OPTIONS } from '../config/role-options.js';
import { NO_OPTIONS, type Act } from '../verb.js';
import { FSCK_OPTIONS } from './fsck-options.js';

// Registration only: the agent loads when the verb runs.
export function registerAgent(program: Command, act: Act): void {
  const agent = act(
    program.command('agent').description('run the node agent: join a server with a token once, then follow its desired state over MQTT'),
    AGENT_OPTIONS,
    async (ctx, _args, options) => (await import('./agent-run.js')).runAgent(ctx, options),
  );
  act(
    agent.command('fsck').description("check a stopped agent's store: missing commits, corrupt entries (quarantined so the agent starts)"),
    FSCK_OPTIONS,
    async (ctx, _args, options) => (await import('./store-fsck-verbs.js')).runAgentFsck(ctx, options),
  );
  // Hidden: uninstall.sh's step, not an everyday verb (docs/networking.md "Removing a node's network").
  act(
    agent.command('cleanup-network', { hidden: true }).description("remove everything the stopped agent of --data-dir programmed on the host's network"),
    NO_OPTIONS,
    async (ctx) => (await import('./agent-cleanup-network.js')).runCleanupNetwork(ctx),
  );
}
