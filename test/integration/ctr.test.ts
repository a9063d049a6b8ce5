import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostPlatform } from '../../agent/src/images/platform.js';
import { readContainerStats, readLimits } from '../../agent/src/runtime/cgroups.js';
import { detectHost } from '../../agent/src/runtime/host.js';
import { eventually, runGrove, spawnGrove, removeCtrDataDir, type GroveResult } from '../support/grove-cli.js';
import { buildBusyboxImage, buildTwoPlatformIndex, platformString, pushImage, writeDockerSaveArchive } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/** `grove ctr` end to end: real registry, real runc, real shim, the built CLI as a process. */
describeWith(['root', 'runc', 'registry', 'htpasswd', 'shim'], 'grove ctr (end to end)', () => {
  const auth = { username: 'edge', password: 's3cret-pass' };
  let registry: TestRegistry;
  let authRegistry: TestRegistry;
  let dataDir: string;
  let image: string;

  const ctr = (args: string[], dir = dataDir): Promise<GroveResult> => runGrove(['--data-dir', dir, 'ctr', ...args]);
  const inspect = async (name: string): Promise<Record<string, any>> => {
    const r = await ctr(['inspect', name]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>;
  };
  const exited = (name: string) =>
    eventually(async () => {
      const info = await inspect(name);
      return info.state === 'exited' ? info : undefined;
    }, 30_000, `${name} to exit`);
  /** One clear line on stderr, non-zero exit. */
  const expectOneLineError = (r: GroveResult, text: string) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace without --debug
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-ctr-'));
    [registry, authRegistry] = await Promise.all([startRegistry(), startRegistry({ auth })]);
    const busybox = await buildBusyboxImage();
    await pushImage(registry.url, 'test/busybox', '1', busybox);
    await pushImage(registry.url, 'test/multi', '1', await buildTwoPlatformIndex());
    await pushImage(authRegistry.url, 'private/busybox', '1', busybox, { auth });
    image = `${registry.host}/test/busybox:1`;
  });

  afterAll(async () => {
    await removeCtrDataDir(dataDir);
    await registry?.stop();
    await authRegistry?.stop();
  });

  it('pulls anonymously and lists the image', async () => {
    const pulled = await ctr(['pull', image]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/Pulled .*test\/busybox:1 sha256:[a-f0-9]{64}/);
    const images = await ctr(['images']);
    // CREATED is when the image was built (the test builder's 2024-01-01), not the pull just now.
    expect(images.stdout).toMatch(new RegExp(`${registry.host}/test/busybox\\s+1\\s+[a-f0-9]{12}\\s+\\d+ (weeks|months|years) ago\\s`));
  });

  it('pulls with basic auth from registries.json; a wrong password is one clear error', async () => {
    const authDir = await mkdtemp(join(tmpdir(), 'grove-ctr-auth-'));
    try {
      const config = (password: string) =>
        writeFile(join(authDir, 'registries.json'), JSON.stringify({ configs: { [authRegistry.host]: { auth: { username: auth.username, password } } } }));
      await config('wrong');
      expectOneLineError(await ctr(['pull', `${authRegistry.host}/private/busybox:1`], authDir), 'rejected the credentials');
      await config(auth.password);
      const ok = await ctr(['pull', `${authRegistry.host}/private/busybox:1`], authDir);
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      await rm(authDir, { recursive: true, force: true });
    }
  });

  it('resolves an index to this host platform', async () => {
    const r = await ctr(['run', '--rm', `${registry.host}/test/multi:1`, 'cat', '/etc/grove-platform']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(platformString(hostPlatform()));
  });

  it('runs a container that prints a line, and shows it in logs', async () => {
    const r = await ctr(['run', '--name', 'hello', image, 'sh', '-c', 'echo hello from grove; echo to stderr >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('hello from grove\n');
    expect(r.stderr).toBe('to stderr\n');
    const logs = await ctr(['logs', 'hello']);
    expect(logs.stdout).toBe('hello from grove\n');
    const ps = await ctr(['ps', '-a']);
    expect(ps.stdout).toMatch(/Exited \(3\).*hello/);
  });

  it('kills a container over its memory limit and reports OOM', async () => {
    const r = await ctr(['run', '-d', '--name', 'oom', '--memory', '16m', image, 'sh', '-c', 'a=$(head -c 67108864 /dev/zero | tr "\\0" x); echo survived']);
    expect(r.code, r.stderr).toBe(0);
    const info = await exited('oom');
    expect(info.oomKilled).toBe(true);
    expect(info.exitCode).toBe(137);
    expect(info.limits.memory).toBe(16 * 1024 * 1024);
  });

  it('enforces the pids limit and puts the cpu quota in the cgroup', async () => {
    const r = await ctr(['run', '-d', '--name', 'limits', '--pids', '8', '--cpus', '0.5', image, 'sh', '-c', '(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 60 & done); sleep 60']);
    expect(r.code, r.stderr).toBe(0);
    const info = await inspect('limits');
    const host = await detectHost();
    const limits = await readLimits(host, info.cgroupsPath);
    expect(limits.quota).toBe(50_000);
    expect(limits.period).toBe(100_000);
    expect(limits.pidsMax).toBe(8);
    const logs = await eventually(async () => {
      const l = await ctr(['logs', 'limits']);
      return /fork|Resource temporarily unavailable/i.test(l.stderr) ? l : undefined;
    }, 20_000, 'a failed fork in the logs');
    expect(logs.stderr).toMatch(/can't fork|Resource temporarily unavailable/i);
    const stats = await readContainerStats(host, info.cgroupsPath);
    expect(stats.pids).toBeLessThanOrEqual(8);
    expect((await ctr(['rm', '-f', 'limits'])).code).toBe(0);
  });

  it('keeps a container running when the grove process that started it is SIGKILLed', async () => {
    const child = spawnGrove(['--data-dir', dataDir, 'ctr', 'run', '--name', 'survivor', image, 'sh', '-c', 'for i in $(seq 1 25); do echo tick $i; sleep 0.2; done; exit 7']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(async () => out.includes('tick 2'), 30_000, 'first ticks');
    child.kill('SIGKILL');
    const running = await ctr(['ps']);
    expect(running.stdout).toMatch(/Up .*survivor/);
    const info = await exited('survivor');
    expect(info.exitCode).toBe(7);
    const logs = await ctr(['logs', '--tail', '1', 'survivor']);
    expect(logs.stdout).toBe('tick 25\n');
  });

  it('keeps at most the configured log cap on disk', async () => {
    const r = await ctr(['run', '-d', '--name', 'chatty', image, 'sh', '-c', 'yes 0123456789012345678901234567890123456789 | head -c 10485760']);
    expect(r.code, r.stderr).toBe(0);
    const info = await exited('chatty');
    const stateDir = join(dataDir, 'containers', info.id, 'state');
    const logs = (await readdir(stateDir)).filter((f) => f.startsWith('container.log'));
    let total = 0;
    for (const f of logs) total += (await stat(join(stateDir, f))).size;
    console.log(`log files: ${logs.join(', ')}; ${total} bytes on disk for 10 MiB written`);
    expect(total).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('imports a docker save archive and runs it with no registry', async () => {
    const offline = await mkdtemp(join(tmpdir(), 'grove-ctr-offline-'));
    try {
      const archive = join(offline, 'image.tar');
      await writeDockerSaveArchive(archive, await buildBusyboxImage({ marker: 'offline' }), 'offline/app:1');
      const imported = await ctr(['import', archive], offline);
      expect(imported.code, imported.stderr).toBe(0);
      const r = await ctr(['run', '--rm', '--pull', 'never', 'offline/app:1', 'cat', '/etc/grove-platform'], offline);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('offline\n');
    } finally {
      await rm(offline, { recursive: true, force: true });
    }
  });

  it('rejects bad input with one clear line and leaves nothing half-created', async () => {
    const before = await readdir(join(dataDir, 'containers'));
    expectOneLineError(await ctr(['run', `${registry.host}/nope/missing:1`]), 'not found');
    expectOneLineError(await ctr(['logs', 'no-such-container']), 'no such container: no-such-container');
    expectOneLineError(await ctr(['run', '--memory', '32q', image]), '--memory: "32q" is not a size');
    expectOneLineError(await ctr(['run', 'my image']), 'invalid image reference "my image"');
    expectOneLineError(await ctr(['run', '--name', 'bad', image, '/no/such/binary']), 'no/such/binary');
    expect(await readdir(join(dataDir, 'containers'))).toEqual(before);
    expect(await readdir(join(dataDir, 'names'))).not.toContain('bad');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    const leftover = mounts.split('\n').filter((l) => l.includes(dataDir));
    // Only containers that still exist may have mounts.
    for (const line of leftover) expect(before.some((id) => line.includes(id))).toBe(true);
  });

  it('ps keeps a multi-line command on its one row, cut as docker does; --no-trunc shows it whole', async () => {
    const script = 'trap "exit 0" TERM\nwhile true; do\n  sleep 1\ndone';
    const r = await ctr(['run', '-d', '--name', 'multiline', image, 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const count = (await ctr(['ps', '-q'])).stdout.split('\n').filter(Boolean).length;
      const ps = await ctr(['ps']);
      expect(ps.stdout.trimEnd().split('\n')).toHaveLength(count + 1);
      expect(ps.stdout).toMatch(/ "sh -c trap \\"exit 0…" .* multiline\n/);
      const full = await ctr(['ps', '--no-trunc']);
      expect(full.stdout.trimEnd().split('\n')).toHaveLength(count + 1);
      expect(full.stdout).toContain(`${r.stdout.trim()}   ${registry.host}/test/busybox:1   "sh -c trap \\"exit 0\\" TERM\\nwhile true; do\\n  sleep 1\\ndone"`);
    } finally {
      await ctr(['rm', '-f', 'multiline']);
    }
  });

  it('stops and removes containers, unmounting their rootfs', async () => {
    const r = await ctr(['run', '-d', '--name', 'sleeper', image, 'sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect((await ctr(['rm', 'sleeper'])).stderr).toContain('is running');
    const stopped = await ctr(['stop', '-t', '1', 'sleeper']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await inspect('sleeper')).state).toBe('exited');
    expect((await ctr(['rm', 'sleeper'])).code).toBe(0);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(id);
    expectOneLineError(await ctr(['inspect', 'sleeper']), 'no such container');
    const runtimeState = execFileSync('runc', ['--root', join(dataDir, 'run', 'runc'), 'list', '-q']).toString();
    expect(runtimeState).not.toContain(id);
  });
});
