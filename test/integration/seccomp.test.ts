import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { ImageRunConfig } from '../../agent/src/images/types.js';
import { removeCgroup } from '../../agent/src/runtime/cgroups.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { detectHost, type HostFacts } from '../../agent/src/runtime/host.js';
import { buildOciConfig, ociConfigJson, type OciSpec } from '../../agent/src/runtime/oci-config.js';
import { OciRuntime, whichBinary } from '../../agent/src/runtime/oci-runtime.js';
import { runGrove, removeCtrDataDir, type GroveResult } from '../support/grove-cli.js';
import { pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { allAttempts, buildProbeImage, compileProbe, parseProbe } from '../support/seccomp-probe.js';

/**
 * The default seccomp profile with real runc (issue 12, defect 3): a static probe tries what a
 * container escape starts with — a user namespace, the kernel keyring, io_uring, a tmpfs mount,
 * a netfilter netlink socket — and gets EPERM for each, as root and as uid 65534; the same
 * probe is not filtered under --privileged or seccomp=unconfined; busybox runs unchanged.
 */
describeWith(['root', 'runc', 'registry', 'shim', 'musl-gcc'], 'seccomp: the default profile under runc (grove ctr)', () => {
  let registry: TestRegistry;
  let dataDir: string;
  let scratch: string;
  let image: string;

  const ctr = (args: string[]): Promise<GroveResult> => runGrove(['--data-dir', dataDir, 'ctr', ...args]);
  const probe = async (flags: string[]) => {
    const r = await ctr(['run', '--rm', ...flags, image, '/bin/probe']);
    expect(r.code, r.stderr).toBe(0);
    return parseProbe(r.stdout);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-seccomp-'));
    scratch = await mkdtemp(join(tmpdir(), 'grove-seccomp-files-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/probe', '1', await buildProbeImage(compileProbe(scratch)));
    image = `${registry.host}/test/probe:1`;
  }, 120_000);

  afterAll(async () => {
    await removeCtrDataDir(dataDir);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await registry?.stop();
  });

  it('refuses each escape step with EPERM (not ENOSYS), as root and as uid 65534', async () => {
    for (const user of [[], ['-u', '65534:65534']]) {
      expect(await probe(user), user.join(' ')).toEqual({ ...allAttempts('EPERM'), seccomp_mode: '2' });
    }
  });

  it('filters nothing under --privileged: every step succeeds', async () => {
    expect(await probe(['--privileged'])).toEqual({ ...allAttempts('ok'), seccomp_mode: '0' });
  });

  it('filters nothing under seccomp=unconfined: only a mount without CAP_SYS_ADMIN still fails (the kernel\'s check)', async () => {
    for (const user of [[], ['-u', '65534:65534']]) {
      expect(await probe(['--security-opt', 'seccomp=unconfined', ...user]), user.join(' ')).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '0' });
    }
  });

  it('runs busybox sh, wget and httpd unchanged under the default profile', async () => {
    const r = await ctr(['run', '--rm', image, 'sh', '-c', 'httpd -p 127.0.0.1:8080 -h /www && wget -qO- http://127.0.0.1:8080/ && id -u && ls /bin/probe']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello from grove\n0\n/bin/probe\n');
  });

  it('applies a profile file given with --security-opt seccomp=FILE, and ctr inspect names each mode', async () => {
    const file = join(scratch, 'no-mkdir.json');
    await writeFile(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const r = await ctr(['run', '--rm', '--security-opt', `seccomp=${file}`, image, 'sh', '-c', 'mkdir /tmp/x 2>&1 || echo refused; /bin/probe | grep unshare_user']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Permission denied');
    expect(r.stdout).toContain('refused');
    expect(r.stdout).toContain('unshare_user=ok');

    const modes: Record<string, string[]> = { default: [], unconfined: ['--security-opt', 'seccomp:unconfined'], 'unconfined (privileged)': ['--privileged'], [`file:${file}`]: ['--security-opt', `seccomp=${file}`] };
    for (const [mode, flags] of Object.entries(modes)) {
      const name = `insp-${Object.keys(modes).indexOf(mode)}`;
      expect((await ctr(['run', '-d', '--name', name, ...flags, image, 'sleep', '60'])).code).toBe(0);
      const inspected = JSON.parse((await ctr(['inspect', name])).stdout) as { seccomp: string };
      expect(inspected.seccomp).toBe(mode);
      await ctr(['rm', '-f', name]);
    }
  });

  it('a missing or invalid profile file is one clear error, and nothing is left behind', async () => {
    const before = (await ctr(['ps', '-a', '-q'])).stdout;
    const missing = await ctr(['run', '-d', '--security-opt', `seccomp=${join(scratch, 'nope.json')}`, image, 'true']);
    expect(missing.code).toBe(125);
    expect(missing.stderr.trim()).toBe(`grove: seccomp profile ${join(scratch, 'nope.json')}: no such file`);
    await writeFile(join(scratch, 'bad.json'), '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}');
    const bad = await ctr(['run', '-d', '--security-opt', `seccomp=${join(scratch, 'bad.json')}`, image, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr.trim()).toBe(`grove: seccomp profile ${join(scratch, 'bad.json')}: syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent, which Grove does not run`);
    expect((await ctr(['ps', '-a', '-q'])).stdout).toBe(before);
  });
});

/** A rootfs under `dir` with busybox's `true` or the probe: enough for runc or crun to start. */
async function minimalRootfs(dir: string, bin: { name: string; from: string }): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
  await mkdir(join(rootfs, 'tmp'));
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile(bin.from, join(rootfs, 'bin', bin.name));
  return rootfs;
}

/** runc create + start of one container, timed; the bundle's config decides the profile. */
describeWith(['root', 'runc'], 'seccomp: start latency with and without the profile (runc create + start)', () => {
  let dir: string;
  let host: HostFacts;
  let runtime: OciRuntime;
  const IMAGE: ImageRunConfig = { env: ['PATH=/bin'], entrypoint: [], cmd: ['true'], workingDir: '/', user: '', labels: {} };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-seccomp-latency-'));
    const rootfs = await minimalRootfs(dir, { name: 'busybox', from: '/usr/bin/busybox' });
    await symlink('busybox', join(rootfs, 'bin/true'));
    host = await detectHost();
    runtime = new OciRuntime({ name: 'runc', path: whichBinary('runc')!, root: join(dir, 'state'), logger: silentLogger(), timeoutMs: 15_000 });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function startOnce(id: string, confined: boolean): Promise<number> {
    const bundle = join(dir, id);
    await mkdir(bundle);
    const s: ContainerSpec = { id, name: id, image: 'local', imageDigest: 'sha256:0', env: [], limits: {}, labels: {}, ...(confined ? {} : { seccompProfile: { type: 'Unconfined' } }) };
    const config = buildOciConfig(s, IMAGE, host, { rootfsPath: join(dir, 'rootfs'), cgroupsPath: `/grove/${id}` });
    expect(config.linux.seccomp !== undefined).toBe(confined);
    await writeFile(join(bundle, 'config.json'), ociConfigJson(config));
    const devnull = await open('/dev/null', 'w');
    try {
      const t0 = process.hrtime.bigint();
      await runtime.create(id, { bundle, stdout: devnull.fd, stderr: devnull.fd });
      await runtime.start(id);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    } finally {
      await devnull.close();
      await runtime.delete(id, { force: true }).catch(() => undefined);
      await removeCgroup(host, `/grove/${id}`);
    }
  }

  it('[figure] both start; the ratio of their medians is printed', async () => {
    const with_: number[] = [];
    const without: number[] = [];
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    // Alternating pairs, so a busy neighbour on this shared host slows both sides alike.
    for (let i = 0; i < 8; i++) {
      with_.push(await startOnce(`grove-sc-on-${tag}-${i}`, true));
      without.push(await startOnce(`grove-sc-off-${tag}-${i}`, false));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`[figure] runc create+start, median of 8 alternating pairs: with the default profile ${median(with_).toFixed(1)} ms, without ${median(without).toFixed(1)} ms, ratio ${(median(with_) / median(without)).toFixed(2)}`);
    expect(with_.every((ms) => ms > 0) && without.every((ms) => ms > 0)).toBe(true);
  }, 120_000);
});

/**
 * crun, preferred on cgroup v2 hosts, loads the same rendered profile. crun refuses hybrid
 * cgroup hosts, so there it runs in a private mount namespace that shows it the (empty) v2
 * hierarchy, with its cgroup manager off: nothing of the host's cgroups is touched.
 */
describeWith(['root', 'crun', 'musl-gcc'], 'seccomp: crun loads the same profile', () => {
  let dir: string;
  let host: HostFacts;
  const IMAGE: ImageRunConfig = { env: ['PATH=/bin'], entrypoint: [], cmd: ['/bin/probe'], workingDir: '/', user: '', labels: {} };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-seccomp-crun-'));
    await minimalRootfs(dir, { name: 'probe', from: compileProbe(dir) });
    host = await detectHost();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function crunRun(id: string, s: Partial<ContainerSpec>): string {
    const bundle = join(dir, id);
    mkdirSync(bundle);
    const spec: ContainerSpec = { id, name: id, image: 'local', imageDigest: 'sha256:0', env: [], limits: {}, labels: {}, user: '65534:65534', ...s };
    const config = buildOciConfig(spec, IMAGE, host, { rootfsPath: join(dir, 'rootfs'), cgroupsPath: `/grove/${id}` });
    const { resources: _r, cgroupsPath: _c, ...linux } = config.linux;
    const plain = { ...config, linux, mounts: config.mounts.filter((m) => m.destination !== '/sys/fs/cgroup') };
    writeFileSync(join(bundle, 'config.json'), ociConfigJson(plain as OciSpec));
    const crun = `crun --cgroup-manager=disabled --root ${join(dir, 'state')} run --bundle ${bundle} ${id}`;
    const hybrid = existsSync('/sys/fs/cgroup/unified');
    const script = hybrid ? `mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec ${crun}` : `exec ${crun}`;
    return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { timeout: 30_000 }).toString();
  }

  it('refuses the same steps with EPERM; Unconfined filters nothing', () => {
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    expect(parseProbe(crunRun(`grove-sc-crun-${tag}-1`, {}))).toEqual({ ...allAttempts('EPERM'), seccomp_mode: '2' });
    expect(parseProbe(crunRun(`grove-sc-crun-${tag}-2`, { seccompProfile: { type: 'Unconfined' } }))).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '0' });
  });
});
