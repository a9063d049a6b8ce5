/**
 * `grove apply -f FILE|DIR|-`: manifests and compose files → Kubernetes objects (the client's
 * translation, read-manifests.ts loadObjects), every object of the run in ONE request to the
 * server's object apply, and kubectl's line per object (`deployment.apps/web created`).
 * Everything is read and checked before anything is sent: all or nothing.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { AnyObject } from '../../../core/objects/changes.js';
import { KINDS, type KindName } from '../../../core/objects/kinds.js';
import { applyObjects, applyResultLine, refusalWithSources, resourceName } from '../../client/apply-objects.js';
import type { ManifestOptions, ObjectSource } from '../../../core/manifests/manifest-objects.js';
import { openClient } from '../../client/open-client.js';
import { printObjects } from '../../client/output.js';
import { many, option } from '../../config/option.js';
import { list, oneOf } from '../../config/units.js';
import { writeLine } from '../../io.js';
import type { CliContext } from '../../context.js';
import type { Act } from '../../verb.js';
import { NAMESPACE_OPTION } from './k8s/scope-options.js';
import { KubeClient } from './k8s/kube-client.js';

/** --dry-run and -o of the verbs that send objects (apply, create). */
export const SEND_OPTIONS = {
  dryRun: option({ unit: oneOf(['none', 'server', 'client'] as const, 'strategy'), description: 'server: the server checks and decides, writes nothing; client: nothing is sent (with -o yaml|json: print the objects)', default: 'none' }),
  output: option({ unit: oneOf(['yaml', 'json', 'name'] as const, 'format'), short: '-o', description: 'yaml | json (with --dry-run=client: the objects themselves) | name' }),
};

/** What compose files are read with, as docker compose takes it (compose-host.ts). */
export const COMPOSE_READ_OPTIONS = {
  envFile: many({ unit: list('path'), description: 'compose: read variables from this file instead of the project\'s .env (repeatable)' }),
  profile: many({ unit: list('name'), description: 'compose: also run the services of this profile (repeatable)' }),
};

export const APPLY_OPTIONS = {
  filename: many({ unit: list('path'), short: '-f', description: 'file, directory or - for stdin (repeatable)' }),
  namespace: NAMESPACE_OPTION,
  ...COMPOSE_READ_OPTIONS,
  ...SEND_OPTIONS,
};

/**
 * The objects with `-n`'s namespace where they name none (namespaced kinds only), as kubectl: an
 * object naming another namespace than -n is refused, not moved.
 */
export function inNamespace(objects: readonly AnyObject[], namespace: string | undefined): AnyObject[] {
  if (namespace === undefined) return [...objects];
  return objects.map((o) => {
    const info = Object.hasOwn(KINDS, o.kind) ? KINDS[o.kind as KindName] : undefined;
    if (!info?.namespaced) return o;
    const own = (o.metadata as { namespace?: string }).namespace;
    if (own === undefined || own === '') return { ...o, metadata: { ...o.metadata, namespace } } as AnyObject;
    if (own !== namespace) {
      throw new GroveError(ErrorCode.InvalidArgument, `the namespace from the provided object "${own}" does not match the namespace "${namespace}". You must pass '--namespace=${own}' to perform this operation.`);
    }
    return o;
  });
}

export interface SendOptions {
  dryRun: 'none' | 'server' | 'client';
  output?: 'yaml' | 'json' | 'name' | undefined;
}

/**
 * Applies `objects` in one request and prints kubectl's line per object; with --dry-run=client
 * sends nothing and prints the objects (-o yaml|json) or their names. `apply` and `create` share it.
 * `sources[i]` is where objects[i] was written: a refusal names it.
 */
export async function sendObjects(ctx: CliContext, objects: readonly AnyObject[], { dryRun, output }: SendOptions, sources: readonly ObjectSource[] = []): Promise<void> {
  if ((output === 'yaml' || output === 'json') && dryRun !== 'client') {
    throw new GroveError(ErrorCode.InvalidArgument, `-o ${output} prints the objects themselves: add --dry-run=client (the server answers with what it did, not the objects)`);
  }
  if (dryRun === 'client') {
    if (output === 'yaml' || output === 'json') return printObjects(ctx.io, output, objects, true);
    for (const o of objects) writeLine(ctx.io.stdout, `${resourceName(o.kind, o.metadata.name)}${output === 'name' ? '' : ' (dry run)'}`);
    return;
  }
  const results = await applyObjects(await openClient(ctx), objects, { dryRun: dryRun === 'server' }).catch((err: unknown) => {
    throw refusalWithSources(err, sources);
  });
  for (const r of results) writeLine(ctx.io.stdout, output === 'name' ? resourceName(r.kind, r.name) : applyResultLine(r, dryRun === 'server'));
}

export function registerApply(program: Command, act: Act): void {
  act(program.command('apply').description('create or update objects from Kubernetes manifests or docker-compose files (one request: all or nothing)'), APPLY_OPTIONS, async (ctx, _args, options) => {
    const files = options.filename;
    if (files.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'apply needs -f FILE, -f DIR or -f -');
    const { sourcedObjectsTranslator } = await import('../../client/read-manifests.js');
    const { composeHost } = await import('../../client/compose-host.js');
    const read = await sourcedObjectsTranslator(files);
    const compose = composeHost(options);
    const translate = (o: ManifestOptions) => read({ ...o, compose });
    // -n puts compose projects there too, instead of a namespace named after each project.
    const first = translate(options.namespace === undefined ? {} : { composeNamespace: options.namespace });
    for (const w of first.warnings) writeLine(ctx.io.stderr, `warning: ${w}`);
    let { objects, sources } = first;
    // Without -n, a project an earlier Grove ran in `default` stays there (compose-upgrade.ts);
    // a client dry run asks the server nothing, so it shows the project in its own namespace.
    if (options.namespace === undefined && options.dryRun !== 'client') {
      const { keepProjectsInDefault } = await import('../../client/compose-upgrade.js');
      ({ objects, sources } = await keepProjectsInDefault({ objects, sources }, translate, new KubeClient(await openClient(ctx)), (line) => writeLine(ctx.io.stderr, line)));
    }
    await sendObjects(ctx, inNamespace(objects, options.namespace), options, sources);
  });
}
