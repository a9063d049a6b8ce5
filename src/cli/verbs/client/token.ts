import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { ErrorCode, GroveError, errorMessage } from '../../../core/errors.js';
import { writeFileAtomic } from '../../../store/durable-file.js';
import { clientConfigFile } from '../../client/client-config.js';
import { openClient } from '../../client/open-client.js';
import { DATA_OUTPUT_OPTION, printData } from '../../client/output.js';
import type { CliContext } from '../../context.js';
import { table } from '../../format.js';
import { since } from '../../../core/objects/columns/human-duration.js';
import { writeLine } from '../../io.js';
import { option } from '../../config/option.js';
import { count, duration } from '../../config/units.js';
import { argText, NO_OPTIONS, type Act } from '../../verb.js';

/** GET /v1/tokens: never a secret. */
interface TokenView {
  id: string;
  createdAt: string;
  expiresAt: string;
  usesLeft: number | null;
}

export const TOKEN_CREATE_OPTIONS = {
  ttl: option({ unit: duration, description: 'how long the token can be used, e.g. 30m, 24h, 7d', default: 86_400_000 }),
  uses: option({ unit: count(1, 999_999, 'n'), description: 'how many joins the token allows (default: any number until it expires)' }),
};

export function tokenRows(tokens: readonly TokenView[], now: Date): string[][] {
  return tokens.map((t) => {
    const expired = Date.parse(t.expiresAt) <= now.getTime();
    return [t.id, since(t.createdAt, now), expired ? `${t.expiresAt} (expired)` : t.expiresAt, t.usesLeft === null ? 'unlimited' : String(t.usesLeft)];
  });
}

export function registerToken(program: Command, act: Act): void {
  const token = program.command('token').description('manage join tokens for new nodes, and the admin token');
  act(
    token.command('create').description('create a join token: grove agent --server URL --token-file FILE'),
    TOKEN_CREATE_OPTIONS,
    async (ctx, _args, options) => {
      const ttlSeconds = Math.ceil(options.ttl / 1000);
      const client = await openClient(ctx);
      const created = await client.post<{ token: string; id: string; expiresAt: string; usesLeft?: number }>('/v1/tokens', { ttlSeconds, ...(options.uses !== undefined ? { uses: options.uses } : {}) });
      writeLine(ctx.io.stdout, created.token);
      writeLine(ctx.io.stderr, `token ${created.id}: valid until ${created.expiresAt}${created.usesLeft !== undefined ? ` for ${created.usesLeft} join${created.usesLeft === 1 ? '' : 's'}` : ''}`);
    },
  );
  act(token.command('list').description('list join tokens: id, age, expiry and joins left (never their secrets)'), { output: DATA_OUTPUT_OPTION }, async (ctx, _args, options) => {
    const tokens = await (await openClient(ctx)).get<TokenView[]>('/v1/tokens');
    if (options.output) return printData(ctx.io, options.output, tokens);
    if (tokens.length === 0) return writeLine(ctx.io.stderr, 'No join tokens.');
    writeLine(ctx.io.stdout, table(['ID', 'AGE', 'EXPIRES', 'USES-LEFT'], tokenRows(tokens, new Date())));
  });
  act(
    token
      .command('revoke')
      .description('revoke a join token before it expires (nodes that joined with it keep working)')
      .argument('<id>', 'the token id (grove token list; the third part of grove1.<ca>.<id>.<secret>)'),
    NO_OPTIONS,
    async (ctx, [idArg]) => {
      const id = argText(idArg, 'id');
      await (await openClient(ctx)).delete(`/v1/tokens/${encodeURIComponent(id)}`);
      writeLine(ctx.io.stdout, `token/${id} revoked`);
    },
  );
  act(
    token.command('rotate-admin').description('replace the admin token: the old one stops working at once; the new one is saved in the client config'),
    NO_OPTIONS,
    async (ctx) => rotateAdmin(ctx),
  );
}

/**
 * POST /v1/admin-token/rotate, then the client config this command used gets the new token (the
 * server has already written its own <data>/server/admin-token and <data>/client.json). If that
 * write fails the token is printed, so it is not lost with the old one already dead.
 */
async function rotateAdmin(ctx: CliContext): Promise<void> {
  const file = clientConfigFile({ config: ctx.clientConfig, dataDir: ctx.dataDir });
  const { token } = await (await openClient(ctx)).post<{ token: string }>('/v1/admin-token/rotate', {});
  try {
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    if (config.token !== token) await writeFileAtomic(file, JSON.stringify({ ...config, token }, null, 2) + '\n', 0o600);
  } catch (err) {
    writeLine(ctx.io.stdout, token);
    throw new GroveError(ErrorCode.Internal, `admin token rotated, but ${file} could not be updated (${errorMessage(err)}): the new token is printed above`, { cause: err });
  }
  writeLine(ctx.io.stdout, `admin token rotated: the old one no longer works; ${file} holds the new one`);
}
