/**
 * `grove get` on the Kubernetes paths, as kubectl: `get TYPE[,TYPE…] [NAME…]`, `get TYPE/NAME…`,
 * `get all`; -n NS, -A, -l SELECTOR, --field-selector; -o wide|json|yaml|name|jsonpath=|custom-columns=
 * (get-output.ts); `get events` (get-events.ts); -w (watch-get.ts). Tables per kind (tables.ts), one
 * object as itself and several as a v1 List for json/yaml (printObjects, shared with apply's
 * round trip), and every name that was not found reported after what was. Secret data shows as
 * sizes unless --show-values (secret-values.ts).
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError, errorMessage } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { KINDS, type KindInfo } from '../../../../core/objects/kinds.js';
import { openClient } from '../../../client/open-client.js';
import { table } from '../../../format.js';
import { writeLine, type CliIO } from '../../../io.js';
import { onOff, option } from '../../../config/option.js';
import { text } from '../../../config/units.js';
import { argList, type Act } from '../../../verb.js';
import { KubeClient, listScope } from './kube-client.js';
import { parseResourceArgs, type ResourceRequest } from './resource-args.js';
import { resourceName } from './resource-names.js';
import { ALL_NAMESPACES_OPTION, FIELD_SELECTOR_OPTION, NAMESPACE_OPTION, namespaceOf, noResourcesLine, refuseNamedAcrossNamespaces, SELECTOR_OPTION } from './scope-options.js';
import { withSecretSizes } from './secret-values.js';
import { objectTable } from './tables.js';
import { GET_OUTPUT_OPTION, resolveOutput, type GetOutput } from './get-output.js';
import { isDataOutput, printData, printLines } from './print-objects.js';
import { parseFor } from './events.js';
import { asksForEvents, runGetEvents } from './get-events.js';
import { WATCH_OPTIONS, watchRequest } from './watch-request.js';

export type { GetOutput } from './get-output.js';

export interface GetRequest {
  resources: ResourceRequest[];
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string | undefined;
  /** Sent with every list: the server selects (and refuses a field it cannot select by). */
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
  const found: Found[] = [];
  const problems: string[] = [];
  for (const { kind, names } of request.resources) {
    const namespace = namespaceFor(kind, request);
    if (names.length === 0) {
      found.push({ kind, objects: await client.list(kind, listScope(namespace, request)) });
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

async function print(io: CliIO, request: GetRequest, found: Found[], now: Date): Promise<void> {
  const all = found.flatMap((f) => f.objects);
  const output = request.output;
  // One object asked for by name prints as itself; anything else as a List (kubectl's rule).
  const one = request.resources.length === 1 && request.resources[0]!.names.length === 1;
  const shown = request.showValues === true ? all : all.map(withSecretSizes);
  if (isDataOutput(output)) {
    if (all.length === 0 && one) return;
    return printData(io, output!, shown, one);
  }
  const nonEmpty = found.filter((f) => f.objects.length > 0);
  if (nonEmpty.length === 0) {
    if (!request.resources.some((r) => r.names.length > 0)) writeLine(io.stderr, noResourcesLine(request.resources, request.namespace, request.allNamespaces));
    return;
  }
  if (printLines(io, output, shown, (o) => resourceName(KINDS[o.kind] as KindInfo, o.metadata.name))) return;
  const withKind = request.resources.length > 1;
  const tables = nonEmpty.map((f) => {
    const t = objectTable(f.kind, f.objects, { wide: output === 'wide', allNamespaces: request.allNamespaces, withKind, now });
    return table(t.headers, t.rows);
  });
  // Several kinds: one table each, a blank line between them.
  writeLine(io.stdout, tables.join('\n\n'));
}

const FOR_OPTION = option({ unit: text('KIND/NAME', 512), description: 'with events: only those of this object (pod/web-1, deployment/web)' });

const SHOW_VALUES_OPTION = onOff({ description: 'secrets with -o json|yaml: print their data (base64, as stored) instead of each key\'s size in bytes' });

export function registerKubeGet(program: Command, act: Act): void {
  act(
    program
      .command('get')
      .description('list objects of one or more kinds, or show some by name (kubectl get)')
      .argument('<resources...>', 'TYPE[,TYPE…] [NAME…] or TYPE/NAME…; TYPE: pods (po), deployments (deploy), replicasets (rs), daemonsets (ds), jobs, cronjobs (cj), nodes (no), namespaces (ns), configmaps (cm), secrets, controllerrevisions, events (ev), all'),
    { namespace: NAMESPACE_OPTION, allNamespaces: ALL_NAMESPACES_OPTION, selector: SELECTOR_OPTION, fieldSelector: FIELD_SELECTOR_OPTION, output: GET_OUTPUT_OPTION, showValues: SHOW_VALUES_OPTION, for: FOR_OPTION, ...WATCH_OPTIONS },
    async (ctx, [args], options) => {
      const words = argList(args, 'resources');
      if (options.watch || options.watchOnly) {
        const { runWatch } = await import('./watch-get.js');
        const { realPause } = await import('./node-drain.js');
        const request = await watchRequest(words, options);
        return runWatch(new KubeClient(await openClient(ctx)), ctx.io, request, realPause(), new AbortController().signal);
      }
      if (options.outputWatchEvents) throw new GroveError(ErrorCode.InvalidArgument, '--output-watch-events goes with -w/--watch or --watch-only');
      if (asksForEvents(words)) {
        const request = { namespace: namespaceOf(options.namespace), allNamespaces: options.allNamespaces, for: options.for === undefined ? undefined : parseFor(options.for), output: await resolveOutput(options.output) };
        return runGetEvents(new KubeClient(await openClient(ctx)), ctx.io, request, new Date());
      }
      if (options.for !== undefined) throw new GroveError(ErrorCode.InvalidArgument, '--for goes with events: grove get events --for KIND/NAME');
      const request: GetRequest = {
        resources: parseResourceArgs(words, 'get'),
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
