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
    .action(
      act(async (ctx, _args, options) => {
        const { containers } = await openRuntime(ctx, options);
        const views = await containers.list({ all: Boolean(options.all) });
        if (options.quiet) {
          for (const v of views) writeLine(ctx.io.stdout, shortId(v.id));
          return;
        }
        const now = new Date();
        const rows = views.map((v) => [
          shortId(v.id),
          displayImageRef(parseImageRef(v.image)),
          quoteCommand(v.command),
          ago(v.createdAt, now),
          statusText(v, now),
          v.name,
        ]);
        writeLine(ctx.io.stdout, table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'], rows));
      }),
    );
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
