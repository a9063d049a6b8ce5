import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerStop(ctr: Command, act: Act): void {
  ctr
    .command('stop')
    .description('stop containers: SIGTERM, then SIGKILL after the grace period')
    .argument('<container...>', 'names or IDs')
    .option('-t, --time <seconds>', 'grace period before SIGKILL', '10')
    .action(
      act(async (ctx, [names], options) => {
        const grace = Number(options.time);
        if (!/^\d+$/.test(String(options.time)) || grace > 3600) {
          throw new GroveError(ErrorCode.InvalidArgument, `--time: "${String(options.time)}" must be whole seconds (0-3600)`);
        }
        const { containers } = await openRuntime(ctx, options);
        for (const name of names as string[]) {
          await containers.stop(name, grace);
          writeLine(ctx.io.stdout, name);
        }
      }),
    );
}
