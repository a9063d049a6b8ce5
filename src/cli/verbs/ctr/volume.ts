import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import type { CliContext } from '../../context.js';
import type { Act } from '../../verb.js';
import { volumeTable } from '../volume-table.js';
import { openRuntime } from './open.js';

/** `grove ctr volume ls|rm`: this node's named volumes (<data-dir>/volumes), no server needed. */
export function registerVolume(ctr: Command, act: Act): void {
  const volume = ctr.command('volume').description("this node's named volumes");
  const mounting = async (ctx: CliContext, options: Record<string, unknown>) =>
    (await (await openRuntime(ctx, options)).containers.list({ all: true })).map((v) => ({ name: v.name, state: v.state, mounts: v.spec.mounts ?? [] }));
  volume
    .command('ls')
    .description('list named volumes and the containers using them')
    .action(
      act(async (ctx, _args, options) => {
        const { listNamedVolumes } = await import('../../../../agent/src/agent/volumes/named-volumes.js');
        const volumes = await listNamedVolumes(ctx.dataDir, await mounting(ctx, options));
        writeLine(ctx.io.stdout, volumeTable(volumes, false, new Date()));
      }),
    );
  volume
    .command('rm')
    .description('remove named volumes and their data (refused while a container uses one)')
    .argument('<name...>')
    .action(
      act(async (ctx, [names], options) => {
        const { removeNamedVolume } = await import('../../../../agent/src/agent/volumes/named-volumes.js');
        const containers = await mounting(ctx, options);
        for (const name of names as string[]) {
          await removeNamedVolume(ctx.dataDir, name, containers);
          writeLine(ctx.io.stdout, name);
        }
      }),
    );
}
