import type { Command } from 'commander';
import { collect, type Act } from '../verb.js';

// Registration only: the agent loads when the verb runs.
export function registerAgent(program: Command, act: Act): void {
  const agent = program
    .command('agent')
    .description('run the node agent: join a server with a token once, then follow its desired state over MQTT')
    .option('--server <url>', 'server API URL, e.g. https://192.168.1.10:7080 (needed to join; env GROVE_SERVER_URL)')
    .option('--token-file <file>', 'file holding the join token from `grove token create`, read for the first join only (env GROVE_TOKEN_FILE, or the token in GROVE_TOKEN)')
    .option('--token <token>', 'join token: joins (again), proving the node\'s name with its saved credential; visible in ps, prefer --token-file')
    .option('--node-name <name>', 'this node\'s name (default: $GROVE_NODE_NAME, else hostname)')
    .option('--label <k=v>', 'node label (repeatable; default $GROVE_LABELS, comma-separated)', collect, [])
    .option('--runtime <name>', 'OCI runtime: auto|crun|runc')
    .option('--restart-backoff <duration>', 'first delay before restarting an exited container, doubling to 5m (default 10s; env GROVE_RESTART_BACKOFF_SECONDS)')
    .option('--update-lock-max <duration>', 'longest an update lock may defer a stop, for apps without grove.io/update-lock-max (default 1h; env GROVE_UPDATE_LOCK_MAX)')
    .option('--host-path-root <dir>', 'hostPath volumes must lie under this directory on this node (repeatable; none = any path, see docs/security.md)', collect, [])
    .action(act(async (ctx, _args, options) => (await import('./agent-run.js')).runAgent(ctx, options)));
  agent
    .command('fsck')
    .description("check a stopped agent's store: missing commits, corrupt entries (quarantined so the agent starts)")
    .option('--dry-run', 'list what is wrong, change nothing (exit 1 when something is)')
    .option('--accept-loss', 'open a store that lost commits anyway: its revision moves past the highest known')
    .action(act(async (ctx, _args, options) => (await import('./store-fsck-verbs.js')).runAgentFsck(ctx, options)));
}

