import type { Command } from 'commander';
import { collect, type Act } from '../verb.js';

// Registration only: the control plane loads when the verb runs.
export function registerServer(program: Command, act: Act): void {
  const server = program
    .command('server')
    .description('run the control plane: API, store, scheduler, embedded MQTT broker and (unless --no-agent) a local agent')
    .option('--api-addr <host:port>', 'HTTP API listen address', '0.0.0.0:7080')
    .option('--mqtt-addr <host:port>', 'embedded MQTT broker listen address', '0.0.0.0:1883')
    .option('--mqtt-max-connections <n>', 'embedded broker: most MQTT connections at once (nodes + the server itself)', '5000')
    .option('--mqtt-url <url>', 'use an external broker (e.g. Mosquitto) instead of the embedded one; with --broker-credentials a comma-separated list of cluster members')
    .option('--broker-credentials <file>', 'with --mqtt-url: a broker with its own users (NATS, EMQX): JSON {server:{username,password}, node:{username,password}}; no Mosquitto files are written')
    .option('--mosquitto-dir <dir>', 'with --mqtt-url: where to write mosquitto.conf, passwd and acl (default <data-dir>/server/mosquitto)')
    .option('--mosquitto-pid-file <file>', 'with --mqtt-url: reload this Mosquitto (SIGHUP) when nodes join')
    .option('--mosquitto-user <user>', "with --mqtt-url: the user Mosquitto drops to (its `user` option; default Mosquitto's own)")
    .option('--max-api-connections <n>', 'HTTP API: most connections open at once; more are refused as they arrive (keep it and --mqtt-max-connections under the open-file limit)', '10000')
    .option('--max-joins-in-flight <n>', 'joins worked on at once; more are answered 503 with Retry-After and the agents retry', '1000')
    .option('--advertise-addr <host>', 'address nodes use to reach this server (default: first LAN IPv4)')
    .option('--cluster <name>', 'cluster name, chosen at first start', undefined)
    .option('--tls', 'serve the API and MQTT over TLS with a cluster CA generated at first start')
    .option('--no-agent', 'do not run an agent for this host')
    .option('--node-name <name>', 'name of the local node (default: hostname)')
    .option('--label <k=v>', 'label for the local node (repeatable)', collect, [])
    .option('--node-grace <duration>', 'a node silent this long (no status, no presence) is NotReady', '40s')
    .option('--eviction-timeout <duration>', 'Deployment pods move off a node NotReady this long (per app: annotation grove.io/eviction-timeout)', '5m')
    .option('--host-path-root <dir>', 'hostPath volumes must lie under this directory (repeatable; none = any path, see docs/security.md)', collect, [])
    .action(act(async (ctx, _args, options) => (await import('./server-run.js')).runServer(ctx, options)));
  registerBackup(server, act);
  server
    .command('fsck')
    .description("check a stopped server's store: missing commits, corrupt entries (quarantined so their names work again)")
    .option('--dry-run', 'list what is wrong, change nothing (exit 1 when something is)')
    .option('--accept-loss', 'open a store that lost commits anyway: its revision moves past the highest known, so nodes take new targets')
    .action(act(async (ctx, _args, options) => (await import('./store-fsck-verbs.js')).runServerFsck(ctx, options)));
}

function registerBackup(server: Command, act: Act): void {
  server
    .command('backup')
    .description('write a consistent snapshot of the running server\'s store to FILE (through the API)')
    .argument('<file>', 'where to write the backup')
    .action(act(async (ctx, args, options) => (await import('./server-backup.js')).runBackup(ctx, args[0] as string, options)));
  server
    .command('restore')
    .description('replace the store of a stopped server with the contents of a backup FILE')
    .argument('<file>', 'a file written by grove server backup')
    .option('--force', 'restore a backup of another cluster into this data dir')
    .action(act(async (ctx, args, options) => (await import('./server-backup.js')).runRestore(ctx, args[0] as string, options)));
}

