/**
 * `grove top nodes|pods`: what `kubectl top` prints, read from the same metrics.k8s.io/v1beta1
 * paths (the usage the agents report with their statuses). Nodes show CPU and memory against
 * their allocatable; pods per pod, or per container with --containers.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { onOff } from '../../config/option.js';
import { table } from '../../format.js';
import { writeLine } from '../../io.js';
import { argText, type Act } from '../../verb.js';
import { ALL_NAMESPACES_OPTION, NAMESPACE_OPTION, namespaceOf, SELECTOR_OPTION } from './k8s/scope-options.js';

interface Usage {
  cpu: string;
  memory: string;
}
interface NodeMetricsItem {
  metadata: { name: string };
  usage: Usage;
}
interface PodMetricsItem {
  metadata: { name: string; namespace: string };
  containers: { name: string; usage: Usage }[];
}
interface NodeItem {
  metadata: { name: string };
  status?: { allocatable?: Record<string, string> };
}

const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes quantity's value ("250m" → 0.25, "64Mi" → 67108864); NaN when it is not one. */
export function quantityValue(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  return m ? Number(m[1]) * SUFFIX[m[2] ?? '']! : NaN;
}

/** kubectl's cells: CPU in millicores (rounded up, as Quantity.MilliValue), memory in whole MiB. */
export function cpuCell(cores: number): string {
  return `${Math.ceil(Math.round(cores * 1e9) / 1e6)}m`;
}
export function memoryCell(bytes: number): string {
  return `${Math.floor(bytes / 1024 ** 2)}Mi`;
}
/** Usage as a whole percentage of what is available, or <unknown>. */
export function percentCell(used: string, available: string | undefined): string {
  const total = available === undefined ? NaN : quantityValue(available);
  return Number.isFinite(total) && total > 0 ? `${Math.floor((quantityValue(used) / total) * 100)}%` : '<unknown>';
}

export function nodeRows(metrics: NodeMetricsItem[], nodes: NodeItem[]): string[][] {
  const allocatable = new Map(nodes.map((n) => [n.metadata.name, n.status?.allocatable ?? {}]));
  return metrics.map((m) => {
    const a = allocatable.get(m.metadata.name) ?? {};
    return [m.metadata.name, cpuCell(quantityValue(m.usage.cpu)), percentCell(m.usage.cpu, a.cpu), memoryCell(quantityValue(m.usage.memory)), percentCell(m.usage.memory, a.memory)];
  });
}

export function podRows(metrics: PodMetricsItem[], options: { allNamespaces: boolean; containers: boolean }): { headers: string[]; rows: string[][] } {
  const ns = (m: PodMetricsItem) => (options.allNamespaces ? [m.metadata.namespace] : []);
  const headers = [...(options.allNamespaces ? ['NAMESPACE'] : []), ...(options.containers ? ['POD'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
  if (options.containers) {
    return { headers, rows: metrics.flatMap((m) => m.containers.map((c) => [...ns(m), m.metadata.name, c.name, cpuCell(quantityValue(c.usage.cpu)), memoryCell(quantityValue(c.usage.memory))])) };
  }
  const sum = (m: PodMetricsItem, key: keyof Usage) => m.containers.reduce((n, c) => n + quantityValue(c.usage[key]), 0);
  return { headers, rows: metrics.map((m) => [...ns(m), m.metadata.name, cpuCell(sum(m, 'cpu')), memoryCell(sum(m, 'memory'))]) };
}

const ROOT = '/apis/metrics.k8s.io/v1beta1';

export function registerTop(program: Command, act: Act): void {
  const top = program.command('top').description('CPU and memory use of nodes or pods (metrics.k8s.io, from what the agents report)');
  act(
    top.command('nodes').alias('node').description("nodes' CPU and memory use, against their allocatable").argument('[name]', 'one node'),
    { selector: SELECTOR_OPTION },
    async (ctx, [nameValue], options) => {
      const name = nameValue === undefined ? undefined : argText(nameValue, 'name');
      const api = await openClient(ctx);
      const query = options.selector ? `?labelSelector=${encodeURIComponent(options.selector)}` : '';
      const metrics = name !== undefined ? [await api.get<NodeMetricsItem>(`${ROOT}/nodes/${encodeURIComponent(name)}`)] : (await api.get<{ items: NodeMetricsItem[] }>(`${ROOT}/nodes${query}`)).items;
      if (metrics.length === 0) throw new GroveError(ErrorCode.NotFound, 'metrics not available yet (nodes report usage with their second status)');
      const nodes = (await api.get<{ items: NodeItem[] }>(`/api/v1/nodes${query}`)).items;
      writeLine(ctx.io.stdout, table(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'], nodeRows(metrics, nodes)));
    },
  );
  act(
    top.command('pods').alias('pod').description("pods' CPU and memory use").argument('[name]', 'one pod'),
    { namespace: NAMESPACE_OPTION, allNamespaces: ALL_NAMESPACES_OPTION, selector: SELECTOR_OPTION, containers: onOff({ description: 'one line per container' }) },
    async (ctx, [nameValue], options) => {
      const name = nameValue === undefined ? undefined : argText(nameValue, 'name');
      const namespace = namespaceOf(options.namespace);
      const api = await openClient(ctx);
      const query = options.selector ? `?labelSelector=${encodeURIComponent(options.selector)}` : '';
      const scope = options.allNamespaces ? ROOT : `${ROOT}/namespaces/${encodeURIComponent(namespace)}`;
      const metrics = name !== undefined ? [await api.get<PodMetricsItem>(`${scope}/pods/${encodeURIComponent(name)}`)] : (await api.get<{ items: PodMetricsItem[] }>(`${scope}/pods${query}`)).items;
      if (metrics.length === 0) {
        writeLine(ctx.io.stderr, options.allNamespaces ? 'No resources found' : `No resources found in ${namespace} namespace.`);
        return;
      }
      const t = podRows(metrics, { allNamespaces: options.allNamespaces, containers: options.containers });
      writeLine(ctx.io.stdout, table(t.headers, t.rows));
    },
  );
}
