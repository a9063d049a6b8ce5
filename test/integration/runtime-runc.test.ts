import { copyFile, mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ImageRunConfig } from '../../agent/src/images/types.js';
import { cgroupPaths, readContainerStats, readLimits, removeCgroup } from '../../agent/src/runtime/cgroups.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { detectHost, type HostFacts } from '../../agent/src/runtime/host.js';
import { buildOciConfig, MAX_NOFILE, ociConfigJson } from '../../agent/src/runtime/oci-config.js';
import { OciRuntime, detectOciRuntime, whichBinary } from '../../agent/src/runtime/oci-runtime.js';
import { describeWith } from '../support/prereq.js';

const APPLETS = ['sh', 'sleep', 'cat', 'id', 'echo', 'ls', 'touch', 'grep', 'hostname', 'wc', 'true'];
const IMAGE: ImageRunConfig = { env: ['PATH=/bin'], entrypoint: [], cmd: ['sh'], workingDir: '/', user: '', labels: {} };

describeWith(['root', 'runc'], 'runtime driver under runc', () => {
  let dir: string;
  let rootfs: string;
  let host: HostFacts;
  let runtime: OciRuntime;
  let created: string[] = [];
  let seq = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-runtime-it-'));
    rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(rootfs, 'bin', applet));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/tmp:/bin/sh\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nvideo:x:44:app\n');
    await writeFile(join(rootfs, 'etc/resolv.conf'), '');
    host = await detectHost();
    runtime = new OciRuntime({ name: 'runc', path: whichBinary('runc')!, root: join(dir, 'state'), logger: silentLogger(), timeoutMs: 15_000 });
  });

  afterEach(async () => {
    for (const id of created) {
      await runtime.delete(id, { force: true }).catch(() => undefined);
      await removeCgroup(host, `/grove/${id}`);
    }
    created = [];
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function spec(over: Partial<ContainerSpec>): ContainerSpec {
    const id = `grove-it-${process.pid}-${++seq}`;
    return { id, name: id, image: 'local/busybox', imageDigest: 'sha256:' + '0'.repeat(64), env: [], limits: {}, labels: {}, ...over };
  }

  /** Writes the bundle and runs `runc create` + `start`, stdout/stderr into out.txt. */
  async function launch(s: ContainerSpec, opts: { hostNetwork?: boolean } = {}): Promise<{ out: string; cgroupsPath: string }> {
    const bundle = join(dir, s.id);
    await mkdir(bundle);
    const cgroupsPath = `/grove/${s.id}`;
    const config = buildOciConfig(s, IMAGE, host, { rootfsPath: rootfs, cgroupsPath, ...opts });
    await writeFile(join(bundle, 'config.json'), ociConfigJson(config));
    const out = join(bundle, 'out.txt');
    const fh = await open(out, 'w');
    try {
      created.push(s.id);
      await runtime.create(s.id, { bundle, pidFile: join(bundle, 'pid'), stdout: fh.fd, stderr: fh.fd });
    } finally {
      await fh.close();
    }
    await runtime.start(s.id);
    return { out, cgroupsPath };
  }

  async function waitStopped(id: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await runtime.state(id)).status === 'stopped') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${id} did not stop`);
  }

  async function run(s: ContainerSpec, opts: { hostNetwork?: boolean } = {}): Promise<string> {
    const { out } = await launch(s, opts);
    await waitStopped(s.id);
    return readFile(out, 'utf8');
  }

  it('selects runc on this host and says why', async () => {
    const info = await detectOciRuntime({ host, logger: silentLogger() });
    if (host.cgroupMode === 'hybrid') {
      expect(info.name).toBe('runc');
      expect(info.reason).toMatch(/hybrid|not found/);
    }
    expect(info.version).toMatch(/^\d+\.\d+/);
  });

  it('enforces memory, cpu and pids limits, visible from the host side', async () => {
    const s = spec({ args: ['sleep', '30'], limits: { memoryBytes: 32 * 1024 * 1024, cpus: 0.5, pidsLimit: 64 } });
    const { cgroupsPath } = await launch(s);
    const state = await runtime.state(s.id);
    expect(state.status).toBe('running');
    expect(state.pid).toBeGreaterThan(0);
    expect((await runtime.list()).map((c) => c.id)).toContain(s.id);

    const limits = await readLimits(host, cgroupsPath);
    expect(limits).toMatchObject({ memoryBytes: 32 * 1024 * 1024, quota: 50000, period: 100000, pidsMax: 64 });
    if (host.memorySwapSupported) expect(limits.swapBytes).toBe(host.cgroupVersion === 1 ? 32 * 1024 * 1024 : 0);

    // Just after start, runc's own helpers may still be in the cgroup on a loaded machine.
    let stats = await readContainerStats(host, cgroupsPath);
    for (let i = 0; i < 50 && stats.pids !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await readContainerStats(host, cgroupsPath);
    }
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.memoryLimitBytes).toBe(32 * 1024 * 1024);
    expect(stats.pids).toBe(1);
    expect(stats.oomKills).toBe(0);
    expect(stats.cpuNanos).toBeGreaterThanOrEqual(0);

    await runtime.kill(s.id, 'SIGKILL');
    await waitStopped(s.id);
    await runtime.delete(s.id);
    await expect(runtime.state(s.id)).rejects.toMatchObject({ code: ErrorCode.ContainerNotFound });
    // runc removes its cgroups on delete; nothing should be left behind.
    for (const d of cgroupPaths(host, cgroupsPath).all) expect(existsSync(d)).toBe(false);
  });

  it('runs with the configured rlimit, capabilities, hostname and env', async () => {
    const s = spec({ args: ['sh', '-c', 'ulimit -n; hostname; grep -E "^Cap(Bnd|Eff|Inh|Amb)" /proc/self/status; echo "$GREETING $HOSTNAME"; grep NoNewPrivs /proc/self/status'], env: ['GREETING=hello'] });
    const lines = (await run(s)).trim().split('\n');
    expect(lines[0]).toBe(String(Math.min(MAX_NOFILE, host.nofileHardLimit!)));
    expect(lines[1]).toBe(s.id.slice(0, 12));
    // Docker's default set: 0xa80425fb.
    expect(lines).toContain('CapBnd:\t00000000a80425fb');
    expect(lines).toContain('CapEff:\t00000000a80425fb');
    expect(lines).toContain('CapInh:\t0000000000000000');
    expect(lines).toContain(`hello ${s.id.slice(0, 12)}`);
    expect(lines).toContain('NoNewPrivs:\t1');
  });

  it('runs as a named user from the rootfs with its supplementary groups', async () => {
    const out = await run(spec({ args: ['id'], user: 'app' }));
    expect(out.trim()).toBe('uid=1000(app) gid=1000(app) groups=44(video)');
  });

  it('isolates: read-only rootfs, masked and read-only /proc paths, a private network', async () => {
    // Masked files read as empty (a /dev/null bind); pick one this kernel actually has.
    const masked = ['/proc/keys', '/proc/timer_list', '/proc/kcore', '/proc/sched_debug'].find((p) => existsSync(p));
    const script = [
      'touch /x 2>/dev/null && echo rootfs-writable || echo rootfs-ro',
      masked ? `echo "masked=$(wc -c < ${masked})"` : 'echo masked=0',
      'echo 1 2>/dev/null > /proc/sys/kernel/ns_last_pid && echo procsys-writable || echo procsys-ro',
      'echo net=$(ls /sys/class/net)',
    ].join('; ');
    const out = await run(spec({ args: ['sh', '-c', script], readOnlyRootfs: true }));
    expect(out).toContain('rootfs-ro');
    expect(out).toContain('masked=0');
    expect(out).toContain('procsys-ro');
    expect(out).toMatch(/net=lo\s*$/);
  });

  it('with hostNetwork sees the host interfaces and resolv.conf', async () => {
    const out = await run(spec({ args: ['sh', '-c', 'cat /etc/resolv.conf; ls /sys/class/net'] }), { hostNetwork: true });
    if (existsSync('/etc/resolv.conf')) expect(out).toContain(readFileSync('/etc/resolv.conf', 'utf8').trim());
    expect(out.split('\n').filter(Boolean).length).toBeGreaterThan(1);
  });

  it('turns a runtime failure into a one-line RuntimeFailed', async () => {
    const s = spec({ args: ['/bin/does-not-exist'] });
    const err = await launch(s).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RuntimeFailed });
    expect((err as Error).message).toMatch(/^runc create grove-it-\S+: .*does-not-exist/);
    expect((err as Error).message).not.toContain('\n');
  });
});
