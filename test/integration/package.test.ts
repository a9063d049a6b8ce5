/**
 * Release packaging (`npm run package`, firmware-scripts/package/): builds all three tarballs
 * into a temp dir and checks what a user downloads: the architecture of every binary, the
 * checksums, the ARM shims under qemu-user-static, and the amd64 package unpacked and used
 * (bundled CLI, LevelDB addon, embedded broker) with no node_modules around it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { buildBusyboxImage, writeDockerSaveArchive } from '../support/image-builder.js';
import { decodeBackup, encodeBackup } from '../../src/store/backup.js';
import { eventually, REPO_ROOT } from '../support/grove-cli.js';
import { killAndWait } from '../support/cluster.js';
import { freePort } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);
const VERSION = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const MAX_TARBALL_BYTES = 10 * 1024 * 1024;

const TARGETS = [
  { name: 'linux-arm64', fileArch: 'ARM aarch64', qemu: 'qemu-aarch64-static' },
  { name: 'linux-armv7', fileArch: 'ARM, EABI5', qemu: 'qemu-arm-static' },
  { name: 'linux-amd64', fileArch: 'x86-64', qemu: undefined },
] as const;

async function fileType(path: string): Promise<string> {
  return (await run('file', ['-b', path])).stdout.trim();
}

describeWith(['file', 'cross-compilers', 'qemu-user-static'], 'release packages', () => {
  let work: string;
  let out: string;
  const unpacked = new Map<string, string>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'grove-package-'));
    out = join(work, 'release');
    await run(process.execPath, [join(REPO_ROOT, 'firmware-scripts', 'package', 'build.mjs'), '--out', out], { cwd: REPO_ROOT, timeout: 300_000 });
    for (const t of TARGETS) {
      const dir = join(work, t.name);
      await mkdir(dir);
      await run('tar', ['-xzf', join(out, `grove-${VERSION}-${t.name}.tar.gz`), '-C', dir]);
      unpacked.set(t.name, join(dir, `grove-${VERSION}-${t.name}`));
    }
  }, 360_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes three tarballs under 10 MB whose SHA256SUMS verify', async () => {
    expect((await readdir(out)).sort()).toEqual(['SHA256SUMS', ...TARGETS.map((t) => `grove-${VERSION}-${t.name}.tar.gz`)].sort());
    for (const t of TARGETS) expect((await stat(join(out, `grove-${VERSION}-${t.name}.tar.gz`))).size).toBeLessThan(MAX_TARBALL_BYTES);
    const check = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    expect(check.stdout.trim().split('\n')).toHaveLength(3);
    expect(check.stdout).not.toMatch(/FAILED/);
    // A changed tarball no longer verifies.
    await writeFile(join(work, 'SHA256SUMS'), (await readFile(join(out, 'SHA256SUMS'), 'utf8')).replace(/^./, (c) => (c === '0' ? '1' : '0')));
    await expect(run('sha256sum', ['-c', join(work, 'SHA256SUMS')], { cwd: out })).rejects.toThrow();
  });

  it('ships a launcher, the bundle and binaries of the right architecture', async () => {
    for (const t of TARGETS) {
      const root = unpacked.get(t.name)!;
      for (const f of ['bin/grove', 'bin/grove-shim', 'lib/grove.mjs', 'lib/probe-net-main.js', 'lib/package.json', 'LICENSE', 'README.md']) {
        await stat(join(root, f));
      }
      const shim = await fileType(join(root, 'bin', 'grove-shim'));
      expect(shim, `${t.name} shim`).toContain(t.fileArch);
      expect(shim, `${t.name} shim`).toMatch(/statically linked/);
      expect(await fileType(join(root, 'lib', 'native', 'classic-level.node')), `${t.name} LevelDB addon`).toContain(t.fileArch);
      const native = await readdir(join(root, 'lib', 'native'));
      if (native.includes('cbor-extract.node')) {
        expect(await fileType(join(root, 'lib', 'native', 'cbor-extract.node')), `${t.name} cbor-extract`).toContain(t.fileArch);
      }
      expect(await fileType(join(root, 'bin', 'grove'))).toMatch(/shell script/);
    }
  });

  it('runs the ARM shims under qemu-user-static', async () => {
    for (const t of TARGETS.filter((x) => x.qemu)) {
      const { stdout } = await run(t.qemu!, [join(unpacked.get(t.name)!, 'bin', 'grove-shim'), '--version']);
      expect(stdout, t.name).toBe(`grove-shim ${VERSION}\n`);
    }
  });

  it('the launcher refuses a Node.js older than 20', async () => {
    const fakeNode = join(work, 'node18');
    await writeFile(fakeNode, '#!/bin/sh\necho v18.19.0\n');
    await chmod(fakeNode, 0o755);
    const err = await run(join(unpacked.get('linux-amd64')!, 'bin', 'grove'), ['--version'], { env: { ...process.env, GROVE_NODE: fakeNode } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1, stderr: expect.stringContaining('Node.js >= 20 is required, found v18.19.0') });
  });

  it('the unpacked amd64 package works on its own: version, ctr, restore and a server with LevelDB', async () => {
    const root = unpacked.get('linux-amd64')!;
    const grove = join(root, 'bin', 'grove');
    const dataDir = join(work, 'data');
    // No GROVE_SHIM, no checkout paths: only what the tarball holds.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GROVE_LOG_LEVEL: 'warn' };
    const groveRun = (args: string[]) => run(grove, ['--data-dir', dataDir, ...args], { env, timeout: 60_000 });

    expect((await groveRun(['--version'])).stdout.trim()).toBe(VERSION);
    expect((await groveRun(['ctr', 'images'])).stdout).toMatch(/^REPOSITORY/);

    // A backup made here, restored by the packaged CLI into a fresh data dir (LevelDB addon).
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'cluster', value: { name: 'packaged' } }]);
    await store.commit([
      {
        type: 'put',
        key: 'apps/hello',
        value: {
          kind: 'App',
          meta: { name: 'hello', labels: {}, annotations: {} },
          spec: {
            kind: 'Deployment',
            replicas: 1,
            template: { labels: {}, annotations: {}, nodeSelector: {}, restartPolicy: 'Always', hostNetwork: false, containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', env: [], resources: {} }] },
          },
          generation: 1,
        },
      },
    ]);
    const backupFile = join(work, 'seed.backup');
    await writeFile(backupFile, encodeBackup(await store.snapshot(), { cluster: 'packaged', createdAt: new Date() }));
    expect((await groveRun(['server', 'restore', backupFile])).stdout).toMatch(/cluster packaged, revision 2, 2 entries.*store revision is now 3/);

    const apiPort = await freePort();
    const mqttPort = await freePort();
    let server: ChildProcess | undefined;
    let log = '';
    try {
      server = spawn(grove, ['--data-dir', dataDir, 'server', '--no-agent', '--api-addr', `127.0.0.1:${apiPort}`, '--mqtt-addr', `127.0.0.1:${mqttPort}`], {
        env: { ...env, GROVE_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await eventually(async () => log.includes('grove server ready') || (server!.exitCode !== null && Promise.reject(new Error(log))), 60_000, 'packaged server ready');
      // The seed is a 0.1-layout backup: the restore upgraded it to objects (src/server/migrate).
      expect((await groveRun(['server', 'backup', join(work, 'again.backup')])).stdout).toMatch(/cluster packaged, revision \d+/);
      const again = decodeBackup(await readFile(join(work, 'again.backup')));
      expect(again.entries.map((e) => e.key)).toContain('deployments/default/hello');
    } finally {
      await killAndWait(server, 'SIGTERM');
    }
  }, 180_000);
});

/**
 * The packaged CLI runs a real container with the packaged grove-shim: nothing from the checkout
 * (no GROVE_SHIM, no agent/shim/build) is on its way.
 */
