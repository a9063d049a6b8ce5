import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, writeOciLayoutArchive } from '../support/image-builder.js';
import { percentile, rssKiB, type Figure } from './report.js';
import { bundleConfig, bundleSource, runcRunDetached } from './runc-bundle.js';

const exec = promisify(execFile);
const IMAGE = 'bench/busybox:1';

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function ctr(dataDir: string, args: string[]): Promise<string> {
  const r = await runGrove(['--data-dir', dataDir, 'ctr', ...args]);
  if (r.code !== 0) throw new Error(`grove ctr ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A baseline process: a static busybox sleep, the least a supervising process could cost. */
async function busyboxSleepRss(): Promise<number> {
  const child = spawn('/usr/bin/busybox', ['sleep', '60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    return await rssKiB(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

/** Shim RSS per running container, and `grove ctr run -d` → running against bare `runc run -d`. */
export async function runtimeBench(options: { runs: number; shims: number }): Promise<Figure[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'grove-bench-rt-'));
  const runcRoot = join(dataDir, 'bench-runc');
  const runcIds: string[] = [];
  try {
    const archive = join(dataDir, 'image.tar');
    await writeOciLayoutArchive(archive, await buildBusyboxImage(), IMAGE);
    await ctr(dataDir, ['import', archive]);

    // Shim memory with several containers running side by side.
    const shimRss: number[] = [];
    for (let i = 0; i < options.shims; i++) {
      await ctr(dataDir, ['run', '-d', '--name', `rss${i}`, IMAGE, 'sleep', '600']);
      const info = JSON.parse(await ctr(dataDir, ['inspect', `rss${i}`])) as { shimPid: number };
      shimRss.push(await rssKiB(info.shimPid));
    }
    const meanShim = shimRss.reduce((a, b) => a + b, 0) / shimRss.length;

    // Start latency, image cached, compared with runc on an identical bundle.
    const grove: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      grove.push(await timed(() => ctr(dataDir, ['run', '-d', '--name', `lat${i}`, IMAGE, 'sleep', '600'])));
    }
    const template = JSON.parse(await ctr(dataDir, ['inspect', 'lat0'])) as { id: string };
    const config = bundleSource(await readFile(join(dataDir, 'containers', template.id, 'config.json'), 'utf8'));
    const bundle = join(dataDir, 'bench-bundle');
    await mkdir(bundle, { recursive: true });
    await cp(config.root.path, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const runc: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const id = `grove-bench-runc-${process.pid}-${i}`;
      runcIds.push(id);
      await writeFile(join(bundle, 'config.json'), bundleConfig(config, `/grove-bench/${id}`));
      runc.push(await timed(() => runcRunDetached(runcRoot, bundle, id)));
    }
    const nodeStart: number[] = [];
    const bareNode: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      nodeStart.push(await timed(() => runGrove(['--version'])));
      bareNode.push(await timed(() => exec(process.execPath, ['-e', '0'])));
    }

    return [
      {
        bench: 'runtime',
        metric: `grove-shim RSS per running container (mean of ${options.shims})`,
        value: Math.round(meanShim),
        unit: 'KiB',
        baseline: { name: 'static busybox sleep', value: await busyboxSleepRss() },
        target: '<= 256 KiB',
        note: `max ${Math.max(...shimRss)} KiB; anchors: conmon ~2 MB, containerd-shim-runc-v2 ~10 MB`,
      },
      {
        bench: 'runtime',
        metric: `ctr run -d → running, p50 (${options.runs} runs)`,
        value: Math.round(percentile(grove, 50)),
        unit: 'ms',
        baseline: { name: 'runc run -d', value: Math.round(percentile(runc, 50)) },
        note: `p90 ${Math.round(percentile(grove, 90))} vs ${Math.round(percentile(runc, 90))} ms; includes the CLI's process start: grove --version p50 ${Math.round(percentile(nodeStart, 50))} ms, bare node -e 0 p50 ${Math.round(percentile(bareNode, 50))} ms`,
      },
    ];
  } finally {
    for (const id of runcIds) await exec('runc', ['--root', runcRoot, 'delete', '-f', id]).catch(() => undefined);
    const ids = (await runGrove(['--data-dir', dataDir, 'ctr', 'ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await runGrove(['--data-dir', dataDir, 'ctr', 'rm', '-f', ...ids]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
