/**
 * What loading a precompiled validator module costs a bare node process: RSS and heap before and
 * after `import()` in the same process (the ESM loader warmed up first with an empty module),
 * median of 5 fresh processes per module. Run after `npm run build`:
 *
 *   node dist/test/bench/validator-rss.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GENERATED = join(dirname(fileURLToPath(import.meta.url)), '../../src/core/objects/generated');
const MODULES = ['wire-node-target', 'wire-rpc-request', 'wire-config', 'wire-node-status', 'wire-presence', 'wire-rpc-response', 'objects'];
const RUNS = 5;

const PROBE = `
const [empty, target] = process.argv.slice(1);
await import(empty);
globalThis.gc(); globalThis.gc();
const before = process.memoryUsage();
await import(target);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(dir: string, file: string): { rss: number; heap: number } {
  const samples = Array.from({ length: RUNS }, () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, pathToFileURL(join(dir, 'empty.mjs')).href, pathToFileURL(file).href], { encoding: 'utf8' });
    return JSON.parse(out) as { rss: number; heap: number };
  });
  return { rss: median(samples.map((s) => s.rss)), heap: median(samples.map((s) => s.heap)) };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'grove-validator-rss-'));
  try {
    writeFileSync(join(dir, 'empty.mjs'), 'export const empty = true;\n');
    const mib = (n: number) => (n / 2 ** 20).toFixed(2);
    for (const name of MODULES) {
      const { rss, heap } = measure(dir, join(GENERATED, `${name}.js`));
      process.stdout.write(`${name.padEnd(18)} rss +${mib(rss)} MiB  heap +${mib(heap)} MiB\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
