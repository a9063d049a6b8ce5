import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { startRegistry } from '../support/registry.js';
import { percentile, type Figure } from './report.js';

const exec = promisify(execFile);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function hasSkopeo(): Promise<boolean> {
  return exec('skopeo', ['--version']).then(() => true, () => false);
}

/** Pull of the fixture image from a loopback registry into an empty store, against skopeo copy. */
export async function pullBench(options: { runs: number }): Promise<Figure[]> {
  const registry = await startRegistry();
  const scratch = await mkdtemp(join(tmpdir(), 'grove-bench-pull-'));
  try {
    await pushImage(registry.url, 'bench/busybox', '1', await buildBusyboxImage());
    const reference = `${registry.host}/bench/busybox:1`;
    const grove: number[] = [];
    const skopeo: number[] = [];
    const withSkopeo = await hasSkopeo();
    for (let i = 0; i < options.runs; i++) {
      const dir = join(scratch, `grove-${i}`);
      grove.push(
        await timed(async () => {
          const r = await runGrove(['--data-dir', dir, 'ctr', 'pull', reference]);
          if (r.code !== 0) throw new Error(`grove ctr pull: ${r.stderr.trim()}`);
        }),
      );
      if (withSkopeo) {
        skopeo.push(await timed(() => exec('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${reference}`, `oci:${join(scratch, `skopeo-${i}`)}:bench`])));
      }
    }
    return [
      {
        bench: 'images',
        metric: `pull fixture image (~1 MiB), p50 of ${options.runs}`,
        value: Math.round(percentile(grove, 50)),
        unit: 'ms',
        ...(withSkopeo ? { baseline: { name: 'skopeo copy', value: Math.round(percentile(skopeo, 50)) } } : {}),
        note: withSkopeo ? 'grove also verifies digests and unpacks nothing until run' : 'skopeo not installed: no baseline',
      },
    ];
  } finally {
    await registry.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
