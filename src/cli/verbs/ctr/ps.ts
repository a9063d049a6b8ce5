import type { Command } from 'commander';
import type { ContainerView } from '../../../../agent/src/runtime/container-manager.js';
import { displayImageRef, parseImageRef } from '../../../core/image-ref.js';
import { ago, humanDuration, quoteCommand, shortId, table } from '../../format.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { openRuntime } from './open.js';

export function registerPs(ctr: Command, act: Act): void {
  ctr
    .command('ps')
    .description('list running containers (-a: all)')
    .option('-a, --all', 'include created and exited containers')
    .option('-q, --quiet', 'only container IDs')
    .option('--no-trunc', 'full IDs and commands (commands still on one line, escaped)')
    .action(
      act(async (ctx, _args, options) => {
        const { containers } = await openRuntime(ctx, options);
        const views = await containers.list({ all: Boolean(options.all) });
        const full = options.trunc === false;
        if (options.quiet) {
          for (const v of views) writeLine(ctx.io.stdout, full ? v.id : shortId(v.id));
          return;
        }
        writeLine(ctx.io.stdout, psTable(views, new Date(), full));
      }),
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
