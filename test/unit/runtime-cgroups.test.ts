import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cgroupPaths,
  oomFile,
  readCgroupUsage,
  readContainerStats,
  readCpuLimit,
  readLimits,
  removeCgroup,
  type CgroupHostFacts,
} from '../../agent/src/runtime/cgroups.js';

const CG = '/grove/c1';

const V1: CgroupHostFacts = {
  cgroupVersion: 1,
  cgroupRoot: '/sys/fs/cgroup',
  cgroupMounts: {
    cpu: '/sys/fs/cgroup/cpu,cpuacct',
    cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
    memory: '/sys/fs/cgroup/memory',
    pids: '/sys/fs/cgroup/pids',
    'name=systemd': '/sys/fs/cgroup/systemd',
  },
};
const HYBRID: CgroupHostFacts = { ...V1, unifiedMount: '/sys/fs/cgroup/unified' };
const V2: CgroupHostFacts = { cgroupVersion: 2, cgroupRoot: '/sys/fs/cgroup', cgroupMounts: {}, unifiedMount: '/sys/fs/cgroup' };

let root: string;

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'grove-cg-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('cgroupPaths', () => {
  it('puts v1 files in per-controller hierarchies, honouring co-mounts', () => {
    const p = cgroupPaths(V1, CG);
    expect(p).toMatchObject({
      version: 1,
      memory: '/sys/fs/cgroup/memory/grove/c1',
      cpu: '/sys/fs/cgroup/cpu,cpuacct/grove/c1',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/grove/c1',
      pids: '/sys/fs/cgroup/pids/grove/c1',
    });
    expect(p.all).toEqual(['/sys/fs/cgroup/cpu,cpuacct/grove/c1', '/sys/fs/cgroup/memory/grove/c1', '/sys/fs/cgroup/pids/grove/c1', '/sys/fs/cgroup/systemd/grove/c1']);
  });

  it('falls back to /sys/fs/cgroup/<controller> when a mount is unknown, and includes unified on hybrid', () => {
    const p = cgroupPaths({ ...HYBRID, cgroupMounts: {} }, CG);
    expect(p.pids).toBe('/sys/fs/cgroup/pids/grove/c1');
    expect(p.all).toEqual(['/sys/fs/cgroup/unified/grove/c1']);
  });

  it('uses a single directory on v2', () => {
    expect(cgroupPaths(V2, CG)).toEqual({ version: 2, memory: '/sys/fs/cgroup/grove/c1', cpu: '/sys/fs/cgroup/grove/c1', cpuacct: '/sys/fs/cgroup/grove/c1', pids: '/sys/fs/cgroup/grove/c1', all: ['/sys/fs/cgroup/grove/c1'] });
  });

  it('names the OOM counter file', () => {
    expect(oomFile(V1, CG)).toBe('/sys/fs/cgroup/memory/grove/c1/memory.oom_control');
    expect(oomFile(V2, CG)).toBe('/sys/fs/cgroup/grove/c1/memory.events');
    expect(oomFile(V2, CG, { fsRoot: '/fake' })).toBe('/fake/sys/fs/cgroup/grove/c1/memory.events');
  });
});

