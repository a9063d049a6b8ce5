import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { detectHost, parseLimits, parseMountInfo } from '../../agent/src/runtime/host.js';

const HYBRID_MOUNTINFO = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`;

// Raspberry Pi OS bookworm: pure v2.
const UNIFIED_MOUNTINFO = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
28 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

// Older Raspbian: v1 only, cpu and cpuacct co-mounted.
const LEGACY_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
`;

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max stack size            8388608              unlimited            bytes     
Max processes             96365                96365                processes 
Max open files            1024                 20000                files     
Max nice priority         0                    0                    
`;

let root: string;

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'grove-host-'));
  await put('proc/self/limits', LIMITS);
  await put('proc/filesystems', 'nodev\tsysfs\nnodev\tproc\n\text4\nnodev\toverlay\n');
  await put('proc/sys/kernel/osrelease', '6.1.21-v8+\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detectHost', () => {
  it('recognises a hybrid host (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)', async () => {
    await put('proc/self/mountinfo', HYBRID_MOUNTINFO);
    await put('sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '9223372036854771712\n');
    const host = await detectHost(root);
    expect(host).toMatchObject({
      cgroupVersion: 1,
      cgroupMode: 'hybrid',
      cgroupRoot: '/sys/fs/cgroup',
      controllers: ['cpu', 'cpuacct', 'memory', 'pids'],
      unifiedMount: '/sys/fs/cgroup/unified',
      memorySwapSupported: true,
      nofileHardLimit: 20000,
      overlaySupported: true,
      kernel: '6.1.21-v8+',
    });
    expect(host.cgroupMounts).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
      'name=systemd': '/sys/fs/cgroup/systemd',
    });
    expect(['amd64', 'arm64', 'arm']).toContain(host.arch);
  });

  it('recognises a unified (pure v2) host and reads its controllers', async () => {
    await put('proc/self/mountinfo', UNIFIED_MOUNTINFO);
    await put('proc/self/cgroup', '0::/system.slice/grove.service\n');
    await put('sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids\n');
    await put('sys/fs/cgroup/system.slice/grove.service/memory.swap.max', 'max\n');
    const host = await detectHost(root);
    expect(host).toMatchObject({
      cgroupVersion: 2,
      cgroupMode: 'unified',
      controllers: ['cpu', 'cpuset', 'io', 'memory', 'pids'],
      cgroupMounts: {},
      unifiedMount: '/sys/fs/cgroup',
      memorySwapSupported: true,
    });
  });

  it('on v2 finds swap support in a child of the root when we sit in the root cgroup', async () => {
    await put('proc/self/mountinfo', UNIFIED_MOUNTINFO);
    await put('proc/self/cgroup', '0::/\n');
    await put('sys/fs/cgroup/cgroup.controllers', 'memory pids\n');
    await put('sys/fs/cgroup/init.scope/memory.swap.max', 'max\n');
    expect((await detectHost(root)).memorySwapSupported).toBe(true);
  });

  it('reports no swap accounting on v2 without memory.swap.max (swapaccount=0)', async () => {
    await put('proc/self/mountinfo', UNIFIED_MOUNTINFO);
    await put('proc/self/cgroup', '0::/system.slice/grove.service\n');
    await put('sys/fs/cgroup/cgroup.controllers', 'cpu memory pids\n');
    await put('sys/fs/cgroup/system.slice/grove.service/memory.max', 'max\n');
    expect((await detectHost(root)).memorySwapSupported).toBe(false);
  });

  it('recognises a legacy (v1 only) host with co-mounted cpu,cpuacct and no memsw', async () => {
    await put('proc/self/mountinfo', LEGACY_MOUNTINFO);
    await put('proc/filesystems', 'nodev\tproc\n\text4\n');
    const host = await detectHost(root);
    expect(host).toMatchObject({ cgroupVersion: 1, cgroupMode: 'legacy', controllers: ['cpu', 'cpuacct', 'memory', 'pids'], memorySwapSupported: false, overlaySupported: false });
    expect(host.unifiedMount).toBeUndefined();
    expect(host.cgroupMounts.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(host.cgroupMounts.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(host.cgroupMounts['name=systemd']).toBe('/sys/fs/cgroup/systemd');
  });

  it('fails clearly when no cgroup filesystem is mounted', async () => {
    await put('proc/self/mountinfo', '22 1 0:21 / /proc rw - proc proc rw\n');
    await expect(detectHost(root)).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
  });

  it('leaves nofileHardLimit unset when /proc/self/limits is unreadable', async () => {
    await put('proc/self/mountinfo', UNIFIED_MOUNTINFO);
    await rm(join(root, 'proc/self/limits'));
    const host = await detectHost(root);
    expect(host.nofileHardLimit).toBeUndefined();
    expect(host.rlimits).toEqual({});
  });

  it('works on this machine', async () => {
    const host = await detectHost();
    expect(['legacy', 'hybrid', 'unified']).toContain(host.cgroupMode);
    expect(host.nofileHardLimit).toBeGreaterThan(0);
  });
});

describe('host file parsers', () => {
  it('parses /proc/self/limits', () => {
    expect(parseLimits(LIMITS)).toEqual({
      RLIMIT_CPU: { soft: 'unlimited', hard: 'unlimited' },
      RLIMIT_STACK: { soft: 8388608, hard: 'unlimited' },
      RLIMIT_NPROC: { soft: 96365, hard: 96365 },
      RLIMIT_NOFILE: { soft: 1024, hard: 20000 },
      RLIMIT_NICE: { soft: 0, hard: 0 },
    });
  });

  it('parses mountinfo with optional fields and escaped mount points', () => {
    const [m] = parseMountInfo('36 35 98:0 /mnt1 /mnt\\040with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    expect(m).toEqual({ mountPoint: '/mnt with space', fsType: 'ext3', superOptions: ['rw', 'errors=continue'] });
  });
});
