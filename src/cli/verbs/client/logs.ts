import type { Command } from 'commander';
import { openClient } from '../../client/open-client.js';
import { onOff, option } from '../../config/option.js';
import { count, text } from '../../config/units.js';
import { argText, type Act } from '../../verb.js';

/** One NDJSON item of GET /v1/logs: a line, or a pod whose logs could not be read. */
type LogItem =
  | { pod: string; container: string; time: string; stream: 'stdout' | 'stderr'; text: string; error?: undefined }
  | { pod: string; error: { code: string; message: string } };

/** The line printed for a pod without logs; it names the pod once. */
export function podErrorLine(pod: string, message: string): string {
  return `grove: ${pod === '' || message.includes(pod) ? message : `pod ${pod}: ${message}`}`;
}

export function registerLogs(program: Command, act: Act): void {
  act(
    program
      .command('logs')
      .description("print an app's logs, fetched from its nodes over MQTT (works for nodes behind NAT)")
      .argument('<app>', 'app name (or a pod name with --pod)'),
    {
      pod: onOff({ description: 'the argument is a pod name' }),
      node: option({ unit: text('node'), description: 'only pods on this node' }),
      container: option({ unit: text('name'), short: '-c', description: 'only this container' }),
      tail: option({ unit: count(1, Number.MAX_SAFE_INTEGER, 'lines'), short: '-n', description: 'last N lines per container' }),
      follow: onOff({ short: '-f', description: 'keep streaming new lines' }),
      prefix: onOff({ description: 'prefix each line with its pod and container' }),
    },
    async (ctx, [name], options) => {
      const query = new URLSearchParams();
      query.set(options.pod ? 'pod' : 'app', argText(name, 'app'));
      if (options.node) query.set('node', options.node);
      if (options.container) query.set('container', options.container);
      if (options.tail !== undefined) query.set('tail', String(options.tail));
      if (options.follow) query.set('follow', 'true');
      const client = await openClient(ctx);
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
    },
  );
}
