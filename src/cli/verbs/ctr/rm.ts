import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import { onOff } from '../../config/option.js';
import { argList, type Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerRm(ctr: Command, act: Act): void {
  act(
    ctr.command('rm').description('remove containers (their rootfs, bundle and logs)').argument('<container...>', 'names or IDs'),
    { force: onOff({ short: '-f', description: 'kill a running container first' }) },
    async (ctx, [names], options) => {
      const { containers } = await openRuntime(ctx);
      for (const name of argList(names)) {
        await containers.remove(name, { force: options.force });
        writeLine(ctx.io.stdout, name);
      }
    },
  );
}
