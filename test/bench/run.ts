import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/grove-cli.js';
import { apiScaleBench, type ServerVariant } from './api-scale-bench.js';
import { applyLatencyBench, clusterIdleBench } from './cluster-bench.js';
import { fanoutBench } from './fanout-bench.js';
import { proxierBench } from './proxier-bench.js';
import { pullBench } from './pull-bench.js';
import { netConnectBench } from './net-connect-bench.js';
import { netRssBench } from './net-rss-bench.js';
import { mergeWithPrevious, writeResults, type Figure } from './report.js';
import { runtimeBench } from './runtime-bench.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positiveArg(name: string, fallback: number): number {
  const raw = argValue(name);
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive whole number, not ${raw}`);
  return value;
}

/**
 * `npm run bench [-- --only runtime,pull] [--runs N] [--idle-seconds S] [--applies N]`: every
 * figure is written beside a baseline measured in the same run, to
 * test/bench/results/latest.{json,md} and docs/performance.md.
 */
const BENCHES: Record<string, (runs: number) => Promise<Figure[]>> = {
  runtime: (runs) => runtimeBench({ runs, shims: 5 }),
  pull: (runs) => pullBench({ runs: Math.max(3, Math.round(runs / 3)) }),
  // Fixed sample counts rather than --runs: the window and the p99 need their own sizes.
  'cluster-idle': () => clusterIdleBench({ idleSeconds: positiveArg('--idle-seconds', 60) }),
  'apply-latency': () => applyLatencyBench({ applies: positiveArg('--applies', 50) }),
  // Hollow-node fleets (agent/src/hollow); sizes from --fanout-nodes / GROVE_FANOUT_NODES.
  fanout: () => fanoutBench({ broker: 'embedded', nodes: fleetSize('--fanout-nodes', 'GROVE_FANOUT_NODES', 1000), targetMs: 5000, targetRssMiB: 200 }),
  'fanout-mosquitto': () =>
    fanoutBench({
      broker: 'mosquitto',
      nodes: fleetSize('--fanout-mosquitto-nodes', 'GROVE_FANOUT_MOSQUITTO_NODES', 10_000),
      targetMs: 15_000,
      targetRssMiB: 400,
      timeoutMs: 300_000,
      joinConcurrency: Number(argValue('--fanout-join-concurrency') ?? 0),
      ...(argValue('--fanout-max-joins-in-flight') ? { maxJoinsInFlight: positiveArg('--fanout-max-joins-in-flight', 1000) } : {}),
    }),
  // Kubernetes API at fleet scale: RSS with the pods listed and watched, kubectl vs grove get.
  'api-scale': () =>
    apiScaleBench({
      nodes: fleetSize('--api-scale-nodes', 'GROVE_API_SCALE_NODES', 1000),
      podsPerNode: positiveArg('--api-scale-pods-per-node', 10),
      watches: positiveArg('--api-scale-watches', 5),
      rounds: positiveArg('--api-scale-rounds', 5),
      targetRssMiB: 250,
      // Per phase (join, rollout, each wait): a loaded shared VM may need more than the default.
      timeoutMs: positiveArg('--api-scale-timeout-seconds', 240) * 1000,
      // Diagnostics: {"name": {"dist": "…/dist", "env": {…}}, …} compared interleaved (api-scale-bench.ts).
      ...(process.env.GROVE_API_SCALE_VARIANTS ? { variants: JSON.parse(process.env.GROVE_API_SCALE_VARIANTS) as Record<string, ServerVariant> } : {}),
      variantRounds: positiveArg('--api-scale-variant-rounds', 2),
    }),
  // 1,000 Services × 3 endpoints in one iptables-restore transaction (issue 15), in a network namespace.
  proxier: (runs) => proxierBench({ runs }),
  // Connection setup through a ClusterIP vs straight to the pod IP (issue 15), proxier rules in network namespaces.
  'net-connect': () => netConnectBench({ connects: positiveArg('--net-connects', 2000) }),
  // Agent idle RSS with cluster DNS and 100 Services programmed vs the same agent without (issue 15: +3 MiB at most).
  'net-rss': () => netRssBench({ services: positiveArg('--net-rss-services', 100), rounds: positiveArg('--net-rss-rounds', 2) }),
  'fanout-nats': () => fanoutBench({ broker: 'nats', nodes: fleetSize('--fanout-nats-nodes', 'GROVE_FANOUT_NATS_NODES', 300) }),
};

/**
 * Benches left out of a plain `npm run bench`, which must stay under 15 minutes: fanout-nats
 * (2–3 min, its figures are about failover, and CI covers its correctness) runs with --only.
 */
const NOT_DEFAULT = new Set<string>(['fanout-nats']);

function fleetSize(flag: string, env: string, fallback: number): number {
  return positiveArg(flag, Number(process.env[env] ?? fallback));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (it starts containers)');
  const only = argValue('--only')?.split(',') ?? Object.keys(BENCHES).filter((n) => !NOT_DEFAULT.has(n));
  const runs = Number(argValue('--runs') ?? 15);
  const unknown = only.filter((n) => !BENCHES[n]);
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  const startedAt = new Date().toISOString();
  const figures: Figure[] = [];
  for (const name of only) {
    process.stderr.write(`bench ${name}…\n`);
    figures.push(...(await BENCHES[name]!(runs)));
  }
  const jsonPath = join(REPO_ROOT, 'test', 'bench', 'results', 'latest.json');
  const run = { startedAt, host: { arch: process.arch, cpus: cpus().length, kernel: release(), node: process.version }, figures };
  const table = await writeResults(
    argValue('--only') ? await mergeWithPrevious(run, jsonPath) : run,
    jsonPath,
    join(REPO_ROOT, 'docs', 'performance.md'),
  );
  process.stdout.write(table + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
