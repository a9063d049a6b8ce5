/**
 * `grove exec [-i] [-t] POD|TYPE/NAME [-c C] [-n NS] -- CMD [ARG…]`: runs a command in a pod's
 * container through the server's `pods/exec` (WebSocket), which reaches the pod's node over
 * MQTT — nodes behind NAT too. TYPE/NAME (deploy/web, ds/agent, rs/…, job/…) picks one running
 * pod of the workload, as kubectl does. The command's exit code is grove's; with -t the local
 * terminal is raw while the command runs and its size follows the window.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { AnyObject } from '../../../core/objects/changes.js';
import { KINDS, byResource } from '../../../core/objects/kinds.js';
import { selectorText, type SelectorObject } from '../../../core/label-selector.js';
import { loadClientConfig } from '../../client/client-config.js';
import { ApiClient } from '../../client/api-client.js';
import { runExec } from '../../client/exec-client.js';
import { onOff, option } from '../../config/option.js';
import { text } from '../../config/units.js';
import { argList, argText, type Act } from '../../verb.js';
import { KubeClient } from './k8s/kube-client.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';

/** Workload kinds whose pods `TYPE/NAME` may pick from, and the labels that select them. */
function podSelector(workload: AnyObject): string {
  const spec = (workload as { spec?: { selector?: SelectorObject } }).spec;
  const text = selectorText(workload.kind === 'Job' ? { matchLabels: { 'job-name': workload.metadata.name } } : spec?.selector);
  if (text === '') throw new GroveError(ErrorCode.InvalidArgument, `${workload.kind} ${workload.metadata.name} has no label selector to find its pods by`);
  return text;
}

/** The pod kubectl would pick: running and ready first, then the newest. */
export function pickPod(pods: readonly AnyObject[]): AnyObject | undefined {
  const phase = (p: AnyObject) => (p as { status?: { phase?: string } }).status?.phase;
  const ready = (p: AnyObject) => (p as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const live = pods.filter((p) => phase(p) === 'Running' && p.metadata.deletionTimestamp === undefined);
  return [...live].sort((a, b) => Number(ready(b)) - Number(ready(a)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
}

/** The pod `arg` names: POD, pod/POD, or one of a workload's (TYPE/NAME). */
export async function resolvePod(kube: KubeClient, namespace: string, arg: string): Promise<string> {
  const slash = arg.indexOf('/');
  if (slash < 0) return arg;
  const kind = byResource(arg.slice(0, slash));
  const name = arg.slice(slash + 1);
  if (!kind || name === '') throw new GroveError(ErrorCode.InvalidArgument, `cannot exec into ${JSON.stringify(arg)}: use POD, pod/POD or deployment|daemonset|replicaset|statefulset|job/NAME`);
  if (kind === KINDS.Pod) return name;
  if (!['Deployment', 'DaemonSet', 'ReplicaSet', 'StatefulSet', 'Job'].includes(kind.kind)) {
    throw new GroveError(ErrorCode.InvalidArgument, `cannot exec into a ${kind.kind}: use a pod, or a Deployment, DaemonSet, ReplicaSet, StatefulSet or Job`);
  }
  const workload = await kube.get(kind, namespace, name);
  const pod = pickPod(await kube.list(KINDS.Pod, { namespace, labelSelector: podSelector(workload) }));
  if (!pod) throw new GroveError(ErrorCode.NotFound, `${kind.kind} ${name} has no running pod`);
  return pod.metadata.name;
}

export function registerExec(program: Command, act: Act): void {
  act(
    program
      .command('exec')
      .description('run a command in a container of a pod (or of one pod of a workload), on any node, behind NAT too')
      .argument('<pod>', 'POD, pod/POD, deployment/NAME, daemonset/NAME, replicaset/NAME, job/NAME')
      .argument('<command...>', 'the command and its arguments, after --'),
    {
      namespace: NAMESPACE_OPTION,
      container: option({ unit: text('name'), short: '-c', description: 'the container (default: the only one)' }),
      stdin: onOff({ short: '-i', description: 'pass stdin to the command' }),
      tty: onOff({ short: '-t', description: 'run the command on a terminal (raw local terminal, size follows the window)' }),
    },
    async (ctx, [podArg, commandArgs], options) => {
      const namespace = namespaceOf(options.namespace);
      const command = argList(commandArgs, 'command');
      const config = await loadClientConfig({ config: ctx.clientConfig, dataDir: ctx.dataDir });
      const pod = await resolvePod(new KubeClient(new ApiClient(config)), namespace, argText(podArg, 'pod'));
      const stdin = process.stdin;
      const out = process.stdout;
      const raw = options.tty && options.stdin && stdin.isTTY === true;
      if (options.tty && !stdin.isTTY) ctx.io.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
      if (raw) stdin.setRawMode(true);
      try {
        return await runExec(
          config,
          { namespace, pod, command, ...(options.container ? { container: options.container } : {}) },
          {
            ...(options.stdin ? { stdin } : {}),
            stdout: ctx.io.stdout,
            stderr: ctx.io.stderr,
            tty: options.tty,
            size: () => ({ width: out.columns ?? 80, height: out.rows ?? 24 }),
            onResize: (listener) => {
              out.on('resize', listener);
              return () => out.off('resize', listener);
            },
          },
        );
      } finally {
        if (raw) stdin.setRawMode(false);
        stdin.unref?.();
      }
    },
  );
}
