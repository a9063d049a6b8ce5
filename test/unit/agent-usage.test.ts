import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyCpuNanos, MIN_WINDOW_MS, nanocores, UsageSampler, usageBetween, type UsageSnapshot } from '../../agent/src/agent/usage.js';
import type { ContainerUsageSample, ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus } from '../../src/core/wire-types.js';
import { ManualClock } from '../support/manual-clock.js';

const managed = (id: string, pod: string, container: string, namespace?: string): ManagedContainer => ({
  id,
  name: `${pod}_${container}`,
  labels: { 'grove.managed': 'agent', 'grove.pod': pod, 'grove.app': pod, 'grove.container': container, 'grove.template-hash': 'h', ...(namespace ? { 'grove.namespace': namespace } : {}) },
  image: 'img',
  state: 'running',
  exitCode: null,
  oomKilled: false,
  createdAt: '2025-01-01T00:00:00Z',
});

const snap = (atMs: number, nodeCpuNanos: number, containers: ContainerUsageSample[]): UsageSnapshot => ({ atMs, nodeCpuNanos, nodeMemoryBytes: 512 * 1024 ** 2, containers });

describe('usage rates', () => {
  it('turns cumulative CPU into nanocores over the window, never negative', () => {
    expect(nanocores(0, 15e9, 15_000)).toBe(1e9); // one core busy
    expect(nanocores(1e9, 1.25e9, 1000)).toBe(250_000_000);
    expect(nanocores(5e9, 1e9, 1000)).toBe(0); // counter reset (container restarted)
  });

  it('reports containers seen in both samples, grouped by pod, namespace only when not default', () => {
    const containers = [managed('a', 'web-1', 'main'), managed('b', 'web-1', 'side'), managed('c', 'db-1', 'main', 'shop'), managed('d', 'new-1', 'main')];
    const before = snap(0, 10e9, [
      { id: 'a', cpuNanos: 1e9, memoryWorkingSetBytes: 1 },
      { id: 'b', cpuNanos: 0, memoryWorkingSetBytes: 1 },
      { id: 'c', cpuNanos: 0, memoryWorkingSetBytes: 1 },
    ]);
    const after = snap(10_000, 30e9, [
      { id: 'a', cpuNanos: 6e9, memoryWorkingSetBytes: 8 * 1024 ** 2 },
      { id: 'b', cpuNanos: 1e8, memoryWorkingSetBytes: 4096 },
      { id: 'c', cpuNanos: 2e9, memoryWorkingSetBytes: 100 },
      { id: 'd', cpuNanos: 1e9, memoryWorkingSetBytes: 100 },
    ]);
    expect(usageBetween(before, after, containers)).toEqual({
      windowMs: 10_000,
      cpu: 2e9,
      memory: 512 * 1024 ** 2,
      pods: [
        { name: 'web-1', containers: [['main', 500_000_000, 8 * 1024 ** 2], ['side', 10_000_000, 4096]] },
        { name: 'db-1', namespace: 'shop', containers: [['main', 200_000_000, 100]] },
      ],
    });
  });

  it('reads busy CPU time from /proc/stat without idle and iowait', () => {
    expect(busyCpuNanos('cpu  100 0 50 1000 30 5 5 0 0 0\ncpu0 100 0 50 1000 30 5 5 0 0 0\n')).toBe(160 * 1e7);
    expect(busyCpuNanos('nonsense')).toBeUndefined();
  });
});

describe('UsageSampler', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-usage-'));
    await writeFile(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports nothing from the first sample, rates from the second, and reuses them for a status soon after', async () => {
    const clock = new ManualClock(0);
    let cpu = 0;
    let ticks = 0;
    const runtime = { list: async () => [managed('a', 'web-1', 'main')], usage: async () => [{ id: 'a', cpuNanos: cpu, memoryWorkingSetBytes: 1024 }] };
    const sampler = new UsageSampler({ runtime, clock, procStatPath: join(dir, 'stat'), meminfoPath: join(dir, 'meminfo') });
    const stat = () => writeFile(join(dir, 'stat'), `cpu  ${ticks} 0 0 0 0 0 0 0 0 0\n`);
    await stat();
    expect(await sampler.sample()).toBeUndefined();
    clock.advance(15_000);
    cpu = 15e9;
    ticks = 3000; // 30 s of CPU in 15 s: two cores
    await stat();
    const second = await sampler.sample();
    expect(second).toMatchObject({ windowMs: 15_000, cpu: 2e9, pods: [{ name: 'web-1', containers: [['main', 1e9, 1024]] }] });
    clock.advance(MIN_WINDOW_MS - 1);
    cpu = 99e9;
    expect(await sampler.sample()).toBe(second);
  });

  it('costs a few dozen bytes per status (figure for docs/kubectl.md)', () => {
    const base: NodeStatus = {
      schema: 1,
      node: 'pi-1',
      seq: 1,
      observedRevision: 5,
      heartbeat: true,
      facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4e9, memoryAvailableBytes: 2e9, diskFreeBytes: 1e10, kernel: '6.1', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: '0.2.0', labels: {} },
      pods: [],
      sentAt: '2025-01-01T00:00:00.000Z',
    };
    const pods = Array.from({ length: 10 }, (_, i) => ({ name: `web-5f6c9d8b7c-x2k4${i}`, containers: [['main', 123_456_789, 34_567_890] as [string, number, number]] }));
    const usage = { windowMs: 15_012, cpu: 1_234_567_890, memory: 1_987_654_321, pods };
    const without = encodeMessage(base).length;
    const withUsage = encodeMessage({ ...base, usage }).length;
    const nodeOnly = encodeMessage({ ...base, usage: { ...usage, pods: [] } }).length - without;
    const perPod = (withUsage - without - nodeOnly) / pods.length;
    expect(nodeOnly).toBeLessThanOrEqual(48);
    expect(perPod).toBeLessThanOrEqual(64);
    // What the server decodes is what was sent.
    expect(decodeNodeStatus(encodeMessage({ ...base, usage })).usage).toEqual(usage);
    console.log(`usage in a node status: ${nodeOnly} bytes + ${perPod} bytes per one-container pod`);
  });
});
