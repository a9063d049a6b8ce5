import type { Command } from 'commander';
import { parsePositiveInt } from '../../../core/quantity.js';
import { openClient } from '../../client/open-client.js';
import type { Act } from '../../verb.js';

/** One NDJSON item of GET /v1/logs: a line, or a pod whose logs could not be read. */
type LogItem =
  | { pod: string; container: string; time: string; stream: 'stdout' | 'stderr'; text: string; error?: undefined }
  | { pod: string; error: { code: string; message: string } };

/** The line printed for a pod without logs; it names the pod once. */
export function podErrorLine(pod: string, message: string): string {
  return `grove: ${pod === '' || message.includes(pod) ? message : `pod ${pod}: ${message}`}`;
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
        let failed = 0;
        await client.stream<LogItem>(`/v1/logs?${query}`, (item) => {
          if (item.error !== undefined) {
            // Other pods' lines keep coming; the exit code says something was missing (as kubectl).
            failed++;
            ctx.io.stderr.write(`${podErrorLine(item.pod, item.error.message)}\n`);
            return;
          }
          const out = item.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
          out.write(`${options.prefix ? `[${item.pod}/${item.container}] ` : ''}${item.text}\n`);
        });
        return failed > 0 ? 1 : undefined;
      }),
    );
}
