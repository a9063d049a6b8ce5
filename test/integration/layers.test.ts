/**
 * The layers of docs/architecture.md are enforced by the build: each layer is a TypeScript
 * project that may import only the projects it references (tsconfig.build.json), so an upward
 * import fails `tsc -b` with TS6307 naming the file. Checked on a copy of the sources (the
 * checkout is never touched): the copy first builds clean, then one probe file that imports
 * upward makes the same build fail.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/grove-cli.js';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** `tsc -b <project>` in the copy: its exit code and output. */
async function build(root: string, project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-b', join(root, project)], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Builds `project` with `probe` (a file importing `target`) in place; the probe is removed again. */
async function buildWithProbe(root: string, project: string, probe: string, target: string): Promise<{ code: number; output: string }> {
  const file = join(root, probe);
  await writeFile(file, `import * as upward from '${target}';\nexport const probe = upward;\n`);
  try {
    return await build(root, project);
  } finally {
    await unlink(file);
  }
}

describe('layers enforced by the build', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'grove-layers-'));
    for (const f of ['package.json', 'tsconfig.base.json', 'tsconfig.build.json']) await cp(join(REPO_ROOT, f), join(root, f));
    await cp(join(REPO_ROOT, 'src'), join(root, 'src'), { recursive: true });
    await cp(join(REPO_ROOT, 'agent', 'src'), join(root, 'agent', 'src'), { recursive: true });
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    // The copy builds as it is: a failure below is the probe's doing.
    const clean = await build(root, 'agent/src/agent');
    expect(clean, clean.output).toMatchObject({ code: 0 });
  }, 180_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('fails on a file under src/core that imports src/server', async () => {
    const r = await buildWithProbe(root, 'src/core', 'src/core/upward-probe.ts', '../server/api.js');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/src\/core\/upward-probe\.ts\(1,\d+\): error TS6307: File '[^']*\/src\/server\/api\.ts' is not listed within the file list of project/);
  }, 120_000);

  it('fails on a file under src/core that imports the agent', async () => {
    const r = await buildWithProbe(root, 'src/core', 'src/core/upward-probe.ts', '../../agent/src/agent/config-source.js');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/src\/core\/upward-probe\.ts\(1,\d+\): error TS6307: File '[^']*\/agent\/src\/agent\/config-source\.ts'/);
  }, 120_000);

  it('fails on a file under agent/ that imports src/cli', async () => {
    const r = await buildWithProbe(root, 'agent/src/agent', 'agent/src/agent/upward-probe.ts', '../../../src/cli/program.js');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/agent\/src\/agent\/upward-probe\.ts\(1,\d+\): error TS6307: File '[^']*\/src\/cli\/program\.ts'/);
  }, 120_000);

  it('fails on the node runtime importing the agent above it', async () => {
    const r = await buildWithProbe(root, 'agent/src/runtime', 'agent/src/runtime/upward-probe.ts', '../agent/plan/sandboxes.js');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/agent\/src\/runtime\/upward-probe\.ts\(1,\d+\): error TS6307: File '[^']*\/agent\/src\/agent\/plan\/sandboxes\.ts'/);
  }, 120_000);
});