describeWith(['root', 'runc', 'overlay'], 'release package runs containers', () => {
  let work: string;
  let root: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'grove-package-run-'));
    const out = join(work, 'release');
    await run(process.execPath, [join(REPO_ROOT, 'firmware-scripts', 'package', 'build.mjs'), '--out', out, '--targets', 'linux-amd64'], { cwd: REPO_ROOT, timeout: 300_000 });
    await run('tar', ['-xzf', join(out, `grove-${VERSION}-linux-amd64.tar.gz`), '-C', work]);
    root = join(work, `grove-${VERSION}-linux-amd64`);
  }, 360_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports an image and runs a container through bin/grove-shim', async () => {
    const dataDir = join(work, 'data');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GROVE_LOG_LEVEL: 'warn' };
    const grove = (args: string[]) => run(join(root, 'bin', 'grove'), ['--data-dir', dataDir, ...args], { env, timeout: 120_000 });
    const archive = join(work, 'image.tar');
    await writeDockerSaveArchive(archive, await buildBusyboxImage({ marker: 'packaged' }), 'packaged/app:1');
    await grove(['ctr', 'import', archive]);
    const r = await grove(['ctr', 'run', '--rm', '--pull', 'never', 'packaged/app:1', 'cat', '/etc/grove-platform']);
    expect(r.stdout).toBe('packaged\n');
  }, 180_000);
});
