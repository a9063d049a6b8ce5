/**
 * The eviction subresource, what `kubectl drain` posts for every pod of the node it drains:
 *
 *   POST /api/v1/namespaces/{ns}/pods/{name}/eviction     body: policy/v1 (or v1beta1) Eviction
 *
 * The pod is deleted (its containers get their terminationGracePeriodSeconds on the node, or
 * deleteOptions.gracePeriodSeconds when given: kubectl drain --grace-period) and
 * its controller makes a replacement where the scheduler puts it: the drained node is cordoned,
 * so elsewhere. Grove has no PodDisruptionBudget, so an eviction is always allowed (never 429).
 * Events: Evicted on the pod, and Killing for its running containers. `dryRun=All` checks and
 * changes nothing. Answers 201 with a Success Status, as the API server does.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { JsonResponse, type RequestContext, type Router } from '../http.js';
import { EventSource, involvedOf, type EventInput } from '../events/event-types.js';
import { podKillingEvents } from '../events/pod-events.js';
import type { Pod } from '../controllers/object-kit.js';
import type { ObjectStore } from '../objects/object-store.js';
import { validName } from '../request-fields.js';
import { DNS_SUBDOMAIN } from '../../core/objects/names.js';
import { notFoundMessage, statusErrorFormat } from './status.js';

/** pods/eviction as discovery announces it (DiscoveryResource, k8s-api/discovery.ts). */
export const EVICTION_RESOURCES = [
  {
    group: '',
    version: 'v1',
    kind: 'Eviction',
    plural: 'pods/eviction',
    singular: '',
    shortNames: [],
    namespaced: true,
    verbs: ['create'],
    responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' },
  },
] as const;

export interface EvictionDeps {
  objects: ObjectStore;
  record: (events: EventInput[]) => void;
}

interface EvictionRequest {
  dryRun: boolean;
  gracePeriodSeconds?: number;
}

function invalid(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

/** Checks the Eviction body against the path; what it asks (dryRun, a grace period). */
export function parseEviction(body: unknown, namespace: string, name: string, dryRunQuery: string[]): EvictionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a policy/v1 Eviction object');
  const b = body as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; deleteOptions?: unknown };
  if (b.kind !== undefined && b.kind !== 'Eviction') throw invalid(`kind must be Eviction, got ${JSON.stringify(b.kind)}`);
  if (b.apiVersion !== undefined && b.apiVersion !== 'policy/v1' && b.apiVersion !== 'policy/v1beta1') throw invalid(`apiVersion must be policy/v1, got ${JSON.stringify(b.apiVersion)}`);
  if (b.metadata?.name !== undefined && b.metadata.name !== name) throw invalid(`name in URL does not match name in Eviction object`);
  if (b.metadata?.namespace !== undefined && b.metadata.namespace !== '' && b.metadata.namespace !== namespace) throw invalid('namespace in URL does not match namespace in Eviction object');
  const out: EvictionRequest = { dryRun: false };
  const options = b.deleteOptions as { gracePeriodSeconds?: unknown; dryRun?: unknown } | undefined | null;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) throw invalid('deleteOptions must be an object');
    const grace = options.gracePeriodSeconds;
    if (grace !== undefined && grace !== null) {
      if (!Number.isSafeInteger(grace) || (grace as number) < 0) throw invalid('deleteOptions.gracePeriodSeconds must be a whole number of seconds, 0 or more');
      out.gracePeriodSeconds = grace as number;
    }
    if (options.dryRun !== undefined && options.dryRun !== null) {
      if (!Array.isArray(options.dryRun) || options.dryRun.some((d) => d !== 'All')) throw invalid('deleteOptions.dryRun: the only value is "All"');
      out.dryRun = options.dryRun.length > 0;
    }
  }
  for (const d of dryRunQuery) {
    if (d !== 'All') throw invalid(`dryRun: unsupported value ${JSON.stringify(d.slice(0, 20))} (supported: All)`);
    out.dryRun = true;
  }
  return out;
}

async function evict(deps: EvictionDeps, ctx: RequestContext): Promise<JsonResponse> {
  const namespace = validName(ctx.params.namespace, 'namespace');
  const name = ctx.params.name!;
  if (name.length > 253 || !new RegExp(DNS_SUBDOMAIN).test(name)) throw invalid(`${JSON.stringify(name.slice(0, 64))} is not a valid pod name`);
  const request = parseEviction(await ctx.body(), namespace, name, ctx.query.getAll('dryRun'));
  const ref = { kind: 'Pod' as const, namespace, name };
  const pod = (await deps.objects.get(ref)) as Pod | undefined;
  if (!pod) throw new GroveError(ErrorCode.NotFound, notFoundMessage('Pod', name), { details: { kind: 'Pod', name } });
  if (!request.dryRun) {
    const grace = request.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: request.gracePeriodSeconds } : {};
    const { results } = await deps.objects.commit([{ op: 'delete', ref, ...grace }]);
    if (results[0]?.outcome === 'absent') throw new GroveError(ErrorCode.NotFound, notFoundMessage('Pod', name), { details: { kind: 'Pod', name } });
    const where = pod.spec.nodeName !== undefined ? ` from node ${pod.spec.nodeName}` : '';
    deps.record([{ involved: involvedOf(pod), type: 'Normal', reason: 'Evicted', message: `Evicted${where} through the eviction API`, component: EventSource.eviction }, ...podKillingEvents(pod)]);
  }
  return new JsonResponse(201, { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 });
}

export function addEvictionRoutes(router: Router, deps: EvictionDeps): void {
  router.add('POST', '/api/v1/namespaces/:namespace/pods/:name/eviction', (ctx) => evict(deps, ctx), 'admin', statusErrorFormat);
}
