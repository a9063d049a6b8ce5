import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import type { ImageRunConfig } from '../../agent/src/images/types.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { decide } from '../support/seccomp-eval.js';
import {
  DEFAULT_CAPABILITIES,
  buildOciConfig,
  ociConfigJson,
  resolveUser,
  rootfsReader,
  type OciHostFacts,
} from '../../agent/src/runtime/oci-config.js';

const ID = '0123456789abcdef0123456789abcdef';
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# comment
app:x:1000:1000:App:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
tty:x:5:
audio:x:29:app,daemon
video:x:44:app
app:x:1000:app
nogroup:x:65534:
`;
const FILES: Record<string, string> = { '/etc/passwd': PASSWD, '/etc/group': GROUP };
const read = (p: string): string | undefined => FILES[p];

const UNIFIED: OciHostFacts = { cgroupMode: 'unified', memorySwapSupported: true, nofileHardLimit: 1048576, arch: 'amd64', kernel: '6.1.0-18-amd64' };
const HYBRID: OciHostFacts = { cgroupMode: 'hybrid', memorySwapSupported: true, nofileHardLimit: 20000, arch: 'arm64', kernel: '6.6.31+rpt-rpi-v8' };

function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return { id: ID, name: 'web', image: 'docker.io/library/busybox:latest', imageDigest: 'sha256:' + 'b'.repeat(64), env: ['A=1'], limits: {}, labels: {}, ...over };
}

const IMAGE: ImageRunConfig = { env: ['PATH=/bin'], entrypoint: [], cmd: ['sh'], workingDir: '/work', user: '', labels: {} };

function build(s: Partial<ContainerSpec> = {}, host: OciHostFacts = UNIFIED, extra: { hostNetwork?: boolean; image?: Partial<ImageRunConfig> } = {}) {
  return buildOciConfig(spec(s), { ...IMAGE, ...extra.image }, host, {
    rootfsPath: '/var/lib/grove/rootfs/x',
    cgroupsPath: `/grove/${ID}`,
    ...(extra.hostNetwork ? { hostNetwork: true } : {}),
    readRootfsFile: read,
  });
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isGroveError(err) ? err.code : 'not a GroveError';
  }
  return undefined;
}

describe('buildOciConfig', () => {
  it('fills the process from the spec and image', () => {
    const c = build({ args: ['echo', 'hi'] });
    expect(c.ociVersion).toBe('1.0.2');
    expect(c.process).toMatchObject({ terminal: false, args: ['echo', 'hi'], cwd: '/work', noNewPrivileges: true, user: { uid: 0, gid: 0 } });
    expect(c.process.env).toEqual(['PATH=/bin', 'HOSTNAME=0123456789ab', 'A=1']);
    expect(c.hostname).toBe('0123456789ab');
    expect(build({ hostname: 'sensor' }).hostname).toBe('sensor');
  });

  it('grants exactly Docker\'s default capabilities, none inheritable or ambient', () => {
    const caps = build().process.capabilities;
    const expected = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
    expect([...DEFAULT_CAPABILITIES]).toEqual(expected);
    expect(caps).toEqual({ bounding: expected, effective: expected, permitted: expected, inheritable: [], ambient: [] });
  });

  it('caps RLIMIT_NOFILE at 1048576 and never above the host hard limit', () => {
    expect(build().process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
    expect(build({}, HYBRID).process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
    expect(build({}, { ...UNIFIED, nofileHardLimit: 4194304 }).process.rlimits?.[0]?.hard).toBe(1048576);
    const { nofileHardLimit: _, ...unknown } = UNIFIED;
    expect(build({}, unknown).process.rlimits).toBeUndefined();
  });

  it('turns cpus into a CFS quota over a 100 ms period', () => {
    expect(build({ limits: { cpus: 0.5 } }).linux.resources.cpu).toEqual({ quota: 50000, period: 100000 });
    expect(build({ limits: { cpus: 1.333333 } }).linux.resources.cpu).toEqual({ quota: 133333, period: 100000 });
    expect(build({ limits: { cpus: 2, cpuShares: 512 } }).linux.resources.cpu).toEqual({ shares: 512, quota: 200000, period: 100000 });
    expect(build({ limits: { cpuShares: 256 } }).linux.resources.cpu).toEqual({ shares: 256 });
    expect(build().linux.resources.cpu).toBeUndefined();
  });

  it('sets memory with swap equal to the limit only where swap accounting exists', () => {
    const limits = { memoryBytes: 32 * 1024 * 1024 };
    expect(build({ limits }).linux.resources.memory).toEqual({ limit: 33554432, swap: 33554432 });
    expect(build({ limits }, { ...HYBRID, memorySwapSupported: false }).linux.resources.memory).toEqual({ limit: 33554432 });
    expect(build().linux.resources.memory).toBeUndefined();
  });

  it('sets the pids limit', () => {
    expect(build({ limits: { pidsLimit: 64 } }).linux.resources.pids).toEqual({ limit: 64 });
    expect(build().linux.resources.pids).toBeUndefined();
  });

  it.each([
    [{ memoryBytes: 1024 }],
    [{ memoryBytes: -1 }],
    [{ memoryBytes: 1.5 * 1024 * 1024 * 10 + 0.5 }],
    [{ cpus: 0 }],
    [{ cpus: Number.NaN }],
    [{ cpuShares: 1 }],
    [{ pidsLimit: 0 }],
    [{ pidsLimit: 2.5 }],
  ])('rejects nonsensical limits %o', (limits) => {
    expect(code(() => build({ limits }))).toBe(ErrorCode.InvalidArgument);
  });

  it('denies all devices, then allows Docker\'s basic set', () => {
    const d = build().linux.resources.devices;
    expect(d[0]).toEqual({ allow: false, access: 'rwm' });
    const allowed = d.slice(1).map((r) => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`);
    expect(allowed).toEqual(['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm']);
  });

  it('masks and write-protects Docker\'s default paths', () => {
    const l = build().linux;
    expect(l.maskedPaths).toEqual(['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']);
    expect(l.readonlyPaths).toEqual(['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('places root, cgroup path and the standard mounts', () => {
    const c = build();
    expect(c.root).toEqual({ path: '/var/lib/grove/rootfs/x', readonly: false });
    expect(build({ readOnlyRootfs: true }).root.readonly).toBe(true);
    expect(c.linux.cgroupsPath).toBe(`/grove/${ID}`);
    expect(c.mounts.map((m) => `${m.destination} ${m.type}`)).toEqual([
      '/proc proc', '/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs', '/dev/mqueue mqueue', '/sys sysfs', '/sys/fs/cgroup cgroup',
    ]);
    const byDest = Object.fromEntries(c.mounts.map((m) => [m.destination, m.options]));
    expect(byDest['/dev']).toEqual(expect.arrayContaining(['mode=755', 'size=65536k']));
    expect(byDest['/dev/pts']).toEqual(expect.arrayContaining(['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']));
    expect(byDest['/dev/shm']).toEqual(expect.arrayContaining(['size=67108864']));
    expect(byDest['/sys']).toContain('ro');
    expect(byDest['/sys/fs/cgroup']).toEqual(['ro', 'nosuid', 'noexec', 'nodev', 'relatime']);
  });

  it('creates pid, ipc, uts, mount and network namespaces (plus cgroup on v2)', () => {
    expect(build().linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network', 'cgroup']);
    expect(build({}, HYBRID).linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
  });

  it("joins a pod sandbox's network, ipc and uts namespaces by path, and takes its hostname", () => {
    const c = build({ namespaces: { network: '/run/netns/grove-pod-1', ipc: '/run/grove/s/pod-1/ipc', uts: '/run/grove/s/pod-1/uts' }, hostname: 'web-abc12-x1y2z' });
    expect(c.linux.namespaces).toEqual([
      { type: 'pid' },
      { type: 'ipc', path: '/run/grove/s/pod-1/ipc' },
      { type: 'uts', path: '/run/grove/s/pod-1/uts' },
      { type: 'mount' },
      { type: 'network', path: '/run/netns/grove-pod-1' },
      { type: 'cgroup' },
    ]);
    expect(c.hostname).toBe('web-abc12-x1y2z');
    // On the host's network only ipc and uts are joined.
    const host = build({ namespaces: { ipc: '/i', uts: '/u' } }, UNIFIED, { hostNetwork: true });
    expect(host.linux.namespaces.filter((n) => n.path).map((n) => n.type)).toEqual(['ipc', 'uts']);
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain('network');
  });

  it('with hostNetwork shares the host netns and binds its resolv.conf read-only', () => {
    const c = build({}, HYBRID, { hostNetwork: true });
    expect(c.linux.namespaces.map((n) => n.type)).not.toContain('network');
    expect(c.mounts.at(-1)).toEqual({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
    expect(build().mounts.some((m) => m.destination === '/etc/resolv.conf')).toBe(false);
  });

  it('is deterministic', () => {
    expect(build({ limits: { memoryBytes: 64 << 20, cpus: 1 } })).toEqual(build({ limits: { memoryBytes: 64 << 20, cpus: 1 } }));
  });

  it('applies the default seccomp profile for the node\'s architecture and the container\'s capabilities', () => {
    const amd64 = build().linux.seccomp!;
    expect(amd64.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(amd64.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(decide(amd64, 'unshare')).toBe('errno 1');
    expect(decide(amd64, 'arch_prctl')).toBe('allow');
    const arm64 = build({}, HYBRID).linux.seccomp!;
    expect(arm64.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(decide(arm64, 'arch_prctl')).toBe('errno 1');
  });

  it('runs privileged and Unconfined containers without a filter, as Docker does', () => {
    expect(build({ privileged: true }).linux.seccomp).toBeUndefined();
    expect(build({ seccompProfile: { type: 'Unconfined' } }).linux.seccomp).toBeUndefined();
    expect(build({ seccompProfile: { type: 'Unconfined' } }).process.noNewPrivileges).toBe(true);
  });

  it('applies a profile file the caller read, also to a privileged container; never another one in its place', () => {
    const profile = { defaultAction: 'SCMP_ACT_LOG' as const, rules: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 13 }] };
    const withFile = (over: Partial<ContainerSpec>) =>
      buildOciConfig(spec({ seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' }, ...over }), IMAGE, UNIFIED, { rootfsPath: '/r', cgroupsPath: '/grove/x', readRootfsFile: read, seccompProfile: profile });
    expect(withFile({}).linux.seccomp).toEqual({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
    expect(withFile({ privileged: true }).linux.seccomp?.defaultAction).toBe('SCMP_ACT_LOG');
    expect(code(() => build({ seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' } }))).toBe(ErrorCode.ConfigInvalid);
  });

  it('resolves a user name from the image', () => {
    expect(build({}, UNIFIED, { image: { user: 'app' } }).process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [29, 44] });
    expect(code(() => build({ user: 'ghost' }))).toBe(ErrorCode.ConfigInvalid);
  });
});

describe('resolveUser', () => {
  it.each([
    ['', { uid: 0, gid: 0 }],
    ['root', { uid: 0, gid: 0 }],
    ['0', { uid: 0, gid: 0 }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [29, 44] }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [29, 44] }],
    ['daemon', { uid: 1, gid: 1, additionalGids: [29] }],
    ['4242', { uid: 4242, gid: 0 }],
    ['4242:4343', { uid: 4242, gid: 4343 }],
    ['app:video', { uid: 1000, gid: 44 }],
    ['nobody:5', { uid: 65534, gid: 5 }],
  ])('"%s" → %o', (user, expected) => {
    expect(resolveUser(user, read)).toEqual(expected);
  });

  it.each(['ghost', 'app:ghosts', 'a:b:c', 'app:', '99999999999'])('rejects "%s"', (user) => {
    expect(code(() => resolveUser(user, read))).toBe(ErrorCode.ConfigInvalid);
  });

  it('runs as root in an image without /etc/passwd, but cannot resolve names there', () => {
    expect(resolveUser('', () => undefined)).toEqual({ uid: 0, gid: 0 });
    expect(resolveUser('1000:1000', () => undefined)).toEqual({ uid: 1000, gid: 1000 });
    expect(code(() => resolveUser('app', () => undefined))).toBe(ErrorCode.ConfigInvalid);
  });
});

describe('rootfsReader', () => {
  it('reads files inside the rootfs but not through symlinks leading out of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-rootfs-'));
    try {
      const rootfs = join(dir, 'rootfs');
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
      await writeFile(join(dir, 'outside'), 'secret:x:7:7::/:/bin/sh\n');
      await symlink(join(dir, 'outside'), join(rootfs, 'etc/group'));
      const reader = rootfsReader(rootfs);
      expect(reader('/etc/passwd')).toBe(PASSWD);
      expect(reader('/etc/group')).toBeUndefined();
      expect(reader('/etc/missing')).toBeUndefined();
      expect(buildOciConfig(spec({ user: 'app' }), IMAGE, UNIFIED, { rootfsPath: rootfs, cgroupsPath: '/grove/x' }).process.user).toEqual({ uid: 1000, gid: 1000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bind mounts', () => {
  it('binds host directories read-write, without exec, devices or setuid', () => {
    const mounts = build({ mounts: [{ source: '/var/lib/grove/agent/locks/web', destination: '/grove/lock', noExec: true }] }).mounts;
    expect(mounts.at(-1)).toEqual({ destination: '/grove/lock', type: 'bind', source: '/var/lib/grove/agent/locks/web', options: ['rbind', 'rprivate', 'rw', 'nosuid', 'nodev', 'noexec'] });
    expect(build().mounts.some((m) => m.destination === '/grove/lock')).toBe(false);
  });

  it('refuses relative paths', () => {
    expect(() => build({ mounts: [{ source: 'locks/web', destination: '/grove/lock' }] })).toThrow(/must be absolute/);
  });

  it('mounts a parent directory before what lies beneath it, whatever the listed order; otherwise keeps the order', () => {
    const binds = [
      { source: '/v/conf/app.conf', destination: '/etc/app/app.conf' },
      { source: '/v/logs', destination: '/var/log/app' },
      { source: '/v/data', destination: '/etc/app' },
      { source: '/v/x', destination: '/x' },
      { source: '/v/hosts', destination: '/etc/hosts' },
      { source: '/v/etc', destination: '/etc' },
      { source: '/v/x2', destination: '/x' },
    ];
    const listed = (mounts: { destination: string; source: string }[]) => mounts.filter((m) => m.source.startsWith('/v/') || m.source === '/etc/resolv.conf').map((m) => `${m.destination}<${m.source}`);
    expect(listed(build({ mounts: binds }, UNIFIED, { hostNetwork: true }).mounts)).toEqual([
      '/x</v/x',
      '/etc</v/etc',
      '/x</v/x2',
      '/etc/resolv.conf</etc/resolv.conf',
      '/etc/app</v/data',
      '/etc/hosts</v/hosts',
      '/etc/app/app.conf</v/conf/app.conf',
      '/var/log/app</v/logs',
    ]);
    // The runtime's own mounts (/proc, /dev, …) stay first.
    expect(build({ mounts: binds }).mounts[0]!.destination).toBe('/proc');
  });
});

describe('ociConfigJson', () => {
  it('writes 64-bit seccomp masks as exact integers, and nothing else differently', () => {
    const config = build({ env: ['MARK=bigint-00:1', 'N=18446744073709551615'] });
    const text = ociConfigJson(config);
    expect(text).toMatch(/"value": 18446744073709551615,/);
    expect(text).toMatch(/"value": 18446744073709551614,/);
    expect(text).not.toMatch(/bigint-[0-9a-f]{24}:/);
    const parsed = JSON.parse(text) as typeof config;
    expect(parsed.process.env).toEqual(config.process.env);
    expect(parsed.linux.devices).toEqual(config.linux.devices);
    expect(JSON.stringify(parsed.mounts)).toBe(JSON.stringify(config.mounts));
  });
});
