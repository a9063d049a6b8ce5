import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One measured figure, always beside a baseline measured in the same run. */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  target?: string;
  note?: string;
}

export function ratio(f: Figure): number | undefined {
  return f.baseline && f.baseline.value > 0 ? f.value / f.baseline.value : undefined;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
}

export function markdownTable(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const r = ratio(f);
    return `| ${f.bench} | ${f.metric} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}` : '—'} | ${r === undefined ? '—' : `${r.toFixed(2)}×`} | ${f.target ?? ''} | ${f.note ?? ''} |`;
  });
  return ['| bench | metric | value | baseline (same run) | ratio | target | note |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

export interface BenchRun {
  startedAt: string;
  host: { arch: string; cpus: number; kernel: string; node: string };
  figures: Figure[];
}

/**
 * A run of a subset (`--only`) replaces only its own benches' figures: the other benches'
 * figures are carried over from the previous results file, each marked with its own run date.
 */
export async function mergeWithPrevious(run: BenchRun, jsonPath: string): Promise<BenchRun> {
  const previous = await readFile(jsonPath, 'utf8').then((t) => JSON.parse(t) as BenchRun, () => undefined);
  if (!previous) return run;
  const fresh = new Set(run.figures.map((f) => f.bench));
  const kept = previous.figures
    .filter((f) => !fresh.has(f.bench))
    .map((f) => ({ ...f, note: f.note?.includes('run of ') ? f.note : [f.note, `run of ${previous.startedAt.slice(0, 10)}`].filter(Boolean).join('; ') }));
  return { ...run, figures: [...kept, ...run.figures] };
}

/** Writes results as JSON and markdown, and refreshes the table in docs/performance.md. */
export async function writeResults(run: BenchRun, jsonPath: string, docPath: string): Promise<string> {
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, JSON.stringify(run, null, 2) + '\n');
  const table = markdownTable(run.figures);
  await writeFile(jsonPath.replace(/\.json$/, '.md'), `# Bench results ${run.startedAt}\n\n${table}\n`);
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  let doc = await readFile(docPath, 'utf8').catch(() => '');
  const block = `${begin}\nLatest run: ${run.startedAt} on ${run.host.arch}, ${run.host.cpus} CPUs, Linux ${run.host.kernel}, Node ${run.host.node}.\n\n${table}\n${end}`;
  doc = doc.includes(begin) ? doc.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), block) : `${doc}\n${block}\n`;
  await writeFile(docPath, doc);
  return table;
}

/** The note's suffix for a figure over its budget (nothing when within it). */
export function missedNote(value: number, limit: number): string {
  return value > limit ? ` — MISSED: ${value} > ${limit}` : '';
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}
