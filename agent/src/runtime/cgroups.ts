import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostFacts } from './host.js';

/**
 * Where a container's cgroup files are, and what they say. The runtime creates and configures
 * the cgroups; Grove only reads them (stats, OOM, limits) and cleans up leftovers. Every reader
 * tolerates a vanished cgroup (the container may exit at any moment): missing → undefined.
 */

export type CgroupHostFacts = Pick<HostFacts, 'cgroupVersion' | 'cgroupRoot' | 'cgroupMounts' | 'unifiedMount'>;

export interface CgroupFsOptions {
  /** Prefix for every path, so unit tests can use fake /sys trees. */
  fsRoot?: string;
}

export interface CgroupPaths {
  version: 1 | 2;
  memory: string;
  cpu: string;
  cpuacct: string;
  pids: string;
  /** Every directory the runtime creates for this cgroup (one per v1 hierarchy), for cleanup. */
  all: string[];
}

export interface ContainerStats {
  /** Usage including page cache, as the kernel counts it against the limit. */
  memoryBytes?: number;
  /** Undefined when unlimited. */
  memoryLimitBytes?: number;
  cpuNanos?: number;
  pids?: number;
  oomKills?: number;
}

export interface CpuLimit {
  /** Microseconds per period; undefined when unlimited. */
  quota?: number;
  period?: number;
}

export interface CgroupLimits extends CpuLimit {
  memoryBytes?: number;
  /** v1 memory+swap (memsw) or v2 swap-only (swap.max), as the files say. */
  swapBytes?: number;
  pidsMax?: number;
}

// v1 reports "unlimited" as a page-rounded LONG_MAX; anything this large means no limit.
const V1_UNLIMITED = 2 ** 62;

export function cgroupPaths(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): CgroupPaths {
  const root = opts.fsRoot ?? '/';
  if (host.cgroupVersion === 2) {
    const dir = join(root, host.unifiedMount ?? host.cgroupRoot, cgroupsPath);
    return { version: 2, memory: dir, cpu: dir, cpuacct: dir, pids: dir, all: [dir] };
  }
  // Like runc with the cgroupfs driver: an absolute cgroupsPath is below each hierarchy's mount.
  const at = (controller: string): string =>
    join(root, host.cgroupMounts[controller] ?? join(host.cgroupRoot, controller), cgroupsPath);
  const all = [...new Set(Object.values(host.cgroupMounts))].map((m) => join(root, m, cgroupsPath));
  // In hybrid mode runc also places the container in the (controller-less) unified hierarchy.
  if (host.unifiedMount) all.push(join(root, host.unifiedMount, cgroupsPath));
  return { version: 1, memory: at('memory'), cpu: at('cpu'), cpuacct: at('cpuacct'), pids: at('pids'), all };
}

