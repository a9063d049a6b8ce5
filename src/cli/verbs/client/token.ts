import type { Command } from 'commander';
import { parseDurationSeconds } from '../../../core/quantity.js';
import { openClient } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';

export function registerToken(program: Command, act: Act): void {
  const token = program.command('token').description('manage join tokens for new nodes');
  token
    .command('create')
    .description('create a join token: grove agent --server URL --token TOKEN')
    .option('--ttl <duration>', 'how long the token can be used, e.g. 30m, 24h, 7d', '24h')
    .action(
      act(async (ctx, _args, options) => {
        const ttlSeconds = parseDurationSeconds(options.ttl as string, '--ttl');
        const client = await openClient(ctx, options);
        const created = await client.post<{ token: string; expiresAt: string }>('/v1/tokens', { ttlSeconds });
        writeLine(ctx.io.stdout, created.token);
        writeLine(ctx.io.stderr, `valid until ${created.expiresAt}`);
      }),
    );
}
