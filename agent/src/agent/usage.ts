/**
 * What the node and its containers use, for metrics.k8s.io (`kubectl top`), carried in the node
 * status (WireNodeUsage): no message of its own, nothing written anywhere. CPU is cumulative in
 * the kernel's counters, so a rate needs two samples: each status compares the counters with
 * the previous sample's (at least MIN_WINDOW_MS apart, so a burst of statuses does not turn
 * jitter into a rate); memory is the working set at the moment of the sample.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Clock } from '../../../src/core/clock.js';
import type { WireNodeUsage, WirePodUsage } from '../../../src/core/objects/wire.js';
import { memoryAvailable } from './facts.js';
import { Labels, namespaceOfContainer, type ContainerUsageSample, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
import { DEFAULT_NAMESPACE } from './plan/pod-fields.js';

/** Statuses closer together than this reuse the last rates (heartbeats are 15 s apart). */
export const MIN_WINDOW_MS = 5_000;

/** One reading of the counters. */
export interface UsageSnapshot {
  atMs: number;
  /** The node's busy CPU time since boot, in nanoseconds. */
  nodeCpuNanos: number;
  nodeMemoryBytes: number;
  containers: readonly ContainerUsageSample[];
}

/** CPU time over wall time, in nanocores (1e9 = one core busy); 0 when a counter went backwards (a restart). */
export function nanocores(cpuNanosBefore: number, cpuNanosAfter: number, windowMs: number): number {
  if (windowMs <= 0 || cpuNanosAfter < cpuNanosBefore) return 0;
  return Math.round(((cpuNanosAfter - cpuNanosBefore) * 1000) / windowMs);
}

/**
 * The usage between two snapshots: PURE. A container is reported once it appears in both
 * (metrics-server waits for two scrapes too); `containers` names each one's pod and container.
 */
export function usageBetween(before: UsageSnapshot, after: UsageSnapshot, containers: readonly ManagedContainer[]): WireNodeUsage {
  const windowMs = Math.max(1, after.atMs - before.atMs);
  const earlier = new Map(before.containers.map((c) => [c.id, c]));
  const byId = new Map(containers.map((c) => [c.id, c]));
  const pods = new Map<string, WirePodUsage>();
  for (const sample of after.containers) {
    const prev = earlier.get(sample.id);
    const c = byId.get(sample.id);
    if (!prev || !c) continue;
    const namespace = namespaceOfContainer(c);
    const name = c.labels[Labels.pod];
    const key = `${namespace}/${name}`;
    let pod = pods.get(key);
    if (!pod) pods.set(key, (pod = { name, ...(namespace !== DEFAULT_NAMESPACE ? { namespace } : {}), containers: [] }));
    pod.containers.push([c.labels[Labels.container], nanocores(prev.cpuNanos, sample.cpuNanos, windowMs), sample.memoryWorkingSetBytes]);
  }
  return {
    windowMs,
    cpu: nanocores(before.nodeCpuNanos, after.nodeCpuNanos, windowMs),
    memory: after.nodeMemoryBytes,
    pods: [...pods.values()],
  };
}

/** The busy time of the first `cpu` line of /proc/stat (everything but idle and iowait), in nanoseconds. */
export function busyCpuNanos(procStat: string, ticksPerSecond = 100): number | undefined {
  const m = /^cpu\s+([\d\s]+)$/m.exec(procStat);
  if (!m) return undefined;
  const ticks = m[1]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return Number.isFinite(busy) ? Math.round((busy * 1e9) / ticksPerSecond) : undefined;
}

export interface UsageSamplerOptions {
  runtime: Pick<NodeRuntime, 'list' | 'usage'>;
  clock: Clock;
  /** Injectable for tests; default /proc/stat and /proc/meminfo. */
  procStatPath?: string;
  meminfoPath?: string;
}

/** Samples at each status; returns the usage since the previous sample (undefined for the first). */
export class UsageSampler {
  private previous: UsageSnapshot | undefined;
  private last: WireNodeUsage | undefined;

  constructor(private readonly opts: UsageSamplerOptions) {}

  async sample(): Promise<WireNodeUsage | undefined> {
    const atMs = this.opts.clock.now();
    if (this.previous && atMs - this.previous.atMs < MIN_WINDOW_MS) return this.last;
    const runtime = this.opts.runtime;
    if (!runtime.usage) return undefined;
    const [procStat, available, samples, containers] = await Promise.all([
      readFile(this.opts.procStatPath ?? '/proc/stat', 'utf8').catch(() => ''),
      memoryAvailable(this.opts.meminfoPath),
      runtime.usage(),
      runtime.list(),
    ]);
    const nodeCpuNanos = busyCpuNanos(procStat);
    if (nodeCpuNanos === undefined) return undefined;
    const now: UsageSnapshot = { atMs, nodeCpuNanos, nodeMemoryBytes: Math.max(0, os.totalmem() - available), containers: samples };
    const before = this.previous;
    this.previous = now;
    this.last = before ? usageBetween(before, now, containers) : undefined;
    return this.last;
  }
}
