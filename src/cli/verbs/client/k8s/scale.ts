/**
 * `grove scale deploy/NAME --replicas N` (also `rs`, `TYPE NAME…`, `-l`), as kubectl does it,
 * through the scale subresource: a merge patch `{"spec":{"replicas":N}}`, or, with
 * `--current-replicas` (a precondition), GET the scale, check it, and PUT it back with the
 * resourceVersion it was read at, so a change in between fails with a conflict instead of being
 * overwritten. Prints `deployment.apps/web scaled`.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { openClient } from '../../../client/open-client.js';
import { option } from '../../../config/option.js';
import { count } from '../../../config/units.js';
import { writeLine, type CliIO } from '../../../io.js';
import { argList, type Act } from '../../../verb.js';
import { KubeClient } from './kube-client.js';
import { parseResourceArgs, type ResourceRequest } from './resource-args.js';
import { resourceName } from './resource-names.js';
import { NAMESPACE_OPTION, namespaceOf, SELECTOR_OPTION } from './scope-options.js';

/** The kinds with a scale subresource, as in Kubernetes. */
const SCALABLE = new Set(['Deployment', 'ReplicaSet', 'StatefulSet']);

/** A Kubernetes autoscaling/v1 Scale, as far as this verb reads it. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: { replicas?: number };
  status?: { replicas?: number };
}

export interface ScaleRequest {
  resources: ResourceRequest[];
  namespace: string;
  labelSelector?: string | undefined;
  replicas: number;
  /** --current-replicas: scale only if the current size is this. */
  currentReplicas?: number | undefined;
}

/** kubectl's precondition error: "Expected replicas to be 2, was 3". */
export function checkPrecondition(scale: Scale, expected: number | undefined): void {
  const actual = scale.spec.replicas ?? 0;
  if (expected !== undefined && actual !== expected) throw new GroveError(ErrorCode.Conflict, `Expected replicas to be ${expected}, was ${actual}`);
}

async function scaleOne(client: KubeClient, request: ScaleRequest, target: { kind: ResourceRequest['kind']; name: string }): Promise<void> {
  if (request.currentReplicas === undefined) {
    await client.mergePatch(target.kind, request.namespace, target.name, { spec: { replicas: request.replicas } }, 'scale');
    return;
  }
  const scale = await client.getSub<Scale>(target.kind, request.namespace, target.name, 'scale');
  checkPrecondition(scale, request.currentReplicas);
  await client.putSub(target.kind, request.namespace, target.name, 'scale', { ...scale, spec: { ...scale.spec, replicas: request.replicas } });
}

export async function runScale(client: KubeClient, io: CliIO, request: ScaleRequest): Promise<void> {
  const targets: { kind: ResourceRequest['kind']; name: string }[] = [];
  for (const { kind, names } of request.resources) {
    if (!SCALABLE.has(kind.kind)) throw new GroveError(ErrorCode.InvalidArgument, `scale works on deployments, replicasets and statefulsets, not ${kind.plural}`);
    if (names.length > 0 && request.labelSelector) throw new GroveError(ErrorCode.InvalidArgument, 'name objects or select them with -l, not both');
    if (names.length === 0) {
      if (!request.labelSelector) throw new GroveError(ErrorCode.InvalidArgument, `resource(s) were provided, but no name was specified: name the ${kind.plural} to scale, or use -l SELECTOR`);
      for (const o of await client.list(kind, { namespace: request.namespace, labelSelector: request.labelSelector })) targets.push({ kind, name: o.metadata.name });
    }
    for (const name of names) targets.push({ kind, name });
  }
  if (targets.length === 0) throw new GroveError(ErrorCode.NotFound, 'no objects passed to scale');
  for (const target of targets) {
    await scaleOne(client, request, target);
    writeLine(io.stdout, `${resourceName(target.kind, target.name)} scaled`);
  }
}

const REPLICAS = count(0, 1_000_000, 'n');

export function registerScale(program: Command, act: Act): void {
  act(
    program
      .command('scale')
      .description('set the number of replicas of deployments or replicasets (kubectl scale)')
      .argument('<resources...>', 'TYPE NAME…, TYPE/NAME…, or TYPE with -l; TYPE: deployments (deploy), replicasets (rs)'),
    {
      replicas: option({ unit: REPLICAS, description: 'the new number of replicas (required)' }),
      currentReplicas: option({ unit: REPLICAS, description: 'precondition: scale only if the current number of replicas is this' }),
      namespace: NAMESPACE_OPTION,
      selector: SELECTOR_OPTION,
    },
    async (ctx, [args], options) => {
      if (options.replicas === undefined) throw new GroveError(ErrorCode.InvalidArgument, 'required flag(s) "replicas" not set');
      const request: ScaleRequest = {
        resources: parseResourceArgs(argList(args, 'resources'), 'scale'),
        namespace: namespaceOf(options.namespace),
        labelSelector: options.selector,
        replicas: options.replicas,
        currentReplicas: options.currentReplicas,
      };
      await runScale(new KubeClient(await openClient(ctx)), ctx.io, request);
    },
  );
}
