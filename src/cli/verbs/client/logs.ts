/**
 * `grove logs POD|TYPE/NAME [-c C] [-f] [--tail N]`: a pod's logs, or every pod of a Deployment,
 * DaemonSet, ReplicaSet or Job (found on the Kubernetes paths by the workload's selector, as
 * kubectl does; kubectl shows one pod, Grove all of them, as 0.1 did), fetched by the server
 * from each pod's node over MQTT (`GET /v1/logs?namespace=&pod=`, one stream per pod).
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError, isGroveError } from '../../../core/errors.js';
import type { AnyObject } from '../../../core/objects/changes.js';
import { byResource, KINDS, type KindInfo } from '../../../core/objects/kinds.js';
import { openClient } from '../../client/open-client.js';
import { onOff, option } from '../../config/option.js';
import { count, text } from '../../config/units.js';
import type { CliIO } from '../../io.js';
import { argText, type Act } from '../../verb.js';
import { KubeClient } from './k8s/kube-client.js';
import { resourceName } from './k8s/resource-names.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';

/** One NDJSON item of GET /v1/logs: a line, or a pod whose logs could not be read. */
type LogItem =
  | { pod: string; container: string; time: string; stream: 'stdout' | 'stderr'; text: string; error?: undefined }
  | { pod: string; error: { code: string; message: string } };

/** The kinds whose pods `logs TYPE/NAME` reads. */
const WORKLOAD_KINDS: readonly KindInfo[] = [KINDS.Deployment, KINDS.DaemonSet, KINDS.ReplicaSet, KINDS.Job];

/** The line printed for a pod without logs; it names the pod once. */
export function podErrorLine(pod: string, message: string): string {
  return `grove: ${pod === '' || message.includes(pod) ? message : `pod ${pod}: ${message}`}`;
}

/** `web-x2k4`, `pod/web-x2k4` → a pod; `deploy/web` → a workload kind and name. */
export function logsTarget(arg: string): { kind: KindInfo; name: string } {
  const slash = arg.indexOf('/');
  if (slash < 0) return { kind: KINDS.Pod, name: arg };
  const kind = byResource(arg.slice(0, slash));
  const name = arg.slice(slash + 1);
  if (!kind || (kind !== KINDS.Pod && !WORKLOAD_KINDS.includes(kind))) throw new GroveError(ErrorCode.InvalidArgument, `logs reads pods, deployments, daemonsets, replicasets and jobs, not "${arg.slice(0, slash)}"`);
  if (name === '') throw new GroveError(ErrorCode.InvalidArgument, `${arg}: no name`);
  return { kind, name };
}

/** The label selector of a workload's pods: its matchLabels (a Job's pods by their job-name label when it has none). */
export function podSelector(workload: AnyObject): string {
  const spec = (workload as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec;
  const labels = spec?.selector?.matchLabels ?? (workload.kind === 'Job' ? { 'batch.kubernetes.io/job-name': workload.metadata.name } : {});
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `${workload.kind} ${workload.metadata.name} has no selector to find its pods by`);
  return pairs.join(',');
}

/** The first of `kinds` that has an object `name` (undefined: none has). */
async function findWorkload(kube: KubeClient, kinds: readonly KindInfo[], namespace: string, name: string): Promise<AnyObject | undefined> {
  for (const kind of kinds) {
    try {
      return await kube.get(kind, namespace, name);
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound) || kinds.length === 1) throw err;
    }
  }
  return undefined;
}

/**
 * The pods whose logs are read: the one named, or the workload's. A bare name that is no pod is
 * looked up as a workload (0.1's `grove logs APP`); if none has it, the pod's NotFound stands.
 */
async function podsFor(kube: KubeClient, namespace: string, arg: string): Promise<{ pods: string[]; single: boolean }> {
  const { kind, name } = logsTarget(arg);
  let workload: AnyObject | undefined;
  if (kind !== KINDS.Pod) workload = await findWorkload(kube, [kind], namespace, name);
  else if (arg.includes('/')) return { pods: [name], single: true };
  else {
    try {
      return { pods: [(await kube.get(KINDS.Pod, namespace, name)).metadata.name], single: true };
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound)) throw err;
      workload = await findWorkload(kube, WORKLOAD_KINDS, namespace, name);
      if (!workload) throw err;
    }
  }
  const pods = await kube.list(KINDS.Pod, { namespace, labelSelector: podSelector(workload!) });
  if (pods.length === 0) throw new GroveError(ErrorCode.NotFound, `${resourceName(KINDS[workload!.kind as keyof typeof KINDS], name)} has no pods`);
  return { pods: pods.map((p) => p.metadata.name).sort(), single: false };
}

interface LogsOptions {
  container?: string | undefined;
  tail?: number | undefined;
  follow: boolean;
  prefix: boolean;
}

/** `GET /v1/logs` of one pod. */
export function logsPath(namespace: string, pod: string, options: LogsOptions): string {
  const query = new URLSearchParams({ namespace, pod });
  if (options.container) query.set('container', options.container);
  if (options.tail !== undefined) query.set('tail', String(options.tail));
  if (options.follow) query.set('follow', 'true');
  return `/v1/logs?${query}`;
}

function printItem(io: CliIO, item: LogItem & { error?: undefined }, prefix: boolean): void {
  const out = item.stream === 'stderr' ? io.stderr : io.stdout;
  out.write(`${prefix ? `[pod/${item.pod}/${item.container}] ` : ''}${item.text}\n`);
}

export function registerLogs(program: Command, act: Act): void {
  act(
    program
      .command('logs')
      .description("print a pod's logs, or every pod's of a workload, fetched from their nodes over MQTT (works for nodes behind NAT)")
      .argument('<pod>', 'POD, pod/POD, deployment/NAME, daemonset/NAME, replicaset/NAME, job/NAME (a bare name that is no pod: the workload of that name)'),
    {
      namespace: NAMESPACE_OPTION,
      container: option({ unit: text('name'), short: '-c', description: 'only this container' }),
      tail: option({ unit: count(0, Number.MAX_SAFE_INTEGER, 'lines'), description: 'last N lines per container' }),
      follow: onOff({ short: '-f', description: 'keep streaming new lines' }),
      prefix: onOff({ description: 'prefix each line with [pod/NAME/CONTAINER]' }),
    },
    async (ctx, [arg], options) => {
      const namespace = namespaceOf(options.namespace);
      const api = await openClient(ctx);
      const { pods, single } = await podsFor(new KubeClient(api), namespace, argText(arg, 'pod'));
      let failed = 0;
      const read = (pod: string) =>
        api.stream<LogItem>(logsPath(namespace, pod, options), (item) => {
          if (item.error === undefined) return printItem(ctx.io, item, options.prefix);
          // Other pods' lines keep coming; the exit code says something was missing (as kubectl).
          failed++;
          ctx.io.stderr.write(`${podErrorLine(item.pod || pod, item.error.message)}\n`);
        });
      if (single) await read(pods[0]!);
      else {
        await Promise.all(
          pods.map((pod) =>
            read(pod).catch((err: unknown) => {
              failed++;
              ctx.io.stderr.write(`${podErrorLine(pod, err instanceof Error ? err.message : String(err))}\n`);
            }),
          ),
        );
      }
      return failed > 0 ? 1 : undefined;
    },
  );
}
