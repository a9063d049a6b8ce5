/**
 * `grove rollout status|history|undo|restart` on Deployments and DaemonSets, through the server's
 * rollout routes (`/v1/namespaces/{ns}/{deployments|daemonsets}/{name}/rollout…`, docs/api.md
 * "Rollouts": the server reads the ReplicaSets / ControllerRevisions and changes the template).
 * The workload is TYPE/NAME, TYPE NAME, or NAME alone (a Deployment, else a DaemonSet: 0.1's
 * `grove rollout status web` keeps working). The words are kubectl's.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError, isGroveError } from '../../../core/errors.js';
import { byResource, KINDS } from '../../../core/objects/kinds.js';
import type { ApiClient } from '../../client/api-client.js';
import { openClient } from '../../client/open-client.js';
import type { CliContext } from '../../context.js';
import { onOff, option } from '../../config/option.js';
import { count, duration } from '../../config/units.js';
import { table } from '../../format.js';
import { writeLine } from '../../io.js';
import { argList, type Act } from '../../verb.js';
import { resourceName } from './k8s/resource-names.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';

const POLL_MS = 1000;

type RolloutKind = 'Deployment' | 'DaemonSet';

/** GET …/rollout: kubectl's reading of the workload's status (the server's RolloutStatusView). */
export interface RolloutStatusAnswer {
  done: boolean;
  /** The rollout stopped (progress deadline exceeded): waiting longer will not finish it. */
  failed: boolean;
  message: string;
  /** Grove's automatic rollback, when one happened ("revision 3 → 2 at …: …"). */
  lastRollback?: string;
}

/** One item of GET …/rollout/history, oldest first. */
export interface RevisionAnswer {
  revision: number;
  changeCause?: string;
  current: boolean;
}

export interface RolloutTarget {
  kind?: RolloutKind;
  name: string;
}

/** `deploy/web`, `deployment web` or `web` → the kind asked for (absent: either) and the name. */
export function rolloutArgs(args: readonly string[]): RolloutTarget {
  const [first, second, ...rest] = args;
  if (first === undefined || rest.length > 0) throw new GroveError(ErrorCode.InvalidArgument, 'name one workload: deployment/NAME, daemonset/NAME, TYPE NAME or NAME');
  const slash = first.indexOf('/');
  if (slash >= 0 && second !== undefined) throw new GroveError(ErrorCode.InvalidArgument, 'there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  const [type, name] = slash >= 0 ? [first.slice(0, slash), first.slice(slash + 1)] : second !== undefined ? [first, second] : [undefined, first];
  if (name === '') throw new GroveError(ErrorCode.InvalidArgument, `${first}: no name`);
  if (type === undefined) return { name };
  const kind = byResource(type)?.kind;
  if (kind !== 'Deployment' && kind !== 'DaemonSet') throw new GroveError(ErrorCode.InvalidArgument, `rollout works on deployments and daemonsets, not "${type}"`);
  return { kind, name };
}

/** The route of a workload's rollout: `/v1/namespaces/shop/deployments/web/rollout`. */
export function rolloutPath(kind: RolloutKind, namespace: string, name: string, what = ''): string {
  return `/v1/namespaces/${encodeURIComponent(namespace)}/${KINDS[kind].plural}/${encodeURIComponent(name)}/rollout${what}`;
}

/** PURE: the next line of `rollout status` and whether watching is over; a failure exits 1. */
export function statusVerdict(answer: RolloutStatusAnswer, kind: RolloutKind, name: string, rollbackAtStart: string | undefined): { line: string; done: boolean; failure?: string } {
  if (answer.lastRollback !== undefined && answer.lastRollback !== rollbackAtStart) {
    const failure = `${kind === 'Deployment' ? 'deployment' : 'daemon set'} ${JSON.stringify(name)} rollout failed and was rolled back: ${answer.lastRollback}`;
    return { line: failure, done: true, failure };
  }
  if (answer.failed) return { line: answer.message, done: true, failure: answer.message };
  return { line: answer.message, done: answer.done };
}

/** `rollout history`'s table, as kubectl prints it. */
export function historyTable(revisions: readonly RevisionAnswer[]): string {
  return table(['REVISION', 'CHANGE-CAUSE'], revisions.map((r) => [String(r.revision), r.changeCause ?? '<none>']));
}

/**
 * The workload's kind: the one named, or for a bare name the Deployment, else the DaemonSet of
 * that name (asked through the status route, which fails NotFound only when the workload is missing).
 */
async function kindOf(api: ApiClient, target: RolloutTarget, namespace: string): Promise<RolloutKind> {
  if (target.kind !== undefined) return target.kind;
  for (const kind of ['Deployment', 'DaemonSet'] as const) {
    try {
      await api.get<RolloutStatusAnswer>(rolloutPath(kind, namespace, target.name));
      return kind;
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound)) throw err;
    }
  }
  throw new GroveError(ErrorCode.NotFound, `no deployment or daemon set named ${JSON.stringify(target.name)} in namespace ${namespace}`);
}

