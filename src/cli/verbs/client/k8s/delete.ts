/**
 * `grove delete` on the Kubernetes paths, as kubectl: `delete TYPE NAME…`, `delete TYPE/NAME…`,
 * `delete TYPE -l SELECTOR`, `--field-selector` or `--all` (in -n NS, or -A), `delete -f FILE` (the objects a
 * manifest or compose file defines, in the file's namespace, else -n's). Each deletion prints
 * `deployment.apps "web" deleted`; dependents go in the background (the server's garbage
 * collector). A name that is not there is reported after the rest, and the verb fails, unless
 * --ignore-not-found.
 */
import type { Command } from 'commander';
import { ErrorCode, errorMessage, GroveError, isGroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { KINDS, type KindInfo } from '../../../../core/objects/kinds.js';
import { many, onOff } from '../../../config/option.js';
import { list } from '../../../config/units.js';
import { openClient } from '../../../client/open-client.js';
import { writeLine, type CliIO } from '../../../io.js';
import { argList, type Act } from '../../../verb.js';
import { KubeClient, listScope } from './kube-client.js';
import { parseResourceArgs, type ResourceRequest } from './resource-args.js';
import { deletedLine } from './resource-names.js';
import { ALL_NAMESPACES_OPTION, FIELD_SELECTOR_OPTION, NAMESPACE_OPTION, namespaceOf, SELECTOR_OPTION } from './scope-options.js';

export interface DeleteTarget {
  kind: KindInfo;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
}

export interface DeleteRequest {
  resources: ResourceRequest[];
  /** Objects named by -f files. */
  objects: readonly AnyObject[];
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string | undefined;
  /** Sent with the list of what to delete: the server selects. */
  fieldSelector?: string | undefined;
  all: boolean;
  ignoreNotFound: boolean;
}

/** What the verb loads from -f files: manifests and compose files → objects (the client's loader). */
/** `namespace`: -n, where compose projects were applied with it. */
export type LoadObjects = (paths: string[], namespace?: string) => Promise<AnyObject[]>;

function target(kind: KindInfo, namespace: string | undefined, name: string): DeleteTarget {
  return { kind, ...(kind.namespaced && namespace !== undefined ? { namespace } : {}), name };
}

/** The objects `request` names; a selector or --all lists them first. */
export async function deleteTargets(client: KubeClient, request: DeleteRequest): Promise<DeleteTarget[]> {
  const selecting = request.all || Boolean(request.labelSelector) || Boolean(request.fieldSelector);
  const out: DeleteTarget[] = [];
  // A file's Namespaces last (a compose project's comes first, for apply): deleting one takes
  // what it holds along, which would then be reported missing.
  const namespacesLast = [...request.objects].sort((a, b) => Number(a.kind === 'Namespace') - Number(b.kind === 'Namespace'));
  for (const o of namespacesLast) {
    const kind = KINDS[o.kind] as KindInfo;
    out.push(target(kind, (o.metadata as { namespace?: string }).namespace ?? request.namespace, o.metadata.name));
  }
  for (const { kind, names } of request.resources) {
    if (names.length > 0 && selecting) throw new GroveError(ErrorCode.InvalidArgument, 'name objects or select them (-l, --all), not both');
    if (names.length > 0) {
      if (request.allNamespaces) throw new GroveError(ErrorCode.InvalidArgument, 'a resource cannot be deleted by name across all namespaces');
      for (const name of names) out.push(target(kind, request.namespace, name));
      continue;
    }
    if (!selecting) throw new GroveError(ErrorCode.InvalidArgument, `resource(s) were provided, but no name was specified: name the ${kind.plural} to delete, or use -l SELECTOR, --field-selector or --all`);
    const namespace = kind.namespaced && !request.allNamespaces ? request.namespace : undefined;
    for (const o of await client.list(kind, listScope(namespace, request))) out.push(target(kind, (o.metadata as { namespace?: string }).namespace, o.metadata.name));
  }
  return out;
}

/** Deletes each target in order, printing kubectl's line; names not found are reported together at the end. */
export async function runDelete(client: KubeClient, io: CliIO, request: DeleteRequest): Promise<void> {
  const targets = await deleteTargets(client, request);
  if (targets.length === 0) {
    if (request.all || request.labelSelector || request.fieldSelector) writeLine(io.stderr, 'No resources found');
    return;
  }
  const problems: string[] = [];
  for (const t of targets) {
    try {
      await client.delete(t.kind, t.namespace, t.name);
      writeLine(io.stdout, deletedLine(t.kind, t.name));
    } catch (err) {
      if (!isGroveError(err, ErrorCode.NotFound)) throw err;
      if (!request.ignoreNotFound) problems.push(errorMessage(err));
    }
  }
  if (problems.length) throw new GroveError(ErrorCode.NotFound, problems.join('\n'), { details: { problems } });
}

/**
 * Registers `delete`. `loadObjects` reads -f files (src/cli/client/read-manifests.ts's
 * loadObjects once the client's object path is in).
 */
export function registerKubeDelete(program: Command, act: Act, loadObjects: LoadObjects): void {
  act(
    program
      .command('delete')
      .description('delete objects by kind and name, by label selector, or as manifest files define them (kubectl delete)')
      .argument('[resources...]', 'TYPE NAME…, TYPE/NAME…, or TYPE with -l / --field-selector / --all'),
    {
      filename: many({ unit: list('path'), short: '-f', description: 'delete what these files define (repeatable)' }),
      namespace: NAMESPACE_OPTION,
      allNamespaces: ALL_NAMESPACES_OPTION,
      selector: SELECTOR_OPTION,
      fieldSelector: FIELD_SELECTOR_OPTION,
      all: onOff({ description: 'every object of the kinds named (in the namespace, or -A)' }),
      ignoreNotFound: onOff({ description: 'a name that is not there is not an error' }),
    },
    async (ctx, [args], options) => {
      const words = argList(args, 'resources');
      if (words.length === 0 && options.filename.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'delete needs TYPE NAME…, TYPE/NAME…, or -f FILE');
      const request: DeleteRequest = {
        resources: words.length ? parseResourceArgs(words, 'delete') : [],
        objects: options.filename.length ? await loadObjects(options.filename, options.namespace) : [],
        namespace: namespaceOf(options.namespace),
        allNamespaces: options.allNamespaces,
        labelSelector: options.selector,
        fieldSelector: options.fieldSelector,
        all: options.all,
        ignoreNotFound: options.ignoreNotFound,
      };
      await runDelete(new KubeClient(await openClient(ctx)), ctx.io, request);
    },
  );
}
