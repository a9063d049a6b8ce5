/**
 * `grove compose up|down|ps|logs|config [-f FILE] [-p NAME] [--profile P] [--env-file F]`: docker
 * compose's familiar verbs as a thin front over the same path as `grove apply -f` (up),
 * `grove delete -f` (down), `grove get pods -l com.docker.compose.project=P` (ps), `grove logs
 * deploy/SERVICE` for each service (logs) and `grove apply --dry-run=client -o yaml` (config: the
 * translated Kubernetes objects). Without -f it reads compose.yaml (or compose.yml, docker-compose.yaml,
 * docker-compose.yml) in the current directory, as docker compose does.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { printObjects } from '../../client/output.js';
import { many, onOff, option } from '../../config/option.js';
import { list, text } from '../../config/units.js';
import { writeLine } from '../../io.js';
import type { CliContext } from '../../context.js';
import type { Act } from '../../verb.js';
import { COMPOSE_READ_OPTIONS, sendObjects } from './apply.js';
import { KubeClient } from './k8s/kube-client.js';
import { runDelete } from './k8s/delete.js';
import { composeProject, composePsTable, logWorkloads } from './compose-project.js';
import { LOG_READ_OPTIONS, streamLogs } from './logs.js';
import { KINDS } from '../../../core/objects/kinds.js';
import type { KindObject } from '../../../core/objects/validate.js';
import { COMPOSE_PROJECT_LABEL } from '../../../core/objects/annotations.js';

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

const OPTIONS = {
  file: many({ unit: list('path'), short: '-f', description: 'compose file (repeatable; default: compose.yaml in this directory)' }),
  projectName: option({ unit: text('name', 63), short: '-p', description: "project name (default: the file's name: or its directory's)" }),
  ...COMPOSE_READ_OPTIONS,
};

type ComposeOptions = { file: string[]; projectName?: string | undefined; envFile: string[]; profile: string[] };

function files(given: readonly string[]): string[] {
  if (given.length) return [...given];
  const found = DEFAULT_FILES.find((f) => existsSync(f));
  if (!found) throw new GroveError(ErrorCode.InvalidArgument, `no compose file: none of ${DEFAULT_FILES.join(', ')} in this directory (or give -f FILE)`);
  return [found];
}

async function load(ctx: CliContext, options: ComposeOptions) {
  const { loadSourcedObjects } = await import('../../client/read-manifests.js');
  const { composeHost } = await import('../../client/compose-host.js');
  const loaded = await loadSourcedObjects(files(options.file), undefined, { compose: composeHost(options) });
  for (const w of loaded.warnings) writeLine(ctx.io.stderr, `warning: ${w}`);
  return loaded;
}

export function registerCompose(program: Command, act: Act): void {
  const compose = program.command('compose').description('docker compose verbs over grove apply / delete / get / logs (up, down, ps, logs, config)');
  act(compose.command('up').description('create or update the project (grove apply -f FILE)'), OPTIONS, async (ctx, _args, options) => {
    const { objects, sources } = await load(ctx, options);
    await sendObjects(ctx, objects, { dryRun: 'none' }, sources);
  });
  act(compose.command('down').description('delete what the project file defines (grove delete -f FILE); named volumes stay on the nodes'), OPTIONS, async (ctx, _args, options) => {
    const { objects } = await load(ctx, options);
    const request = { resources: [], objects, namespace: 'default', allNamespaces: false, all: false, ignoreNotFound: true };
    await runDelete(new KubeClient(await openClient(ctx)), ctx.io, request);
  });
  act(compose.command('ps').description("list the project's containers (pods): name, image, service, status, node, published ports"), OPTIONS, async (ctx, _args, options) => {
    const project = composeProject((await load(ctx, options)).objects);
    const client = new KubeClient(await openClient(ctx));
    const pods = (await client.list(KINDS.Pod, { namespace: project.namespace, labelSelector: `${COMPOSE_PROJECT_LABEL}=${project.name}` })) as KindObject<'Pod'>[];
    writeLine(ctx.io.stdout, composePsTable(pods, new Date()));
  });
  act(
    compose.command('logs').description("print the services' logs (all services, or those named), each line after its pod's name").argument('[service...]', 'compose service names'),
    // -f is the compose file here, as on every compose verb: following is --follow.
    { ...OPTIONS, ...LOG_READ_OPTIONS, follow: onOff({ description: 'keep streaming new lines until interrupted' }) },
    async (ctx, [services], options) => {
      const project = composeProject((await load(ctx, options)).objects);
      const workloads = logWorkloads(project, (services as string[] | undefined) ?? []);
      const api = await openClient(ctx);
      // Followed streams run side by side (as docker compose interleaves them); otherwise one service after another.
      const failures = options.follow
        ? await Promise.all(workloads.map((w) => streamLogs(ctx, api, project.namespace, { workload: w }, { ...options, prefix: 'pod' })))
        : await sequentially(workloads, (w) => streamLogs(ctx, api, project.namespace, { workload: w }, { ...options, prefix: 'pod' }));
      return failures.some((f) => f > 0) ? 1 : undefined;
    },
  );
  act(compose.command('config').description('print the Kubernetes objects the compose file becomes'), OPTIONS, async (ctx, _args, options) => {
    const { objects } = await load(ctx, options);
    await printObjects(ctx.io, 'yaml', objects, false);
  });
}

async function sequentially<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await run(item));
  return out;
}
