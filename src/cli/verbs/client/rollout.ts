import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { RevisionView, RolloutStatusView } from '../../../server/rollout-api.js';
import { openClient } from '../../client/open-client.js';
import { DATA_OUTPUT_OPTION, printData } from '../../client/output.js';
import { ago, table } from '../../format.js';
import { writeLine } from '../../io.js';
import { onOff, option } from '../../config/option.js';
import { count, duration } from '../../config/units.js';
import { NO_OPTIONS, type Act } from '../../verb.js';
import { rolloutVerdict } from './rollout-status.js';

const POLL_MS = 1000;

const appPath = (name: unknown, what = ''): string => `/v1/apps/${encodeURIComponent(String(name))}${what}`;

export function registerRollout(program: Command, act: Act): void {
  const rollout = program.command('rollout').description('watch, list, undo and restart rolling updates of an app');
  act(
    rollout.command('status').description('follow the rollout of an app until it completes (exit 1 if it fails or is rolled back)').argument('<app>'),
    {
      timeout: option({ unit: duration, description: 'give up after this long, e.g. 90s, 10m', default: 600_000 }),
      watch: onOff({ negate: true, description: 'print the current state once and exit' }),
    },
    async (ctx, [name], options) => {
      const client = await openClient(ctx);
      const deadline = Date.now() + options.timeout;
      let watched: number | undefined;
      let lastLine = '';
      for (;;) {
        const verdict = rolloutVerdict(await client.get<RolloutStatusView>(appPath(name, '/rollout')), watched);
        watched = verdict.watched;
        if (verdict.failure) throw new GroveError(ErrorCode.RolloutFailed, verdict.failure);
        if (verdict.line !== lastLine) writeLine(ctx.io.stdout, verdict.line);
        lastLine = verdict.line;
        if (verdict.done || !options.watch) return;
        if (Date.now() >= deadline) throw new GroveError(ErrorCode.Timeout, `rollout of "${String(name)}" did not complete within ${duration.format(options.timeout)}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  );
  act(rollout.command('history').description("list an app's revisions, newest first").argument('<app>'), { output: DATA_OUTPUT_OPTION }, async (ctx, [name], options) => {
    const revisions = await (await openClient(ctx)).get<RevisionView[]>(appPath(name, '/revisions'));
    if (options.output) return printData(ctx.io, options.output, revisions);
    const now = new Date();
    const rows = revisions.map((r) => [`${r.revision}${r.current ? '*' : ''}`, ago(r.createdAt, now), r.images.join(','), r.changeCause ?? '<none>']);
    ctx.io.stdout.write(table(['REVISION', 'AGE', 'IMAGES', 'CHANGE-CAUSE'], rows));
  });
  act(
    rollout.command('undo').description('go back to the previous revision (or --to-revision N)').argument('<app>'),
    { toRevision: option({ unit: count(1, 999_999_999, 'n'), description: 'the revision to go back to (see rollout history)' }) },
    async (ctx, [name], options) => {
      const body = options.toRevision === undefined ? {} : { toRevision: options.toRevision };
      const result = await (await openClient(ctx)).post<{ toRevision: number }>(appPath(name, '/rollback'), body);
      writeLine(ctx.io.stdout, `app/${String(name)} rolled back to revision ${result.toRevision}`);
    },
  );
  act(rollout.command('restart').description('replace every pod of an app with a fresh one, following its update strategy').argument('<app>'), NO_OPTIONS, async (ctx, [name]) => {
    await (await openClient(ctx)).post(appPath(name, '/restart'), {});
    writeLine(ctx.io.stdout, `app/${String(name)} restarted`);
  });
}
