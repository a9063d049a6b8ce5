/**
 * Service proxier programming cost (issue 15): 1,000 Services × 3 endpoints built into rule text
 * and programmed in ONE iptables-restore transaction, inside a throwaway network namespace
 * (test/support/service-lab.ts) so the host's tables are never touched. Baselines from the same
 * run: an empty transaction (the cost of starting iptables-restore at all) and serializing the
 * same view to JSON (for the pure build).
 */
import { runBatch } from '../../agent/src/runtime/net/batch-command.js';
import { buildProxyRules } from '../../agent/src/runtime/net/proxier-rules.js';
import { chainDigests, emptyHostRules, hostAfterApply, renderApply } from '../../agent/src/runtime/net/proxier-transaction.js';
import type { ClusterNetworkView, ServiceView } from '../../src/core/network/view.js';
import { createServiceLab } from '../support/service-lab.js';
import { percentile, type Figure } from './report.js';

const TAG = 'b3n4c5';
const SELF = { nodeName: 'n1', addresses: ['192.168.77.1'], tag: TAG };

/** `services` ClusterIP Services (every fourth a NodePort) with 3 ready endpoints each; `shift` moves one endpoint. */
export function benchView(services: number, shift = 0): ClusterNetworkView {
  const list: ServiceView[] = Array.from({ length: services }, (_, i) => ({
    namespace: `ns${i % 10}`,
    name: `svc-${i}`,
    type: i % 4 === 0 ? 'NodePort' : 'ClusterIP',
    clusterIP: `10.43.${i >> 8}.${i & 255}`,
    ports: [{ name: 'http', protocol: 'TCP', port: 80, ...(i % 4 === 0 ? { nodePort: 30000 + i } : {}) }],
    endpoints: [0, 1, 2].map((k) => {
      const n = i * 3 + k + (i === 0 && k === 0 ? shift : 0);
      return { ip: `10.42.${n >> 8}.${n & 255}`, ready: true, ports: { http: 8080 } };
    }),
  }));
  return {
    revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local',
    overlay: { backend: 'none', vni: 1, port: 8472 }, nodes: [{ name: 'n1', internalIP: '192.168.77.1' }], services: list,
  };
}

async function timed(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function proxierBench(options: { runs: number; services?: number }): Promise<Figure[]> {
  const services = options.services ?? 1000;
  const runs = Math.max(3, Math.min(options.runs, 7));
  const view = benchView(services);
  const moved = benchView(services, 7_000);
  const build: number[] = [];
  const json: number[] = [];
  for (let i = 0; i < runs * 3; i++) {
    build.push(await timed(() => renderApply(buildProxyRules(view, SELF), emptyHostRules(), TAG)));
    json.push(await timed(() => JSON.stringify(view)));
  }
  const set = buildProxyRules(view, SELF);
  const first = renderApply(set, emptyHostRules(), TAG);
  // Agent restart: the host holds the rules, the proxier does not know them and rewrites every chain.
  const full = renderApply(set, hostAfterApply(set, TAG), TAG);
  // Steady state: one endpoint moved, only the chains that changed.
  const update = renderApply(buildProxyRules(moved, SELF), hostAfterApply(set, TAG), TAG, chainDigests(set));
  const lab = await createServiceLab();
  const restore = (input: string) => runBatch('iptables-restore', input, { path: lab.tool('iptables-restore'), timeoutMs: 300_000 });
  const firstMs: number[] = [];
  const fullMs: number[] = [];
  const updateMs: number[] = [];
  const emptyMs: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      emptyMs.push(await timed(() => restore('*nat\nCOMMIT\n')));
      // From a namespace without our rules each time: the agent's first programming after a boot.
      await lab.sh(lab.node, 'iptables -t nat -F && iptables -t nat -X && iptables -F && iptables -X');
      firstMs.push(await timed(() => restore(first)));
      fullMs.push(await timed(() => restore(full)));
      updateMs.push(await timed(() => restore(update)));
    }
  } finally {
    await lab.destroy();
  }
  const label = `${services.toLocaleString('en')} Services × 3 endpoints`;
  const baseline = { name: 'empty transaction', value: Math.round(percentile(emptyMs, 50)) };
  const lines = first.split('\n').length;
  return [
    { bench: 'proxier', metric: `rule text build, ${label}`, value: +percentile(build, 50).toFixed(1), unit: 'ms', baseline: { name: 'JSON.stringify of the view', value: +percentile(json, 50).toFixed(1) } },
    { bench: 'proxier', metric: `first transaction, ${label}`, value: Math.round(percentile(firstMs, 50)), unit: 'ms', baseline, note: `one iptables-restore, ${lines} lines, ${Math.round(first.length / 1024)} KiB` },
    { bench: 'proxier', metric: `full rewrite over the same rules (agent restart), ${label}`, value: Math.round(percentile(fullMs, 50)), unit: 'ms', baseline, note: `${Math.round(full.length / 1024)} KiB` },
    { bench: 'proxier', metric: `update transaction (one endpoint moved), ${label}`, value: Math.round(percentile(updateMs, 50)), unit: 'ms', baseline, note: `only the changed chains: ${update.split('\n').length} lines` },
  ];
}