/** The file whose "oom_kill N" line counts kernel OOM kills in the container's cgroup. */
export function oomFile(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): string {
  const p = cgroupPaths(host, cgroupsPath, opts);
  return join(p.memory, p.version === 2 ? 'memory.events' : 'memory.oom_control');
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const text = (await readText(path))?.trim();
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** A "key value" line from memory.events, memory.oom_control, cpu.stat. */
export function keyedValue(text: string | undefined, key: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** v2 "max" or a number. */
async function readMax(path: string): Promise<number | undefined> {
  const text = (await readText(path))?.trim();
  return text && /^\d+$/.test(text) ? Number(text) : undefined;
}

function v1Limit(n: number | undefined): number | undefined {
  return n === undefined || n < 0 || n >= V1_UNLIMITED ? undefined : n;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export async function readContainerStats(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): Promise<ContainerStats> {
  const p = cgroupPaths(host, cgroupsPath, opts);
  if (p.version === 2) {
    const [memoryBytes, memoryLimitBytes, cpuStat, pids, events] = await Promise.all([
      readNumber(join(p.memory, 'memory.current')),
      readMax(join(p.memory, 'memory.max')),
      readText(join(p.cpu, 'cpu.stat')),
      readNumber(join(p.pids, 'pids.current')),
      readText(join(p.memory, 'memory.events')),
    ]);
    const usec = keyedValue(cpuStat, 'usage_usec');
    return defined({
      memoryBytes,
      memoryLimitBytes,
      cpuNanos: usec === undefined ? undefined : usec * 1000,
      pids,
      oomKills: keyedValue(events, 'oom_kill'),
    });
  }
  const [memoryBytes, limit, cpuNanos, pids, oomControl] = await Promise.all([
    readNumber(join(p.memory, 'memory.usage_in_bytes')),
    readNumber(join(p.memory, 'memory.limit_in_bytes')),
    readNumber(join(p.cpuacct, 'cpuacct.usage')),
    readNumber(join(p.pids, 'pids.current')),
    readText(join(p.memory, 'memory.oom_control')),
  ]);
  return defined({ memoryBytes, memoryLimitBytes: v1Limit(limit), cpuNanos, pids, oomKills: keyedValue(oomControl, 'oom_kill') });
}

/** What metrics show of a container: cumulative CPU and the memory working set. */
export interface CgroupUsage {
  cpuNanos: number;
  /** Usage less inactive file pages (clamped at 0): the figure Kubernetes' metrics report. */
  memoryWorkingSetBytes: number;
}

/** Reads a container's usage; undefined when its cgroup is gone or a figure is missing. */
export async function readCgroupUsage(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): Promise<CgroupUsage | undefined> {
  const p = cgroupPaths(host, cgroupsPath, opts);
  const v2 = p.version === 2;
  const [memory, memoryStat, cpu] = await Promise.all([
    readNumber(join(p.memory, v2 ? 'memory.current' : 'memory.usage_in_bytes')),
    readText(join(p.memory, 'memory.stat')),
    v2 ? readText(join(p.cpu, 'cpu.stat')).then((t) => keyedValue(t, 'usage_usec')).then((u) => (u === undefined ? undefined : u * 1000)) : readNumber(join(p.cpuacct, 'cpuacct.usage')),
  ]);
  if (memory === undefined || cpu === undefined) return undefined;
  // v1 counts the hierarchy's inactive file pages as total_inactive_file; v2 as inactive_file.
  const inactive = keyedValue(memoryStat, v2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
  return { cpuNanos: cpu, memoryWorkingSetBytes: Math.max(0, memory - inactive) };
}

export async function readCpuLimit(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): Promise<CpuLimit> {
  const p = cgroupPaths(host, cgroupsPath, opts);
  if (p.version === 2) {
    // cpu.max: "<quota|max> <period>"
    const [quota, period] = ((await readText(join(p.cpu, 'cpu.max'))) ?? '').trim().split(/\s+/);
    return defined({
      quota: quota && /^\d+$/.test(quota) ? Number(quota) : undefined,
      period: period && /^\d+$/.test(period) ? Number(period) : undefined,
    });
  }
  const [quota, period] = await Promise.all([readNumber(join(p.cpu, 'cpu.cfs_quota_us')), readNumber(join(p.cpu, 'cpu.cfs_period_us'))]);
  return defined({ quota: quota === undefined || quota < 0 ? undefined : quota, period });
}

/** The limits the runtime actually wrote, read back from the cgroup files. */
export async function readLimits(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): Promise<CgroupLimits> {
  const p = cgroupPaths(host, cgroupsPath, opts);
  const cpu = await readCpuLimit(host, cgroupsPath, opts);
  if (p.version === 2) {
    const [memoryBytes, swapBytes, pidsMax] = await Promise.all([
      readMax(join(p.memory, 'memory.max')),
      readMax(join(p.memory, 'memory.swap.max')),
      readMax(join(p.pids, 'pids.max')),
    ]);
    return defined({ ...cpu, memoryBytes, swapBytes, pidsMax });
  }
  const [memoryBytes, swapBytes, pidsMax] = await Promise.all([
    readNumber(join(p.memory, 'memory.limit_in_bytes')),
    readNumber(join(p.memory, 'memory.memsw.limit_in_bytes')),
    readMax(join(p.pids, 'pids.max')),
  ]);
  return defined({ ...cpu, memoryBytes: v1Limit(memoryBytes), swapBytes: v1Limit(swapBytes), pidsMax });
}

/**
 * Removes the container's cgroup directories the runtime left behind (it normally removes them
 * on delete). Returns those that could not be removed (still busy); never throws.
 */
export async function removeCgroup(host: CgroupHostFacts, cgroupsPath: string, opts: CgroupFsOptions = {}): Promise<string[]> {
  const left: string[] = [];
  // Never aim rmdir at a hierarchy's root (or above it).
  if (/^\/*$/.test(cgroupsPath) || cgroupsPath.split('/').includes('..')) return left;
  for (const dir of cgroupPaths(host, cgroupsPath, opts).all) {
    try {
      await rmdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}
