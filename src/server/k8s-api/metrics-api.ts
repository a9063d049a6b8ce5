/**
 * metrics.k8s.io/v1beta1 (`kubectl top nodes|pods`), answered from the usage the nodes send in
 * their statuses (kept in memory by the status cache; nothing is stored):
 *
 *   GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]                    ?labelSelector= (node labels)
 *   GET /apis/metrics.k8s.io/v1beta1/pods                              every namespace
 *   GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]     ?labelSelector= (pod labels)
 *
 * A node that is not Ready, or has not sent two samples yet, has no metrics (its pods neither),
 * as metrics-server leaves out what it could not scrape.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { Node } from '../../core/objects/cluster.js';
import type { Pod } from '../controllers/object-kit.js';
import type { RequestContext, Router } from '../http.js';
import { parseSelector } from '../objects/label-selector.js';
import type { ObjectStore } from '../objects/object-store.js';
import { validName } from '../request-fields.js';
import { METRICS_API_VERSION, nodeMetrics, podMetrics, podUsageOf, type NodeMetrics, type PodMetrics, type UsageReport } from './metrics-objects.js';
import { statusErrorFormat } from './status.js';

export interface MetricsDeps {
  objects: ObjectStore;
  /** The node's last usage, while it is Ready. */
  usage(node: string): UsageReport | undefined;
  now(): number;
}

function notFound(resource: 'nodes' | 'pods', name: string): GroveError {
  return new GroveError(ErrorCode.NotFound, `${resource}.metrics.k8s.io ${JSON.stringify(name)} not found`, { details: { name } });
}

/** The label selector; field selectors are not served here (docs/kubectl.md). */
function selectorOf(ctx: RequestContext) {
  const fields = ctx.query.get('fieldSelector');
  if (fields !== null && fields !== '') throw new GroveError(ErrorCode.InvalidArgument, 'fieldSelector is not supported by metrics.k8s.io on this server: use labelSelector');
  return parseSelector(ctx.query.get('labelSelector'));
}

const list = <T>(kind: string, items: T[]) => ({ apiVersion: METRICS_API_VERSION, kind, metadata: {}, items });

async function nodeItems(deps: MetricsDeps, ctx: RequestContext, name?: string): Promise<NodeMetrics[]> {
  const nodes = name !== undefined ? [await deps.objects.get({ kind: 'Node', name })].filter((n) => n !== undefined) : (await deps.objects.list('Node', { selector: selectorOf(ctx) })).items;
  const now = deps.now();
  return (nodes as Node[]).flatMap((n) => {
    const report = deps.usage(n.metadata.name);
    return report ? [nodeMetrics(n.metadata.name, n.metadata.labels, report, now)] : [];
  });
}

async function podItems(deps: MetricsDeps, ctx: RequestContext, namespace?: string, name?: string): Promise<PodMetrics[]> {
  let pods: Pod[];
  if (name !== undefined) pods = [(await deps.objects.get({ kind: 'Pod', namespace: namespace!, name })) as Pod | undefined].filter((p) => p !== undefined);
  else pods = (await deps.objects.list('Pod', { ...(namespace !== undefined ? { namespace } : {}), selector: selectorOf(ctx) })).items as Pod[];
  const now = deps.now();
  return pods.flatMap((p) => {
    const node = p.spec.nodeName;
    const report = node === undefined ? undefined : deps.usage(node);
    const { name: podName, namespace: ns, labels } = p.metadata as { name: string; namespace: string; labels?: Record<string, string> };
    const usage = report && podUsageOf(report.usage, ns, podName);
    return report && usage ? [podMetrics({ name: podName, namespace: ns, ...(labels ? { labels } : {}) }, usage, report, now)] : [];
  });
}

/** Adds the metrics.k8s.io routes (admin token; Status errors). Registered before the generic /apis routes, which would take these paths. */
export function addMetricsRoutes(router: Router, deps: MetricsDeps): void {
  const root = `/apis/${METRICS_API_VERSION}`;
  const get = (path: string, handler: (ctx: RequestContext) => Promise<unknown>): void => void router.add('GET', `${root}${path}`, handler, 'admin', statusErrorFormat);
  get('/nodes', async (ctx) => list('NodeMetricsList', await nodeItems(deps, ctx)));
  get('/nodes/:name', async (ctx) => (await nodeItems(deps, ctx, ctx.params.name!))[0] ?? Promise.reject(notFound('nodes', ctx.params.name!)));
  get('/pods', async (ctx) => list('PodMetricsList', await podItems(deps, ctx)));
  get('/namespaces/:namespace/pods', async (ctx) => list('PodMetricsList', await podItems(deps, ctx, validName(ctx.params.namespace, 'namespace'))));
  get('/namespaces/:namespace/pods/:name', async (ctx) => (await podItems(deps, ctx, validName(ctx.params.namespace, 'namespace'), ctx.params.name!))[0] ?? Promise.reject(notFound('pods', ctx.params.name!)));
}
