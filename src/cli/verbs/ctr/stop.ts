import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import { option } from '../../config/option.js';
import { count } from '../../config/units.js';
import { argList, type Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerStop(ctr: Command, act: Act): void {
  act(
    ctr.command('stop').description('stop containers: SIGTERM, then SIGKILL after the grace period').argument('<container...>', 'names or IDs'),
    { time: option({ unit: count(0, 3600, 'seconds'), short: '-t', description: 'grace period before SIGKILL, whole seconds (0-3600)', default: 10 }) },
    async (ctx, [names], options) => {
      const { containers } = await openRuntime(ctx);
      for (const name of argList(names)) {
        await containers.stop(name, options.time);
        writeLine(ctx.io.stdout, name);
      }
    },
  );
}
