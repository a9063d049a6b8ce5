import type { Command } from 'commander';
import { onOff, option } from '../../config/option.js';
import { count } from '../../config/units.js';
import { argText, type Act } from '../../verb.js';
import { openRuntime } from './open.js';
import { streamLogs } from './stream-logs.js';

export function registerLogs(ctr: Command, act: Act): void {
  act(
    ctr.command('logs').description("print a container's output (kept by its shim, capped and rotated)").argument('<container>', 'name or ID'),
    {
      follow: onOff({ short: '-f', description: 'keep printing new output until the container exits' }),
      tail: option({ unit: count(1, Number.MAX_SAFE_INTEGER, 'lines'), short: '-n', description: 'only the last N lines' }),
      timestamps: onOff({ short: '-t', description: 'prefix each line with its timestamp' }),
    },
    async (ctx, [name], options) => {
      const { containers } = await openRuntime(ctx);
      const view = await containers.find(argText(name, 'container'));
      await streamLogs(ctx.io, containers.stateDir(view.id), {
        follow: options.follow && view.state === 'running',
        timestamps: options.timestamps,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        until: () => containers.waitForExit(view.id),
      });
    },
  );
}
