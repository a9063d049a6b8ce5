import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/grove-cli.js';
import { applyLatencyBench, clusterIdleBench } from './cluster-bench.js';
import { pullBench } from './pull-bench.js';
import { writeResults, type Figure } from './report.js';
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
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (it starts containers)');
  const only = argValue('--only')?.split(',') ?? Object.keys(BENCHES);
  const runs = Number(argValue('--runs') ?? 15);
  const unknown = only.filter((n) => !BENCHES[n]);
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  const startedAt = new Date().toISOString();
  const figures: Figure[] = [];
  for (const name of only) {
    process.stderr.write(`bench ${name}…\n`);
    figures.push(...(await BENCHES[name]!(runs)));
  }
  const table = await writeResults(
    { startedAt, host: { arch: process.arch, cpus: cpus().length, kernel: release(), node: process.version }, figures },
    join(REPO_ROOT, 'test', 'bench', 'results', 'latest.json'),
    join(REPO_ROOT, 'docs', 'performance.md'),
  );
  process.stdout.write(table + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
