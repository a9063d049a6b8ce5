/**
 * `grove logs POD|TYPE/NAME [-c C] [-f] [-p] [--since D] [--timestamps] [--tail N]`: a pod's logs, or every pod's of a workload
 * (`deploy/web`, `ds/agent`, `job/backup`, `cronjob/nightly`, `rs/…`: the server finds the pods
 * whose controller chain leads to it; kubectl shows one pod, Grove all of them, as 0.1 did),
 * fetched by the server from each pod's node over MQTT: one NDJSON stream, `GET /v1/logs` (the
 * same server path and node RPC as kubectl's `pods/{name}/log`). `-f` follows until interrupted.
 */
import type { Command } from 'commander';
import { ErrorCode, isGroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { onOff, option } from '../../config/option.js';
import { count, duration, text } from '../../config/units.js';
import { argText, type Act } from '../../verb.js';
import type { CliContext } from '../../context.js';
import type { ApiClient } from '../../client/api-client.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';

/** One NDJSON item of GET /v1/logs: a line, or a pod whose logs could not be read. */
type LogItem =
  | { pod: string; container: string; time: string; stream: 'stdout' | 'stderr'; text: string; error?: undefined }
  | { pod: string; error: { code: string; message: string } };

/** What a bare name that is no pod may be (0.1's `grove logs APP`), in this order. */
const WORKLOAD_TYPES = ['deployment', 'daemonset', 'job', 'cronjob'] as const;

/** The line printed for a pod without logs; it names the pod once. */
export function podErrorLine(pod: string, message: string): string {
  return `grove: ${pod === '' || message.includes(pod) ? message : `pod ${pod}: ${message}`}`;
}

export interface LogsOptions {
  container?: string | undefined;
  tail?: number | undefined;
  follow: boolean;
  previous?: boolean;
  /** Only lines of the last this many milliseconds (sent as whole seconds, at least 1). */
  since?: number | undefined;
}

/** The query of `arg`: `pod/NAME` and `NAME` are a pod, any other `TYPE/NAME` a workload (the server checks the type). */
export function logsSubject(arg: string): { pod: string } | { workload: string } {
  const slash = arg.indexOf('/');
  if (slash < 0) return { pod: arg };
  return ['pod', 'pods', 'po'].includes(arg.slice(0, slash).toLowerCase()) ? { pod: arg.slice(slash + 1) } : { workload: arg };
}

/** `GET /v1/logs?namespace=…&pod=…|workload=…`. */
export function logsPath(namespace: string, subject: { pod: string } | { workload: string }, options: LogsOptions): string {
  const query = new URLSearchParams({ namespace, ...subject });
  if (options.container) query.set('container', options.container);
  if (options.tail !== undefined) query.set('tail', String(options.tail));
  if (options.follow) query.set('follow', 'true');
  if (options.previous) query.set('previous', 'true');
  if (options.since !== undefined) query.set('sinceSeconds', String(Math.max(1, Math.ceil(options.since / 1000))));
  return `/v1/logs?${query}`;
}

/** How a line is prefixed: not at all, kubectl's `[pod/NAME/CONTAINER] `, or docker compose's `NAME | `. */
export type LogPrefix = boolean | 'pod';

/** The printed line: the text, after the node's RFC 3339 time with --timestamps (as kubectl). */
export function logLine(item: { time: string; text: string; pod: string; container: string }, options: { prefix: LogPrefix; timestamps: boolean }): string {
  const prefix = options.prefix === 'pod' ? `${item.pod} | ` : options.prefix ? `[pod/${item.pod}/${item.container}] ` : '';
  return `${prefix}${options.timestamps ? `${item.time} ` : ''}${item.text}\n`;
}

/** What `grove logs` and `grove compose logs` both take. */
export const LOG_READ_OPTIONS = {
  tail: option({ unit: count(0, Number.MAX_SAFE_INTEGER, 'lines'), description: 'last N lines per container' }),
  follow: onOff({ short: '-f', description: 'keep streaming new lines until interrupted' }),
  since: option({ unit: duration, description: 'only lines newer than this (5s, 2m, 3h)' }),
  timestamps: onOff({ description: 'start each line with its time (RFC 3339)' }),
};

/** Streams one pod's or workload's lines to stdout/stderr; resolves to how many pods had no logs to give. */
export async function streamLogs(
  ctx: CliContext,
  api: ApiClient,
  namespace: string,
  subject: { pod: string } | { workload: string },
  options: LogsOptions & { prefix: LogPrefix; timestamps: boolean },
): Promise<number> {
  let failed = 0;
  await api.stream<LogItem>(logsPath(namespace, subject, options), (item) => {
    if (item.error !== undefined) {
      // Other pods' lines keep coming; the exit code says something was missing (as kubectl).
      failed++;
      ctx.io.stderr.write(`${podErrorLine(item.pod, item.error.message)}\n`);
      return;
    }
    const out = item.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
    out.write(logLine(item, options));
  }, { idle: options.follow });
  return failed;
}

export function registerLogs(program: Command, act: Act): void {
  act(
    program
      .command('logs')
      .description("print a pod's logs, or every pod's of a workload, fetched from their nodes over MQTT (works for nodes behind NAT)")
      .argument('<pod>', 'POD, pod/POD, deployment/NAME, daemonset/NAME, job/NAME, cronjob/NAME, replicaset/NAME (a bare name that is no pod: the workload of that name)'),
    {
      namespace: NAMESPACE_OPTION,
      container: option({ unit: text('name'), short: '-c', description: 'only this container' }),
      ...LOG_READ_OPTIONS,
      previous: onOff({ short: '-p', description: "the container's previous instance (before its last restart)" }),
      prefix: onOff({ description: 'prefix each line with [pod/NAME/CONTAINER]' }),
    },
    async (ctx, [argValue], options) => {
      const namespace = namespaceOf(options.namespace);
      const arg = argText(argValue, 'pod');
      const api = await openClient(ctx);
      let failed = 0;
      const read = async (subject: { pod: string } | { workload: string }) => {
        failed += await streamLogs(ctx, api, namespace, subject, options);
      };
      try {
        await read(logsSubject(arg));
      } catch (err) {
        // A bare name that is no pod: the workload of that name, if there is one; else the pod's NotFound.
        if (arg.includes('/') || !isGroveError(err, ErrorCode.NotFound)) throw err;
        if (!(await readWorkloadNamed(arg, read))) throw err;
      }
      return failed > 0 ? 1 : undefined;
    },
  );
}

/** Reads the first workload type that has `name`; false when none has. */
async function readWorkloadNamed(name: string, read: (subject: { workload: string }) => Promise<void>): Promise<boolean> {
  for (const type of WORKLOAD_TYPES) {
    try {
      await read({ workload: `${type}/${name}` });
      return true;
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound)) throw err;
    }
  }
  return false;
}
