import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { ErrorCode, GroveError, errorMessage } from '../../../core/errors.js';
import { parseDurationSeconds } from '../../../core/quantity.js';
import { writeFileAtomic } from '../../../store/durable-file.js';
import { clientConfigFile } from '../../client/client-config.js';
import { openClient } from '../../client/open-client.js';
import { parseOutputFormat, printData } from '../../client/output.js';
import type { CliContext } from '../../context.js';
import { ago, table } from '../../format.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';

/** GET /v1/tokens: never a secret. */
interface TokenView {
  id: string;
  createdAt: string;
  expiresAt: string;
  usesLeft: number | null;
}

/** --uses N: a whole number of joins. */
export function parseUses(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) throw new GroveError(ErrorCode.InvalidArgument, `--uses: "${value}" is not a whole number of joins (1 or more)`);
  return Number(value);
}

export function tokenRows(tokens: readonly TokenView[], now: Date): string[][] {
  return tokens.map((t) => {
    const expired = Date.parse(t.expiresAt) <= now.getTime();
    return [t.id, ago(t.createdAt, now), expired ? `${t.expiresAt} (expired)` : t.expiresAt, t.usesLeft === null ? 'unlimited' : String(t.usesLeft)];
  });
}

export function registerToken(program: Command, act: Act): void {
  const token = program.command('token').description('manage join tokens for new nodes, and the admin token');
  token
    .command('create')
    .description('create a join token: grove agent --server URL --token-file FILE')
    .option('--ttl <duration>', 'how long the token can be used, e.g. 30m, 24h, 7d', '24h')
    .option('--uses <n>', 'how many joins the token allows (default: any number until it expires)')
    .action(
      act(async (ctx, _args, options) => {
        const ttlSeconds = parseDurationSeconds(options.ttl as string, '--ttl');
        const uses = options.uses === undefined ? undefined : parseUses(options.uses as string);
        const client = await openClient(ctx, options);
        const created = await client.post<{ token: string; id: string; expiresAt: string; usesLeft?: number }>('/v1/tokens', { ttlSeconds, ...(uses !== undefined ? { uses } : {}) });
        writeLine(ctx.io.stdout, created.token);
        writeLine(ctx.io.stderr, `token ${created.id}: valid until ${created.expiresAt}${created.usesLeft !== undefined ? ` for ${created.usesLeft} join${created.usesLeft === 1 ? '' : 's'}` : ''}`);
      }),
    );
  token
    .command('list')
    .description('list join tokens: id, age, expiry and joins left (never their secrets)')
    .option('-o, --output <format>', 'json | yaml')
    .action(
      act(async (ctx, _args, options) => {
        const format = parseOutputFormat(options.output as string | undefined);
        const tokens = await (await openClient(ctx, options)).get<TokenView[]>('/v1/tokens');
        if (format === 'json' || format === 'yaml') return printData(ctx.io, format, tokens);
        if (tokens.length === 0) return writeLine(ctx.io.stderr, 'No join tokens.');
        writeLine(ctx.io.stdout, table(['ID', 'CREATED', 'EXPIRES', 'USES-LEFT'], tokenRows(tokens, new Date())));
      }),
    );
  token
    .command('revoke')
    .description('revoke a join token before it expires (nodes that joined with it keep working)')
    .argument('<id>', 'the token id (grove token list; the third part of grove1.<ca>.<id>.<secret>)')
    .action(
      act(async (ctx, [id], options) => {
        await (await openClient(ctx, options)).delete(`/v1/tokens/${encodeURIComponent(id as string)}`);
        writeLine(ctx.io.stdout, `token/${String(id)} revoked`);
      }),
    );
  token
    .command('rotate-admin')
    .description('replace the admin token: the old one stops working at once; the new one is saved in the client config')
    .action(act(async (ctx, _args, options) => rotateAdmin(ctx, options)));
}

/**
 * POST /v1/admin-token/rotate, then the client config this command used gets the new token (the
 * server has already written its own <data>/server/admin-token and <data>/client.json). If that
 * write fails the token is printed, so it is not lost with the old one already dead.
 */
async function rotateAdmin(ctx: CliContext, options: Record<string, unknown>): Promise<void> {
  const file = clientConfigFile({ ...(typeof options.config === 'string' ? { config: options.config } : {}), dataDir: ctx.dataDir, env: ctx.io.env });
  const { token } = await (await openClient(ctx, options)).post<{ token: string }>('/v1/admin-token/rotate', {});
  try {
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    if (config.token !== token) await writeFileAtomic(file, JSON.stringify({ ...config, token }, null, 2) + '\n', 0o600);
  } catch (err) {
    writeLine(ctx.io.stdout, token);
    throw new GroveError(ErrorCode.Internal, `admin token rotated, but ${file} could not be updated (${errorMessage(err)}): the new token is printed above`, { cause: err });
  }
  writeLine(ctx.io.stdout, `admin token rotated: the old one no longer works; ${file} holds the new one`);
}
