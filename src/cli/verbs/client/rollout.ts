/**
 * `grove rollout status|history|undo|restart` on Deployments and DaemonSets, as kubectl does it:
 * read the workload (and its ReplicaSets / ControllerRevisions) on the Kubernetes paths, and for
 * undo and restart apply the workload back with its new template (its resourceVersion makes a
 * concurrent change a Conflict, never a lost update). TYPE/NAME, TYPE NAME, or NAME alone (a
 * Deployment, else a DaemonSet: 0.1's `grove rollout status web` keeps working).
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError, isGroveError } from '../../../core/errors.js';
import { RESTARTED_AT_ANNOTATION } from '../../../core/objects/annotations.js';
import type { AnyObject } from '../../../core/objects/changes.js';
import { byResource, KINDS } from '../../../core/objects/kinds.js';
import type { PodTemplateSpec } from '../../../core/objects/pod.js';
import type { ApiClient } from '../../client/api-client.js';
import { applyObjects } from '../../client/apply-objects.js';
import { openClient } from '../../client/open-client.js';
import type { CliContext } from '../../context.js';
import { onOff, option } from '../../config/option.js';
import { count, duration } from '../../config/units.js';
import { writeLine } from '../../io.js';
import { argList, type Act } from '../../verb.js';
import { KubeClient } from './k8s/kube-client.js';
import { resourceName } from './k8s/resource-names.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';
import { daemonSetRevisions, deploymentRevisions, historyTable, undoPlan, type Revision, type Workload } from './rollout/revisions.js';
import { lastRollback, rolloutLook } from './rollout/watch.js';

const POLL_MS = 1000;

/** `deploy/web`, `deployment web` or `web` → the kind asked for (undefined: either) and the name. */
export function rolloutArgs(args: readonly string[]): { kind?: 'Deployment' | 'DaemonSet'; name: string } {
  const [first, second, ...rest] = args;
  if (first === undefined || rest.length > 0) throw new GroveError(ErrorCode.InvalidArgument, 'name one workload: deployment/NAME, daemonset/NAME, TYPE NAME or NAME');
  const slash = first.indexOf('/');
  const [type, name] = slash >= 0 ? [first.slice(0, slash), first.slice(slash + 1)] : second !== undefined ? [first, second] : [undefined, first];
  if (slash >= 0 && second !== undefined) throw new GroveError(ErrorCode.InvalidArgument, `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form`);
  if (name === '') throw new GroveError(ErrorCode.InvalidArgument, `${first}: no name`);
  if (type === undefined) return { name };
  const kind = byResource(type)?.kind;
  if (kind !== 'Deployment' && kind !== 'DaemonSet') throw new GroveError(ErrorCode.InvalidArgument, `rollout works on deployments and daemonsets, not "${type}"`);
  return { kind, name };
}

async function readWorkload(kube: KubeClient, namespace: string, args: readonly string[]): Promise<Workload> {
  const { kind, name } = rolloutArgs(args);
  if (kind !== undefined) return (await kube.get(KINDS[kind], namespace, name)) as Workload;
  for (const k of [KINDS.Deployment, KINDS.DaemonSet]) {
    try {
      return (await kube.get(k, namespace, name)) as Workload;
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound)) throw err;
    }
  }
  throw new GroveError(ErrorCode.NotFound, `no deployment or daemon set named ${JSON.stringify(name)} in namespace ${namespace}`);
}

async function revisionsOf(kube: KubeClient, w: Workload): Promise<Revision[]> {
  const namespace = w.metadata.namespace ?? 'default';
  if (w.kind === 'Deployment') return deploymentRevisions(w, (await kube.list(KINDS.ReplicaSet, { namespace })) as never);
  return daemonSetRevisions(w, (await kube.list(KINDS.ControllerRevision, { namespace })) as never);
}

/** Applies `w` with `template` (status left to the server); one request, Conflict if it changed meanwhile. */
async function applyTemplate(api: ApiClient, w: Workload, template: PodTemplateSpec): Promise<void> {
  const { status: _status, ...object } = w as Workload & { status?: unknown };
  await applyObjects(api, [{ ...object, spec: { ...w.spec, template } } as unknown as AnyObject]);
}

