import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { checkNodeIp, diskFree, gatherFacts, memoryAvailable, nodeAddresses, ociArch, osImage, processCounts } from '../../agent/src/agent/facts.js';

describe('node facts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-facts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps Node architecture names to OCI ones', () => {
    expect(['x64', 'arm64', 'arm', 'ia32', 'riscv64', 'weird'].map(ociArch)).toEqual(['amd64', 'arm64', 'arm', '386', 'riscv64', 'weird']);
  });

  it('reads MemAvailable from meminfo, falling back to free memory', async () => {
    const meminfo = join(dir, 'meminfo');
    await writeFile(meminfo, 'MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    2000000 kB\n');
    expect(await memoryAvailable(meminfo)).toBe(2_000_000 * 1024);
    expect(await memoryAvailable(join(dir, 'missing'))).toBeGreaterThan(0);
  });

  it('measures free disk where the data dir is, 0 when it does not exist', async () => {
    expect(await diskFree(dir)).toBeGreaterThan(0);
    expect(await diskFree(join(dir, 'nope'))).toBe(0);
  });

  it('gathers everything NodeFacts holds', async () => {
    const facts = await gatherFacts({ dataDir: dir, ociRuntime: 'runc', cgroupVersion: 1, agentVersion: '0.1.0', labels: { zone: 'a', 'node.grove.io/sensor': 'bme280' } });
    expect(facts).toMatchObject({ arch: ociArch(os.arch()), os: 'linux', kernel: os.release(), ociRuntime: 'runc', cgroupVersion: 1, agentVersion: '0.1.0' });
    // Only the node's own prefix is reported: zone=a labelled the node at its first join.
    expect(facts.labels).toEqual({ 'node.grove.io/sensor': 'bme280' });
    expect(facts.cpus).toBeGreaterThan(0);
    expect(facts.memoryBytes).toBe(os.totalmem());
    expect(facts.memoryAvailableBytes).toBeGreaterThan(0);
    expect(facts.memoryAvailableBytes).toBeLessThanOrEqual(facts.memoryBytes);
    expect(facts.diskTotalBytes).toBeGreaterThanOrEqual(facts.diskFreeBytes);
    expect(facts.addresses).toContainEqual({ type: 'Hostname', address: os.hostname() });
  });

  it('addresses: the first IPv4 of a physical-looking interface as InternalIP, then the hostname', () => {
    const v4 = (address: string, internal = false) => ({ address, family: 'IPv4' as const, internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
    const interfaces = { lo: [v4('127.0.0.1', true)], cni0: [v4('10.42.0.1')], vethab12: [v4('10.42.0.9')], wlan0: [v4('192.168.1.23')], eth0: [v4('192.168.1.10')] };
    expect(nodeAddresses(interfaces, 'pi-1')).toEqual([{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'pi-1' }]);
    expect(nodeAddresses({ lo: [v4('127.0.0.1', true)] }, 'pi-1')).toEqual([{ type: 'Hostname', address: 'pi-1' }]);
  });

  it('--node-ip picks the InternalIP among several, and must be an address of this host', () => {
    const v4 = (address: string, internal = false) => ({ address, family: 'IPv4' as const, internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
    const interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.168.1.10')], wlan0: [v4('192.168.2.20')] };
    expect(nodeAddresses(interfaces, 'pi-1', '192.168.2.20')).toEqual([{ type: 'InternalIP', address: '192.168.2.20' }, { type: 'Hostname', address: 'pi-1' }]);
    expect(() => checkNodeIp('192.168.2.20', interfaces)).not.toThrow();
    expect(() => checkNodeIp('192.168.9.9', interfaces)).toThrow('--node-ip 192.168.9.9 is not an IPv4 address of this host (its addresses: 192.168.1.10, 192.168.2.20)');
    expect(() => checkNodeIp('127.0.0.1', interfaces)).toThrow(/is not an IPv4 address of this host/);
  });

  it('osImage from os-release PRETTY_NAME; process counts from /proc', async () => {
    await writeFile(join(dir, 'os-release'), 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
    expect(await osImage(join(dir, 'os-release'))).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(await osImage(join(dir, 'missing'))).toBeUndefined();
    const proc = join(dir, 'proc');
    await mkdir(join(proc, 'sys', 'kernel'), { recursive: true });
    await writeFile(join(proc, 'loadavg'), '0.10 0.20 0.30 2/523 4242\n');
    await writeFile(join(proc, 'sys', 'kernel', 'pid_max'), '32768\n');
    expect(await processCounts(proc)).toEqual({ processes: 523, processesMax: 32768 });
    expect(await processCounts(join(dir, 'none'))).toBeUndefined();
  });
});

describe('ManualClock', () => {
  it('fires due timers in time order, including ones scheduled while firing', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 5);
    clock.setTimeout(() => {
      fired.push('a@10');
      clock.setTimeout(() => fired.push('c@15'), 5);
    }, 10);
    clock.clearTimeout(cancelled);
    clock.advance(19);
    expect(fired).toEqual(['a@10', 'c@15']);
    expect(clock.now()).toBe(19);
    expect(clock.nextAt()).toBe(20);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.pending()).toBe(0);
  });
});
