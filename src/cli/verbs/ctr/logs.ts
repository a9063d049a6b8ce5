import type { Command } from 'commander';
import { parsePositiveInt } from '../../../core/quantity.js';
import type { Act } from '../../verb.js';
import { openRuntime } from './open.js';
import { streamLogs } from './stream-logs.js';

export function registerLogs(ctr: Command, act: Act): void {
  ctr
    .command('logs')
    .description("print a container's output (kept by its shim, capped and rotated)")
    .argument('<container>', 'name or ID')
    .option('-f, --follow', 'keep printing new output until the container exits')
    .option('-n, --tail <lines>', 'only the last N lines')
    .option('-t, --timestamps', 'prefix each line with its timestamp')
    .action(
      act(async (ctx, [name], options) => {
        const { containers } = await openRuntime(ctx, options);
        const view = await containers.find(name as string);
        const tail = options.tail !== undefined ? parsePositiveInt(options.tail as string, '--tail') : undefined;
        await streamLogs(ctx.io, containers.stateDir(view.id), {
          follow: Boolean(options.follow) && view.state === 'running',
          timestamps: Boolean(options.timestamps),
          ...(tail !== undefined ? { tail } : {}),
          until: () => containers.waitForExit(view.id),
        });
      }),
    );
}
