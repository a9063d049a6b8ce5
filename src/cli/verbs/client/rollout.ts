import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { parseDurationSeconds } from '../../../core/quantity.js';
import type { RevisionView, RolloutStatusView } from '../../../server/rollout-api.js';
import { openClient } from '../../client/open-client.js';
import { parseOutputFormat, printData } from '../../client/output.js';
import { ago, table } from '../../format.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { rolloutVerdict } from './rollout-status.js';

const POLL_MS = 1000;

const appPath = (name: unknown, what = ''): string => `/v1/apps/${encodeURIComponent(String(name))}${what}`;

export function registerRollout(program: Command, act: Act): void {
  const rollout = program.command('rollout').description('watch, list, undo and restart rolling updates of an app');
  rollout
    .command('status')
    .description('follow the rollout of an app until it completes (exit 1 if it fails or is rolled back)')
    .argument('<app>')
    .option('--timeout <duration>', 'give up after this long, e.g. 90s, 10m', '10m')
    .option('--no-watch', 'print the current state once and exit')
    .action(
      act(async (ctx, [name], options) => {
        const timeoutMs = parseDurationSeconds(options.timeout as string, '--timeout') * 1000;
        const client = await openClient(ctx, options);
        const deadline = Date.now() + timeoutMs;
        let watched: number | undefined;
        let lastLine = '';
        for (;;) {
          const verdict = rolloutVerdict(await client.get<RolloutStatusView>(appPath(name, '/rollout')), watched);
          watched = verdict.watched;
          if (verdict.failure) throw new GroveError(ErrorCode.RolloutFailed, verdict.failure);
          if (verdict.line !== lastLine) writeLine(ctx.io.stdout, verdict.line);
          lastLine = verdict.line;
          if (verdict.done || options.watch === false) return;
          if (Date.now() >= deadline) throw new GroveError(ErrorCode.Timeout, `rollout of "${String(name)}" did not complete within ${String(options.timeout)}`);
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      }),
    );
  rollout
    .command('history')
    .description("list an app's revisions, newest first")
    .argument('<app>')
    .option('-o, --output <format>', 'json or yaml')
    .action(
      act(async (ctx, [name], options) => {
        const format = parseOutputFormat(options.output as string | undefined);
        const revisions = await (await openClient(ctx, options)).get<RevisionView[]>(appPath(name, '/revisions'));
        if (format === 'json' || format === 'yaml') return printData(ctx.io, format, revisions);
        const now = new Date();
        const rows = revisions.map((r) => [`${r.revision}${r.current ? '*' : ''}`, ago(r.createdAt, now), r.images.join(','), r.changeCause ?? '<none>']);
        ctx.io.stdout.write(table(['REVISION', 'AGE', 'IMAGES', 'CHANGE-CAUSE'], rows));
      }),
    );
  rollout
    .command('undo')
    .description('go back to the previous revision (or --to-revision N)')
    .argument('<app>')
    .option('--to-revision <n>', 'the revision to go back to (see rollout history)')
    .action(
      act(async (ctx, [name], options) => {
        const raw = options.toRevision as string | undefined;
        if (raw !== undefined && !/^[1-9]\d{0,8}$/.test(raw)) throw new GroveError(ErrorCode.InvalidArgument, `--to-revision: "${raw}" is not a revision number`);
        const body = raw === undefined ? {} : { toRevision: Number(raw) };
        const result = await (await openClient(ctx, options)).post<{ toRevision: number }>(appPath(name, '/rollback'), body);
        writeLine(ctx.io.stdout, `app/${String(name)} rolled back to revision ${result.toRevision}`);
      }),
    );
  rollout
    .command('restart')
    .description('replace every pod of an app with a fresh one, following its update strategy')
    .argument('<app>')
    .action(
      act(async (ctx, [name], options) => {
        await (await openClient(ctx, options)).post(appPath(name, '/restart'), {});
        writeLine(ctx.io.stdout, `app/${String(name)} restarted`);
      }),
    );
}
