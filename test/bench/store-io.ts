/**
 * What the store's durability costs in writes (docs/reliability.md, "Storage durability"):
 * synced commits of a 1 KB value on a loop-mounted ext4, once with the revision file never
 * written and once written every second, counting the write I/Os and bytes that reach the
 * device (/sys/block/loopN/stat). Root only. Run: node dist/test/bench/store-io.js [commits] [gapMs]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LevelStore } from '../../src/store/level-store.js';
import { createLoopFs } from '../support/loop-fs.js';

interface Writes {
  ios: number;
  kib: number;
}

async function deviceWrites(device: string): Promise<Writes> {
  const f = (await readFile(`/sys/block/${device.replace('/dev/', '')}/stat`, 'utf8')).trim().split(/\s+/).map(Number);
  return { ios: f[4]!, kib: f[6]! / 2 };
}

/** Settles what the filesystem still holds (its journal commits every 5 s). */
async function settle(): Promise<void> {
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, 6000));
  execFileSync('sync');
}

async function measure(commits: number, gapMs: number, markIntervalMs: number): Promise<Writes> {
  const fs = await createLoopFs(64);
  try {
    const store = new LevelStore({ path: join(fs.mountpoint, 'db'), markIntervalMs });
    await store.open();
    await store.commit([{ type: 'put', key: 'warm', value: 1 }]);
    await settle();
    const before = await deviceWrites(fs.device);
    for (let i = 0; i < commits; i++) {
      const name = `c${i % 10}`;
      await store.commit([{ type: 'put', key: `configmaps/${name}`, value: { kind: 'ConfigMap', meta: { name }, data: { v: String(i), pad: 'x'.repeat(800) } } }]);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await store.close();
    await settle();
    const after = await deviceWrites(fs.device);
    return { ios: after.ios - before.ios, kib: after.kib - before.kib };
  } finally {
    await fs.destroy();
  }
}

const commits = Number(process.argv[2] ?? 300);
const gapMs = Number(process.argv[3] ?? 100);
const without = await measure(commits, gapMs, 1e9);
const withMark = await measure(commits, gapMs, 1000);
const marks = Math.ceil((commits * gapMs) / 1000);
const round = (n: number): number => Math.round(n * 10) / 10;
console.log(
  JSON.stringify({
    commits,
    perCommit: { ios: round(without.ios / commits), kib: round(without.kib / commits) },
    revisionFileWrites: marks,
    perRevisionFileWrite: { ios: round((withMark.ios - without.ios) / marks), kib: round((withMark.kib - without.kib) / marks) },
  }),
);
