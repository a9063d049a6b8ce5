import type { Command } from 'commander';
import { SERVER_OPTIONS } from '../config/role-options.js';
import { onOff } from '../config/option.js';
import { argText, NO_OPTIONS, type Act } from '../verb.js';
import { FSCK_OPTIONS } from './fsck-options.js';

// Registration only: the control plane loads when the verb runs.
export function registerServer(program: Command, act: Act): void {
  const server = act(
    program.command('server').description('run the control plane: API, store, scheduler, embedded MQTT broker and (unless --no-agent) a local agent'),
    SERVER_OPTIONS,
    async (ctx, _args, options) => (await import('./server-run.js')).runServer(ctx, options),
  );
  registerBackup(server, act);
  act(
    server.command('fsck').description("check a stopped server's store: missing commits, corrupt entries (quarantined so their names work again)"),
    FSCK_OPTIONS,
    async (ctx, _args, options) => (await import('./store-fsck-verbs.js')).runServerFsck(ctx, options),
  );
}

function registerBackup(server: Command, act: Act): void {
  act(
    server.command('backup').description("write a consistent snapshot of the running server's store to FILE (through the API)").argument('<file>', 'where to write the backup'),
    NO_OPTIONS,
    async (ctx, args) => (await import('./server-backup.js')).runBackup(ctx, argText(args[0], 'file')),
  );
  act(
    server
      .command('restore')
      .description('replace the store of a stopped server with the contents of a backup FILE')
      .argument('<file>', 'a file written by grove server backup'),
    { force: onOff({ description: 'restore a backup of another cluster into this data dir' }) },
    async (ctx, args, options) => (await import('./server-backup.js')).runRestore(ctx, argText(args[0], 'file'), options),
  );
}
