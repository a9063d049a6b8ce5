/**
 * `grove get` on the Kubernetes paths, as kubectl: `get TYPE[,TYPE…] [NAME…]`, `get TYPE/NAME…`,
 * `get all`; -n NS, -A, -l SELECTOR, --field-selector; -o wide|json|yaml|name. Tables per kind (tables.ts), one
 * object as itself and several as a v1 List for json/yaml (printObjects, shared with apply's
 * round trip), and every name that was not found reported after what was. Secret data shows as
 * sizes unless --show-values (secret-values.ts).
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError, errorMessage } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { KindInfo } from '../../../../core/objects/kinds.js';
import { openClient } from '../../../client/open-client.js';
import { printObjects } from '../../../client/output.js';
import { table } from '../../../format.js';
import { writeLine, type CliIO } from '../../../io.js';
import { onOff } from '../../../config/option.js';
import { argList, type Act } from '../../../verb.js';
import { KubeClient } from './kube-client.js';
import { parseResourceArgs, type ResourceRequest } from './resource-args.js';
import { resourceName } from './resource-names.js';
import { parseFieldSelector, selectByFields } from './field-selector.js';
import { ALL_NAMESPACES_OPTION, FIELD_SELECTOR_OPTION, NAMESPACE_OPTION, namespaceOf, noResourcesLine, refuseNamedAcrossNamespaces, SELECTOR_OPTION } from './scope-options.js';
import { withSecretSizes } from './secret-values.js';
import { objectTable } from './tables.js';
import { customColumnsRow } from './custom-columns.js';
import { GET_OUTPUT_OPTION, resolveOutput, type GetOutput } from './get-output.js';
import { executeTemplate } from './jsonpath.js';

export type { GetOutput } from './get-output.js';

export interface GetRequest {
  resources: ResourceRequest[];
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string | undefined;
  /** Applied here to what the server lists (field-selector.ts). */
  fieldSelector?: string | undefined;
  output?: GetOutput | undefined;
  /** Secrets in json/yaml: their data as stored (base64) instead of each key's size. */
  showValues?: boolean | undefined;
}

interface Found {
  kind: KindInfo;
  objects: AnyObject[];
}

function namespaceFor(kind: KindInfo, request: GetRequest): string | undefined {
  return kind.namespaced && !request.allNamespaces ? request.namespace : undefined;
}

/** Prints what `request` asks for; names not found are reported together after the rest. */
export async function runGet(client: KubeClient, io: CliIO, request: GetRequest, now: Date): Promise<void> {
  const named = request.resources.some((r) => r.names.length > 0);
  refuseNamedAcrossNamespaces(named, request.allNamespaces);
  const fields = parseFieldSelector(request.fieldSelector ?? '');
  const found: Found[] = [];
  const problems: string[] = [];
  for (const { kind, names } of request.resources) {
    const namespace = namespaceFor(kind, request);
    if (names.length === 0) {
      const scope = { ...(namespace !== undefined ? { namespace } : {}), ...(request.labelSelector ? { labelSelector: request.labelSelector } : {}) };
      found.push({ kind, objects: selectByFields(kind.kind, await client.list(kind, scope), fields) });
      continue;
    }
    const objects: AnyObject[] = [];
    for (const name of names) {
      try {
        objects.push(await client.get(kind, namespace, name));
      } catch (err) {
        if (!(err instanceof GroveError) || err.code !== ErrorCode.NotFound) throw err;
        problems.push(errorMessage(err));
      }
    }
    found.push({ kind, objects });
  }
  await print(io, request, found, now);
  if (problems.length) throw new GroveError(ErrorCode.NotFound, problems.join('\n'), { details: { problems } });
}

function print(io: CliIO, request: GetRequest, found: Found[], now: Date): void | Promise<void> {
  const all = found.flatMap((f) => f.objects);
  const output = request.output;
  // One object asked for by name prints as itself; anything else as a List (kubectl's rule).
  const one = request.resources.length === 1 && request.resources[0]!.names.length === 1;
  const shown = () => (request.showValues === true ? all : all.map(withSecretSizes));
  if (output === 'json' || output === 'yaml') {
    if (all.length === 0 && one) return;
    return printObjects(io, output, shown() as unknown as Record<string, unknown>[], one);
  }
  if (typeof output === 'object' && 'jsonpath' in output) {
    if (all.length === 0 && one) return;
    const data = one && all.length === 1 ? shown()[0] : listOf(shown());
    io.stdout.write(executeTemplate(output.jsonpath, data, output.source));
    return;
  }
  const nonEmpty = found.filter((f) => f.objects.length > 0);
  if (nonEmpty.length === 0) {
    if (!request.resources.some((r) => r.names.length > 0)) writeLine(io.stderr, noResourcesLine(request.resources, request.namespace, request.allNamespaces));
    return;
  }
  if (output === 'name') {
    for (const f of found) for (const o of f.objects) writeLine(io.stdout, resourceName(f.kind, o.metadata.name));
    return;
  }
  if (typeof output === 'object' && 'columns' in output) {
    writeLine(io.stdout, table(output.columns.map((c) => c.header), shown().map((o) => customColumnsRow(output.columns, o))));
    return;
  }
  const withKind = request.resources.length > 1;
  const tables = nonEmpty.map((f) => {
    const t = objectTable(f.kind, f.objects, { wide: output === 'wide', allNamespaces: request.allNamespaces, withKind, now });
    return table(t.headers, t.rows);
  });
  // Several kinds: one table each, a blank line between them.
  writeLine(io.stdout, tables.join('\n\n'));
}

/** What kubectl hands a template for several objects: a v1 List of them, as the server sent them. */
export function listOf(objects: readonly AnyObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects };
}

const SHOW_VALUES_OPTION = onOff({ description: 'secrets with -o json|yaml: print their data (base64, as stored) instead of each key\'s size in bytes' });

export function registerKubeGet(program: Command, act: Act): void {
  act(
    program
      .command('get')
      .description('list objects of one or more kinds, or show some by name (kubectl get)')
      .argument('<resources...>', 'TYPE[,TYPE…] [NAME…] or TYPE/NAME…; TYPE: pods (po), deployments (deploy), replicasets (rs), daemonsets (ds), jobs, cronjobs (cj), nodes (no), namespaces (ns), configmaps (cm), secrets, controllerrevisions, all'),
    { namespace: NAMESPACE_OPTION, allNamespaces: ALL_NAMESPACES_OPTION, selector: SELECTOR_OPTION, fieldSelector: FIELD_SELECTOR_OPTION, output: GET_OUTPUT_OPTION, showValues: SHOW_VALUES_OPTION },
    async (ctx, [args], options) => {
      const request: GetRequest = {
        resources: parseResourceArgs(argList(args, 'resources'), 'get'),
        namespace: namespaceOf(options.namespace),
        allNamespaces: options.allNamespaces,
        labelSelector: options.selector,
        fieldSelector: options.fieldSelector,
        output: await resolveOutput(options.output),
        showValues: options.showValues,
      };
      await runGet(new KubeClient(await openClient(ctx)), ctx.io, request, new Date());
    },
  );
}
