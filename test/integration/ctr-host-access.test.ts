import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runGrove, removeCtrDataDir, type GroveResult } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Host access with real runc: a block device made for the test (a loop device over a file with
 * known bytes) is readable inside a container that was given it, without --privileged, and
 * the same device is refused by the device cgroup in one that was not; bind mounts, read-only
 * ones, supplementary groups and --privileged.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'grove ctr: devices, volumes, groups, privileged', () => {
  let registry: TestRegistry;
  let dataDir: string;
  let scratch: string;
  let image: string;
  let loop = '';

  const ctr = (args: string[]): Promise<GroveResult> => runGrove(['--data-dir', dataDir, 'ctr', ...args]);
  const run = (flags: string[], script: string) => ctr(['run', '--rm', ...flags, image, 'sh', '-c', script]);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-ctr-access-'));
    scratch = await mkdtemp(join(tmpdir(), 'grove-ctr-access-files-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    const backing = join(scratch, 'sensor.img');
    await writeFile(backing, Buffer.concat([Buffer.from('GROVEDEV'), Buffer.alloc(1024 * 1024 - 8)]));
    loop = execFileSync('losetup', ['--find', '--show', backing]).toString().trim();
  }, 120_000);

  afterAll(async () => {
    if (loop) execFileSync('losetup', ['-d', loop]);
    await removeCtrDataDir(dataDir);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await registry?.stop();
  });

  it('a passed device is usable without privileged; the same device is refused to a container without it', async () => {
    const given = await run(['--device', `${loop}:/dev/sensor:r`], 'head -c 8 /dev/sensor');
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout.trim()).toBe('GROVEDEV');
    // Not given: the node can be made (mknod is allowed, as in Docker) but not opened.
    const major = execFileSync('stat', ['-c', '%t', loop]).toString().trim();
    const minor = execFileSync('stat', ['-c', '%T', loop]).toString().trim();
    const refused = await run([], `mknod /tmp/sensor b ${parseInt(major, 16)} ${parseInt(minor, 16)} && head -c 8 /tmp/sensor`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Operation not permitted/);
    // Read-only permission: writing is refused by the device cgroup.
    const write = await run(['--device', `${loop}:/dev/sensor:r`], 'echo x > /dev/sensor');
    expect(write.code).not.toBe(0);
  });

  it('a device that does not exist is one clear error and nothing is left behind', async () => {
    const before = (await ctr(['ps', '-a', '-q'])).stdout;
    const r = await ctr(['run', '-d', '--device', '/dev/grove-no-such-device', image, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('grove: device /dev/grove-no-such-device does not exist on this node');
    expect((await ctr(['ps', '-a', '-q'])).stdout).toBe(before);
  });

  it('binds host paths, read-only when asked', async () => {
    await writeFile(join(scratch, 'config.txt'), 'from the host\n');
    const r = await run(['-v', `${scratch}:/data`, '-v', `${join(scratch, 'config.txt')}:/etc/app.conf:ro`], 'cat /etc/app.conf && echo written > /data/out.txt && (echo no > /etc/app.conf || echo read-only)');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from the host\nread-only\n');
    expect(execFileSync('cat', [join(scratch, 'out.txt')]).toString()).toBe('written\n');
  });

  it('adds supplementary groups; privileged grants what the default set does not', async () => {
    const groups = await run(['--group-add', '20', '--group-add', '997'], 'id -G');
    expect(groups.code, groups.stderr).toBe(0);
    expect(groups.stdout.trim().split(' ')).toEqual(expect.arrayContaining(['0', '20', '997']));
    // CAP_NET_ADMIN is not in Docker's default set: only the privileged container may add an address.
    const plain = await run([], 'ip link add grovedummy type dummy 2>&1 || echo denied');
    expect(plain.stdout).toContain('denied');
    const privileged = await run(['--privileged'], 'grep CapEff /proc/self/status');
    expect(privileged.code, privileged.stderr).toBe(0);
    // Everything the host lets a process have (this VM's bounding set lacks CAP_SYS_RESOURCE).
    const bounding = /CapBnd:\s*([0-9a-f]+)/.exec(execFileSync('cat', ['/proc/self/status']).toString())![1];
    expect(privileged.stdout.trim()).toBe(`CapEff:\t${bounding}`);
    expect((await run([], 'grep CapEff /proc/self/status')).stdout.trim()).toBe('CapEff:\t00000000a80425fb');
  });
});