describe('reading a v1 tree', () => {
  beforeEach(async () => {
    const mem = 'sys/fs/cgroup/memory/grove/c1';
    await put(`${mem}/memory.usage_in_bytes`, '1589248\n');
    await put(`${mem}/memory.limit_in_bytes`, '33554432\n');
    await put(`${mem}/memory.memsw.limit_in_bytes`, '33554432\n');
    await put(`${mem}/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    await put('sys/fs/cgroup/cpu,cpuacct/grove/c1/cpuacct.usage', '123456789\n');
    await put('sys/fs/cgroup/cpu,cpuacct/grove/c1/cpu.cfs_quota_us', '50000\n');
    await put('sys/fs/cgroup/cpu,cpuacct/grove/c1/cpu.cfs_period_us', '100000\n');
    await put('sys/fs/cgroup/pids/grove/c1/pids.current', '3\n');
    await put('sys/fs/cgroup/pids/grove/c1/pids.max', '64\n');
  });

  it('reads stats', async () => {
    expect(await readContainerStats(V1, CG, { fsRoot: root })).toEqual({ memoryBytes: 1589248, memoryLimitBytes: 33554432, cpuNanos: 123456789, pids: 3, oomKills: 2 });
  });

  it('reads usage for metrics: cumulative CPU, memory less inactive file pages', async () => {
    await put('sys/fs/cgroup/memory/grove/c1/memory.stat', 'cache 90000\ninactive_file 1000\ntotal_inactive_file 589248\n');
    expect(await readCgroupUsage(V1, CG, { fsRoot: root })).toEqual({ cpuNanos: 123456789, memoryWorkingSetBytes: 1000000 });
    await rm(join(root, 'sys/fs/cgroup/cpu,cpuacct/grove/c1/cpuacct.usage'));
    expect(await readCgroupUsage(V1, CG, { fsRoot: root })).toBeUndefined();
  });

  it('reads limits', async () => {
    expect(await readCpuLimit(V1, CG, { fsRoot: root })).toEqual({ quota: 50000, period: 100000 });
    expect(await readLimits(V1, CG, { fsRoot: root })).toEqual({ quota: 50000, period: 100000, memoryBytes: 33554432, swapBytes: 33554432, pidsMax: 64 });
  });

  it('treats the v1 "unlimited" values as no limit', async () => {
    await put('sys/fs/cgroup/memory/grove/c1/memory.limit_in_bytes', '9223372036854771712\n');
    await put('sys/fs/cgroup/cpu,cpuacct/grove/c1/cpu.cfs_quota_us', '-1\n');
    await put('sys/fs/cgroup/pids/grove/c1/pids.max', 'max\n');
    expect((await readContainerStats(V1, CG, { fsRoot: root })).memoryLimitBytes).toBeUndefined();
    expect(await readCpuLimit(V1, CG, { fsRoot: root })).toEqual({ period: 100000 });
    expect((await readLimits(V1, CG, { fsRoot: root })).pidsMax).toBeUndefined();
  });
});

describe('reading a v2 tree', () => {
  beforeEach(async () => {
    const dir = 'sys/fs/cgroup/grove/c1';
    await put(`${dir}/memory.current`, '2097152\n');
    await put(`${dir}/memory.max`, '33554432\n');
    await put(`${dir}/memory.swap.max`, '0\n');
    await put(`${dir}/memory.events`, 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n');
    await put(`${dir}/cpu.stat`, 'usage_usec 4500\nuser_usec 3000\nsystem_usec 1500\n');
    await put(`${dir}/cpu.max`, '50000 100000\n');
    await put(`${dir}/pids.current`, '1\n');
    await put(`${dir}/pids.max`, '64\n');
  });

  it('reads stats, converting cpu usage to nanoseconds', async () => {
    expect(await readContainerStats(V2, CG, { fsRoot: root })).toEqual({ memoryBytes: 2097152, memoryLimitBytes: 33554432, cpuNanos: 4500000, pids: 1, oomKills: 1 });
  });

  it('reads usage for metrics, the working set never below 0', async () => {
    await put('sys/fs/cgroup/grove/c1/memory.stat', 'anon 4096\ninactive_file 97152\n');
    expect(await readCgroupUsage(V2, CG, { fsRoot: root })).toEqual({ cpuNanos: 4500000, memoryWorkingSetBytes: 2000000 });
    await put('sys/fs/cgroup/grove/c1/memory.stat', 'inactive_file 9999999\n');
    expect((await readCgroupUsage(V2, CG, { fsRoot: root }))?.memoryWorkingSetBytes).toBe(0);
  });

  it('reads limits, with "max" meaning none', async () => {
    expect(await readLimits(V2, CG, { fsRoot: root })).toEqual({ quota: 50000, period: 100000, memoryBytes: 33554432, swapBytes: 0, pidsMax: 64 });
    await put('sys/fs/cgroup/grove/c1/cpu.max', 'max 100000\n');
    await put('sys/fs/cgroup/grove/c1/memory.max', 'max\n');
    expect(await readCpuLimit(V2, CG, { fsRoot: root })).toEqual({ period: 100000 });
    expect((await readContainerStats(V2, CG, { fsRoot: root })).memoryLimitBytes).toBeUndefined();
  });
});

describe('a vanished cgroup', () => {
  it('gives empty results instead of throwing', async () => {
    for (const host of [V1, V2]) {
      expect(await readContainerStats(host, '/grove/gone', { fsRoot: root })).toEqual({});
      expect(await readCpuLimit(host, '/grove/gone', { fsRoot: root })).toEqual({});
      expect(await readLimits(host, '/grove/gone', { fsRoot: root })).toEqual({});
    }
  });

  it('is cleaned up where empty and reported where not', async () => {
    await mkdir(join(root, 'sys/fs/cgroup/memory/grove/c1'), { recursive: true });
    await mkdir(join(root, 'sys/fs/cgroup/unified/grove/c1'), { recursive: true });
    await put('sys/fs/cgroup/pids/grove/c1/busy', 'x');
    expect(await removeCgroup(HYBRID, CG, { fsRoot: root })).toEqual([join(root, 'sys/fs/cgroup/pids/grove/c1')]);
    expect(existsSync(join(root, 'sys/fs/cgroup/memory/grove/c1'))).toBe(false);
    expect(existsSync(join(root, 'sys/fs/cgroup/unified/grove/c1'))).toBe(false);
    expect(existsSync(join(root, 'sys/fs/cgroup/memory/grove'))).toBe(true);
  });

  it('refuses to remove a hierarchy root', async () => {
    await mkdir(join(root, 'sys/fs/cgroup/grove'), { recursive: true });
    expect(await removeCgroup(V2, '/', { fsRoot: root })).toEqual([]);
    expect(await removeCgroup(V2, '/grove/../grove', { fsRoot: root })).toEqual([]);
    expect(existsSync(join(root, 'sys/fs/cgroup'))).toBe(true);
    expect(existsSync(join(root, 'sys/fs/cgroup/grove'))).toBe(true);
  });
});
