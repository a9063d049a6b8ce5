import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import type { CliContext } from '../../context.js';
import { argList, NO_OPTIONS, type Act } from '../../verb.js';
import { volumeTable } from '../volume-table.js';
import { openRuntime } from './open.js';

/** `grove ctr volume ls|rm`: this node's named volumes (<data-dir>/volumes), no server needed. */
export function registerVolume(ctr: Command, act: Act): void {
  const volume = ctr.command('volume').description("this node's named volumes");
  const mounting = async (ctx: CliContext) =>
    (await (await openRuntime(ctx)).containers.list({ all: true })).map((v) => ({ name: v.name, state: v.state, mounts: v.spec.mounts ?? [] }));
  act(volume.command('ls').description('list named volumes and the containers using them'), NO_OPTIONS, async (ctx) => {
    const { listNamedVolumes } = await import('../../../../agent/src/agent/volumes/named-volumes.js');
    const volumes = await listNamedVolumes(ctx.dataDir, await mounting(ctx));
    writeLine(ctx.io.stdout, volumeTable(volumes, false, new Date()));
  });
  act(volume.command('rm').description('remove named volumes and their data (refused while a container uses one)').argument('<name...>'), NO_OPTIONS, async (ctx, [names]) => {
    const { removeNamedVolume } = await import('../../../../agent/src/agent/volumes/named-volumes.js');
    const containers = await mounting(ctx);
    for (const name of argList(names)) {
      await removeNamedVolume(ctx.dataDir, name, containers);
      writeLine(ctx.io.stdout, name);
    }
  });
}
