import type { Command } from 'commander';
import type { ContainerView } from '../../../../agent/src/runtime/container-manager.js';
import { displayImageRef, parseImageRef } from '../../../core/image-ref.js';
import { ago, humanDuration, quoteCommand, shortId, table } from '../../format.js';
import { writeLine } from '../../io.js';
import { onOff } from '../../config/option.js';
import type { Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerPs(ctr: Command, act: Act): void {
  act(
    ctr.command('ps').description('list running containers (-a: all)'),
    {
      all: onOff({ short: '-a', description: 'include created and exited containers' }),
      quiet: onOff({ short: '-q', description: 'only container IDs' }),
      trunc: onOff({ negate: true, description: 'full IDs and commands (commands still on one line, escaped)' }),
    },
    async (ctx, _args, options) => {
        const { containers } = await openRuntime(ctx);
        const views = await containers.list({ all: options.all });
        const full = !options.trunc;
        if (options.quiet) {
          for (const v of views) writeLine(ctx.io.stdout, full ? v.id : shortId(v.id));
          return;
        }
        writeLine(ctx.io.stdout, psTable(views, new Date(), full));
    },
  );
}

/** One row per container, each on one line; `full` is --no-trunc (whole IDs and commands). */
export function psTable(views: ContainerView[], now: Date, full: boolean): string {
  const rows = views.map((v) => [
    full ? v.id : shortId(v.id),
    displayImageRef(parseImageRef(v.image)),
    quoteCommand(v.command, full),
    ago(v.createdAt, now),
    statusText(v, now),
    v.name,
  ]);
  return table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'], rows);
}

export function statusText(v: ContainerView, now: Date): string {
  switch (v.state) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now.getTime() - Date.parse(v.startedAt ?? v.createdAt))}`;
    case 'exited': {
      const code = v.exitCode === null ? 'unknown' : String(v.exitCode);
      return `Exited (${code})${v.oomKilled ? ' OOMKilled' : ''} ${v.finishedAt ? ago(v.finishedAt, now) : ''}`.trimEnd();
    }
  }
}
