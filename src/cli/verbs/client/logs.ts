import type { Command } from 'commander';
import { parsePositiveInt } from '../../../core/quantity.js';
import { openClient } from '../../client/open-client.js';
import type { Act } from '../../verb.js';

interface LogLine {
  pod: string;
  container: string;
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

export function registerLogs(program: Command, act: Act): void {
  program
    .command('logs')
    .description("print an app's logs, fetched from its nodes over MQTT (works for nodes behind NAT)")
    .argument('<app>', 'app name (or a pod name with --pod)')
    .option('--pod', 'the argument is a pod name')
    .option('--node <node>', 'only pods on this node')
    .option('-c, --container <name>', 'only this container')
    .option('-n, --tail <lines>', 'last N lines per container')
    .option('-f, --follow', 'keep streaming new lines')
    .option('--prefix', 'prefix each line with its pod and container')
    .action(
      act(async (ctx, [name], options) => {
        const query = new URLSearchParams();
        query.set(options.pod ? 'pod' : 'app', name as string);
        if (options.node) query.set('node', options.node as string);
        if (options.container) query.set('container', options.container as string);
        if (options.tail !== undefined) query.set('tail', String(parsePositiveInt(options.tail as string, '--tail')));
        if (options.follow) query.set('follow', 'true');
        const client = await openClient(ctx, options);
        await client.stream<LogLine>(`/v1/logs?${query}`, (line) => {
          const out = line.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
          out.write(`${options.prefix ? `[${line.pod}/${line.container}] ` : ''}${line.text}\n`);
        });
      }),
    );
}
