import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerRm(ctr: Command, act: Act): void {
  ctr
    .command('rm')
    .description('remove containers (their rootfs, bundle and logs)')
    .argument('<container...>', 'names or IDs')
    .option('-f, --force', 'kill a running container first')
    .action(
      act(async (ctx, [names], options) => {
        const { containers } = await openRuntime(ctx, options);
        for (const name of names as string[]) {
          await containers.remove(name, { force: Boolean(options.force) });
          writeLine(ctx.io.stdout, name);
        }
      }),
    );
}
