import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/grove-cli.js';
import { describeWith } from '../support/prereq.js';

const PREPARE = join(REPO_ROOT, 'firmware-scripts', 'prepare-image.sh');
const ARCH = ({ x64: 'amd64', arm64: 'arm64', arm: 'armv7' } as Record<string, string>)[process.arch] ?? process.arch;
const BOOT_START = 2048;
const ROOT_START = 34816;
const SECTOR = 512;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function ok(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const bootArg = (img: string) => `${img}@@${BOOT_START * SECTOR}`;
const bootFile = (img: string, name: string) => ok('mtype', ['-i', bootArg(img), `::/${name}`]);

/**
 * A synthetic Raspberry Pi OS image: 64 MB sparse, MBR with a FAT boot partition (cmdline.txt,
 * optionally cloud-init user-data) and a root partition (ext4 unless `rootFs` says otherwise)
 * holding a minimal /etc. Built without loop devices: mkfs at an offset, mtools, mkfs.ext4 -d.
 */
async function buildImage(dir: string, options: { rootFs?: 'ext4' | 'vfat'; cloudInit?: boolean; networkManager?: boolean; elfMachine?: number } = {}): Promise<string> {
  const img = join(dir, 'raspios.img');
  await ok('truncate', ['-s', '64M', img]);
  await ok('sfdisk', ['-q', img], `label: dos\nstart=${BOOT_START}, size=32768, type=c\nstart=${ROOT_START}, type=83\n`);
  await ok('mkfs.vfat', ['--offset', String(BOOT_START), '-n', 'bootfs', img, '16384']);
  await writeFile(join(dir, 'cmdline.txt'), 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n');
  await ok('mcopy', ['-i', bootArg(img), join(dir, 'cmdline.txt'), '::/cmdline.txt']);
  if (options.cloudInit) {
    await writeFile(join(dir, 'user-data'), '#cloud-config\nusers:\n  - name: pi\n    groups: sudo\n');
    await ok('mcopy', ['-i', bootArg(img), join(dir, 'user-data'), '::/user-data']);
  }
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc/systemd/system'), { recursive: true });
  await mkdir(join(rootfs, 'var/lib'), { recursive: true });
  if (options.networkManager !== false) await mkdir(join(rootfs, 'etc/NetworkManager'), { recursive: true });
  if (options.elfMachine !== undefined) {
    // Just an ELF header: what prepare-image.sh reads to learn the image's architecture.
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf.writeUInt16LE(options.elfMachine, 18);
    await mkdir(join(rootfs, 'usr/bin'), { recursive: true });
    await writeFile(join(rootfs, 'usr/bin/env'), elf, { mode: 0o755 });
  }
  await writeFile(join(rootfs, 'etc/hostname'), 'raspberrypi\n');
  await writeFile(join(rootfs, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost\n\n127.0.1.1\traspberrypi\n');
  if (options.rootFs === 'vfat') await ok('mkfs.vfat', ['--offset', String(ROOT_START), img, '40000']);
  else await ok('mkfs.ext4', ['-q', '-F', '-E', `offset=${ROOT_START * SECTOR}`, '-d', rootfs, img, '40M']);
  return img;
}

async function loopsOf(img: string): Promise<string> {
  return (await run('losetup', ['-j', img])).stdout.trim();
}

async function ourMounts(): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes('/grove-image.'));
}

/** Mounts the image's root partition read-only for the duration of `body`, always cleaning up. */
async function withRoot<T>(img: string, dir: string, body: (root: string) => Promise<T>): Promise<T> {
  const loop = (await ok('losetup', ['--find', '--show', '--read-only', '--offset', String(ROOT_START * SECTOR), img])).trim();
  const mnt = join(dir, 'check-root');
  await mkdir(mnt, { recursive: true });
  try {
    await ok('mount', ['-t', 'ext4', '-o', 'ro', loop, mnt]);
    try {
      return await body(mnt);
    } finally {
      await run('umount', [mnt]);
    }
  } finally {
    await run('losetup', ['-d', loop]);
  }
}

describeWith(['root'], 'firmware-scripts/prepare-image.sh on a synthetic two-partition image', () => {
  let dir: string;
  let tarball: string;
  beforeAll(async () => {
    for (const tool of ['sfdisk', 'mkfs.vfat', 'mkfs.ext4', 'mcopy', 'losetup', 'blkid']) {
      const r = await run('sh', ['-c', `command -v ${tool}`]);
      if (r.code !== 0) throw new Error(`${tool} is missing: apt-get install fdisk dosfstools e2fsprogs mtools (firmware-scripts/install-deps.sh --test)`);
    }
    dir = await mkdtemp(join(tmpdir(), 'grove-prepare-image-'));
    // A small stand-in release keeps the 40 MB root partition roomy.
    const top = join(dir, 'release', `grove-9.9.9-linux-${ARCH}`);
    await mkdir(join(top, 'bin'), { recursive: true });
    await writeFile(join(top, 'bin/grove'), '#!/bin/sh\necho grove 9.9.9\n');
    await chmod(join(top, 'bin/grove'), 0o755);
    tarball = join(dir, `grove-9.9.9-linux-${ARCH}.tar.gz`);
    await ok('tar', ['-czf', tarball, '-C', join(dir, 'release'), `grove-9.9.9-linux-${ARCH}`]);
    await writeFile(join(dir, 'SHA256SUMS'), `${createHash('sha256').update(await readFile(tarball)).digest('hex')}  grove-9.9.9-linux-${ARCH}.tar.gz\n`);
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts the cgroup fix, hostname, Grove, join config, first-boot unit, Wi-Fi and cloud-init hostname in place', async () => {
    const work = await mkdtemp(join(dir, 'ok-'));
    const img = await buildImage(work, { cloudInit: true });
    const r = await run('bash', [PREPARE, img, '--server', 'https://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret', '--hostname', 'pi-7', '--label', 'zone=a', '--label', 'tier=edge', '--wifi-ssid', 'HomeNet', '--wifi-psk', 'correct horse', '--wifi-country', 'GB', '--release', tarball]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await loopsOf(img)).toBe('');
    expect(await ourMounts()).toEqual([]);

    // Boot partition.
    const cmdline = await bootFile(img, 'cmdline.txt');
    expect(cmdline).toBe('console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet cgroup_enable=memory cgroup_memory=1 cfg80211.ieee80211_regdom=GB\n');
    expect(await bootFile(img, 'cmdline.txt.grove-bak')).toContain('rootwait quiet\n');
    const userData = await bootFile(img, 'user-data');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain('hostname: pi-7\n');
    expect(userData).toContain('- name: pi\n');

    // Root partition.
    await withRoot(img, work, async (root) => {
      expect(await readFile(join(root, 'etc/hostname'), 'utf8')).toBe('pi-7\n');
      expect(await readFile(join(root, 'etc/hosts'), 'utf8')).toContain('127.0.1.1\tpi-7\n');
      const env = await readFile(join(root, 'etc/grove/agent.env'), 'utf8');
      for (const line of ['GROVE_SERVER_URL=https://10.0.0.2:7080', 'GROVE_TOKEN_FILE=/etc/grove/join-token', 'GROVE_NODE_NAME=pi-7', 'GROVE_LABELS=zone=a,tier=edge']) {
        expect(env.split('\n')).toContain(line);
      }
      expect(env).not.toContain('K1.abc.tokid.secret');
      expect((await stat(join(root, 'etc/grove/agent.env'))).mode & 0o777).toBe(0o600);
      // The token waits in its own file for the first boot's join, which removes it.
      expect(await readFile(join(root, 'etc/grove/join-token'), 'utf8')).toBe('K1.abc.tokid.secret\n');
      expect((await stat(join(root, 'etc/grove/join-token'))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(root, 'opt/grove/bin/grove'), 'utf8')).toContain('grove 9.9.9');
      await stat(join(root, 'opt/grove/firmware-scripts/install.sh'));
      const firstboot = await readFile(join(root, 'etc/systemd/system/grove-firstboot.service'), 'utf8');
      expect(firstboot).toContain('ExecStart=/opt/grove/firmware-scripts/install.sh --role agent\n');
      expect(firstboot).toContain('EnvironmentFile=/etc/grove/agent.env\n');
      expect(await readlink(join(root, 'etc/systemd/system/multi-user.target.wants/grove-firstboot.service'))).toBe('/etc/systemd/system/grove-firstboot.service');
      // grove.service is written but left to the first boot to enable, after apt has run.
      expect(await readFile(join(root, 'etc/systemd/system/grove.service'), 'utf8')).toContain('ExecStart=/opt/grove/bin/grove agent\n');
      await expect(stat(join(root, 'etc/systemd/system/multi-user.target.wants/grove.service'))).rejects.toThrow();
      const wifi = join(root, 'etc/NetworkManager/system-connections/grove-wifi.nmconnection');
      expect(await readFile(wifi, 'utf8')).toMatch(/ssid=HomeNet\n[\s\S]*psk=correct horse\n/);
      expect((await stat(wifi)).mode & 0o777).toBe(0o600);
      expect(await readFile(join(root, 'etc/grove/.installed-files'), 'utf8')).toContain('file /etc/systemd/system/grove-firstboot.service\n');
    });

    // Running it again changes nothing on the boot partition's command line.
    const again = await run('bash', [PREPARE, img, '--server', 'https://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret', '--hostname', 'pi-7', '--release', tarball]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('cmdline.txt unchanged');
    expect(await bootFile(img, 'cmdline.txt')).toBe(cmdline);
    expect(await loopsOf(img)).toBe('');
  }, 300_000);

  it('writes wpa_supplicant.conf on the boot partition for images without NetworkManager', async () => {
    const work = await mkdtemp(join(dir, 'wpa-'));
    const img = await buildImage(work, { networkManager: false });
    const r = await run('bash', [PREPARE, img, '--server', 'http://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret', '--wifi-ssid', 'HomeNet', '--wifi-psk', 'supersecret', '--release', tarball]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await bootFile(img, 'wpa_supplicant.conf')).toContain('ssid="HomeNet"');
    expect(await loopsOf(img)).toBe('');
  }, 300_000);

  it('fails midway on a bad label and on a root partition that is not ext4, leaving no loop device or mount', async () => {
    const work = await mkdtemp(join(dir, 'fail-'));
    const img = await buildImage(work);
    const badLabel = await run('bash', [PREPARE, img, '--server', 'https://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret', '--label', 'not a label', '--release', tarball]);
    expect(badLabel.code).not.toBe(0);
    expect(badLabel.stderr).toContain('is not key=value');
    expect(badLabel.stderr).toContain('was not prepared (nothing is left mounted)');
    expect(await loopsOf(img)).toBe('');
    expect(await ourMounts()).toEqual([]);

    const work2 = await mkdtemp(join(dir, 'notext4-'));
    const fatRoot = await buildImage(work2, { rootFs: 'vfat' });
    const r = await run('bash', [PREPARE, fatRoot, '--server', 'https://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret', '--release', tarball]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('second partition is vfat, expected the ext4 root');
    expect(await loopsOf(fatRoot)).toBe('');
    expect(await ourMounts()).toEqual([]);

    // From a checkout, a shim of the wrong architecture is refused (the image is "the other" arch).
    const work3 = await mkdtemp(join(dir, 'arch-'));
    const foreign = await buildImage(work3, { elfMachine: process.arch === 'arm64' ? 62 : 183 });
    const wrongArch = await run('bash', [PREPARE, foreign, '--server', 'https://10.0.0.2:7080', '--token', 'K1.abc.tokid.secret']);
    expect(wrongArch.code).not.toBe(0);
    expect(wrongArch.stderr).toMatch(/grove-shim is built for \S+, the image is (arm64|amd64): pass --release/);
    expect(await loopsOf(foreign)).toBe('');
    expect(await ourMounts()).toEqual([]);

    const missing = await run('bash', [PREPARE, img, '--server', 'https://10.0.0.2:7080']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--server URL and --token TOKEN are required');
  }, 300_000);
});