/** The verb's client, workload kind, namespace and name. */
async function workload(ctx: CliContext, args: unknown, namespaceOption: string | undefined): Promise<{ api: ApiClient; kind: RolloutKind; namespace: string; name: string; path: (what?: string) => string }> {
  const api = await openClient(ctx);
  const target = rolloutArgs(argList(args));
  const namespace = namespaceOf(namespaceOption);
  const kind = await kindOf(api, target, namespace);
  return { api, kind, namespace, name: target.name, path: (what = '') => rolloutPath(kind, namespace, target.name, what) };
}

const WORKLOAD_ARGS = '<workload...>';
const WORKLOAD_HELP = 'deployment/NAME, daemonset/NAME (deploy/, ds/), TYPE NAME, or NAME';

async function watchStatus(api: ApiClient, kind: RolloutKind, name: string, path: string, options: { timeout: number; watch: boolean }, print: (line: string) => void): Promise<void> {
  const deadline = Date.now() + options.timeout;
  let rollbackAtStart: string | undefined;
  let lastLine = '';
  for (let first = true; ; first = false) {
    const answer = await api.get<RolloutStatusAnswer>(path);
    if (first) rollbackAtStart = answer.lastRollback;
    const verdict = statusVerdict(answer, kind, name, rollbackAtStart);
    if (verdict.failure) throw new GroveError(ErrorCode.RolloutFailed, verdict.failure);
    if (verdict.line !== lastLine) print(verdict.line);
    lastLine = verdict.line;
    if (verdict.done || !options.watch) return;
    if (Date.now() >= deadline) throw new GroveError(ErrorCode.Timeout, `timed out waiting for the rollout of ${resourceName(KINDS[kind], name)} (${duration.format(options.timeout)})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

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
      const w = await workload(ctx, args, options.namespace);
      await watchStatus(w.api, w.kind, w.name, w.path(), options, (line) => writeLine(ctx.io.stdout, line));
    },
  );
  act(rollout.command('history').description('list the revisions of a Deployment or DaemonSet, oldest first').argument(WORKLOAD_ARGS, WORKLOAD_HELP), { namespace: NAMESPACE_OPTION }, async (ctx, [args], options) => {
    const w = await workload(ctx, args, options.namespace);
    const revisions = await w.api.get<RevisionAnswer[]>(w.path('/history'));
    writeLine(ctx.io.stdout, resourceName(KINDS[w.kind], w.name));
    writeLine(ctx.io.stdout, historyTable(revisions));
  });
  act(
    rollout.command('undo').description('go back to the previous revision (or --to-revision N)').argument(WORKLOAD_ARGS, WORKLOAD_HELP),
    { namespace: NAMESPACE_OPTION, toRevision: option({ unit: count(1, 999_999_999, 'n'), description: 'the revision to go back to (see rollout history)' }) },
    async (ctx, [args], options) => {
      const w = await workload(ctx, args, options.namespace);
      const body = options.toRevision === undefined ? {} : { toRevision: options.toRevision };
      const answer = await w.api.post<{ toRevision: number; unchanged: boolean }>(w.path('/undo'), body);
      const name = resourceName(KINDS[w.kind], w.name);
      writeLine(ctx.io.stdout, answer.unchanged ? `${name} skipped rollback (current template already matches revision ${answer.toRevision})` : `${name} rolled back`);
    },
  );
  act(
    rollout.command('restart').description('replace every pod with a fresh one, following the update strategy').argument(WORKLOAD_ARGS, WORKLOAD_HELP),
    { namespace: NAMESPACE_OPTION },
    async (ctx, [args], options) => {
      const w = await workload(ctx, args, options.namespace);
      await w.api.post<unknown>(w.path('/restart'), {});
      writeLine(ctx.io.stdout, `${resourceName(KINDS[w.kind], w.name)} restarted`);
    },
  );
}