/** `w`'s template with grove.io/restartedAt = `at`: every pod replaced, following the update strategy. */
export function restartedTemplate(w: Workload, at: Date): PodTemplateSpec {
  const t = w.spec.template as PodTemplateSpec;
  return { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata?.annotations, [RESTARTED_AT_ANNOTATION]: at.toISOString() } } };
}

async function open(ctx: CliContext): Promise<{ api: ApiClient; kube: KubeClient }> {
  const api = await openClient(ctx);
  return { api, kube: new KubeClient(api) };
}

const WORKLOAD_ARGS = '<workload...>';
const WORKLOAD_HELP = 'deployment/NAME, daemonset/NAME (deploy/, ds/), TYPE NAME, or NAME';

export function registerRollout(program: Command, act: Act): void {
  const rollout = program.command('rollout').description('watch, list, undo and restart rollouts of Deployments and DaemonSets');
  act(
    rollout.command('status').description('follow a rollout until it completes (exit 1 if it fails or is rolled back)').argument(WORKLOAD_ARGS, WORKLOAD_HELP),
    {
      namespace: NAMESPACE_OPTION,
      timeout: option({ unit: duration, description: 'give up after this long, e.g. 90s, 10m', default: 600_000 }),
      watch: onOff({ negate: true, description: 'print the current state once and exit' }),
    },
    async (ctx, [args], options) => {
      const { kube } = await open(ctx);
      const namespace = namespaceOf(options.namespace);
      const deadline = Date.now() + options.timeout;
      let rollbackAtStart: string | undefined;
      let first = true;
      let lastLine = '';
      for (;;) {
        const w = await readWorkload(kube, namespace, argList(args));
        if (first) rollbackAtStart = lastRollback(w);
        first = false;
        const look = rolloutLook(w, rollbackAtStart);
        if (look.failure) throw new GroveError(ErrorCode.RolloutFailed, look.failure);
        if (look.line !== lastLine) writeLine(ctx.io.stdout, look.line);
        lastLine = look.line;
        if (look.done || !options.watch) return;
        if (Date.now() >= deadline) throw new GroveError(ErrorCode.Timeout, `timed out waiting for the rollout of ${resourceName(KINDS[w.kind], w.metadata.name)} (${duration.format(options.timeout)})`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  );
  act(rollout.command('history').description('list the revisions of a Deployment or DaemonSet, oldest first').argument(WORKLOAD_ARGS, WORKLOAD_HELP), { namespace: NAMESPACE_OPTION }, async (ctx, [args], options) => {
    const { kube } = await open(ctx);
    const w = await readWorkload(kube, namespaceOf(options.namespace), argList(args));
    writeLine(ctx.io.stdout, resourceName(KINDS[w.kind], w.metadata.name));
    writeLine(ctx.io.stdout, historyTable(await revisionsOf(kube, w)));
  });
  act(
    rollout.command('undo').description('go back to the previous revision (or --to-revision N)').argument(WORKLOAD_ARGS, WORKLOAD_HELP),
    { namespace: NAMESPACE_OPTION, toRevision: option({ unit: count(1, 999_999_999, 'n'), description: 'the revision to go back to (see rollout history)' }) },
    async (ctx, [args], options) => {
      const { api, kube } = await open(ctx);
      const w = await readWorkload(kube, namespaceOf(options.namespace), argList(args));
      const plan = undoPlan(w, await revisionsOf(kube, w), options.toRevision ?? 0);
      const name = resourceName(KINDS[w.kind], w.metadata.name);
      if (plan.action === 'skip') return writeLine(ctx.io.stdout, `${name} skipped rollback (current template already matches revision ${plan.revision})`);
      await applyTemplate(api, w, plan.template);
      writeLine(ctx.io.stdout, `${name} rolled back`);
    },
  );
  act(
    rollout.command('restart').description('replace every pod with a fresh one, following the update strategy').argument(WORKLOAD_ARGS, WORKLOAD_HELP),
    { namespace: NAMESPACE_OPTION },
    async (ctx, [args], options) => {
      const { api, kube } = await open(ctx);
      const w = await readWorkload(kube, namespaceOf(options.namespace), argList(args));
      await applyTemplate(api, w, restartedTemplate(w, new Date()));
      writeLine(ctx.io.stdout, `${resourceName(KINDS[w.kind], w.metadata.name)} restarted`);
    },
  );
}
