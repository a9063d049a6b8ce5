import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enableMemoryCgroup, findCmdline, fixCmdlineFile, memoryCgroupDisabled } from '../../src/cli/check/cmdline.js';

// Real cmdline.txt lines: Raspberry Pi OS Bookworm, Bullseye (with a first-boot init), Ubuntu.
const BOOKWORM = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB\n';
const BULLSEYE_FIRSTBOOT = 'console=serial0,115200 console=tty1 root=PARTUUID=738a4d67-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspi-config/init_resize.sh';
const UBUNTU = 'console=serial0,115200 dwc_otg.lpm_enable=0 console=tty1 root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet splash\n';
const MEMORY = ' cgroup_enable=memory cgroup_memory=1';

function fix(text: string): string {
  const once = enableMemoryCgroup(text);
  // Idempotent: the result needs no further change.
  const twice = enableMemoryCgroup(once.text);
  expect(twice).toEqual({ text: once.text, changed: false });
  expect(once.text.endsWith('\n') || !once.changed).toBe(true);
  expect(once.text.trimEnd().split('\n')).toHaveLength(1);
  return once.text;
}

describe('enableMemoryCgroup (cmdline.txt)', () => {
  it('appends the two arguments to a stock Bookworm line, keeping one line', () => {
    expect(fix(BOOKWORM)).toBe(BOOKWORM.trimEnd() + MEMORY + '\n');
  });

  it('handles a line without a trailing newline (Bullseye)', () => {
    expect(fix(BULLSEYE_FIRSTBOOT)).toBe(BULLSEYE_FIRSTBOOT + MEMORY + '\n');
  });

  it('leaves an already enabled line byte for byte alone', () => {
    const enabled = UBUNTU.trimEnd() + MEMORY + '\n';
    expect(enableMemoryCgroup(enabled)).toEqual({ text: enabled, changed: false });
    // Order and neighbours do not matter, and CRLF is left alone when nothing changes.
    const reordered = 'cgroup_memory=1 console=tty1 cgroup_enable=memory root=/dev/mmcblk0p2 rootwait\r\n';
    expect(enableMemoryCgroup(reordered)).toEqual({ text: reordered, changed: false });
  });

  it('adds only what is missing', () => {
    expect(fix('root=/dev/mmcblk0p2 cgroup_enable=memory rootwait\n')).toBe('root=/dev/mmcblk0p2 cgroup_enable=memory rootwait cgroup_memory=1\n');
  });

  it('removes cgroup_disable=memory, and only memory from a list', () => {
    expect(fix('console=tty1 cgroup_disable=memory root=/dev/mmcblk0p2 rootwait\n')).toBe('console=tty1 root=/dev/mmcblk0p2 rootwait' + MEMORY + '\n');
    expect(fix('console=tty1 cgroup_disable=cpuset,memory rootwait\n')).toBe('console=tty1 cgroup_disable=cpuset rootwait' + MEMORY + '\n');
    // Already enabled but also disabled: the disable goes.
    expect(fix('rootwait cgroup_disable=memory' + MEMORY)).toBe('rootwait' + MEMORY + '\n');
  });

  it('normalizes CRLF, extra spaces and stray extra lines into one LF-terminated line', () => {
    expect(fix('console=tty1  root=/dev/mmcblk0p2\t rootwait \r\n')).toBe('console=tty1 root=/dev/mmcblk0p2 rootwait' + MEMORY + '\n');
    expect(fix('console=tty1 root=/dev/mmcblk0p2\nrootwait\n\n')).toBe('console=tty1 root=/dev/mmcblk0p2 rootwait' + MEMORY + '\n');
    // Several lines but nothing missing is still a change: the firmware reads only the first.
    expect(enableMemoryCgroup('rootwait' + MEMORY + '\nquiet\n')).toEqual({ text: 'rootwait' + MEMORY + ' quiet\n', changed: true });
  });

  it('puts kernel arguments before "--" (what follows belongs to init)', () => {
    expect(fix('root=/dev/sda2 rootwait -- single cgroup_disable=memory\n')).toBe('root=/dev/sda2 rootwait' + MEMORY + ' -- single cgroup_disable=memory\n');
  });

  it('tells whether a running command line has the memory cgroup off', () => {
    expect(memoryCgroupDisabled('coherent_pool=1M cgroup_disable=memory root=/dev/mmcblk0p2')).toBe(true);
    expect(memoryCgroupDisabled('cgroup_disable=memory root=/dev/mmcblk0p2 cgroup_enable=memory cgroup_memory=1')).toBe(false);
    expect(memoryCgroupDisabled(BOOKWORM)).toBe(false);
  });
});

describe('fixCmdlineFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds /boot/firmware before /boot, fixes in place, backs up once, then changes nothing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-cmdline-'));
    await mkdir(join(dir, 'boot/firmware'), { recursive: true });
    await writeFile(join(dir, 'boot/cmdline.txt'), 'stub: moved to /boot/firmware/cmdline.txt\n');
    expect(findCmdline(dir)).toBe(join(dir, 'boot/cmdline.txt'));
    await writeFile(join(dir, 'boot/firmware/cmdline.txt'), BOOKWORM);
    const path = findCmdline(dir)!;
    expect(path).toBe(join(dir, 'boot/firmware/cmdline.txt'));
    expect(await fixCmdlineFile(path)).toEqual({ path, changed: true, backup: path + '.grove-bak' });
    expect(await readFile(path, 'utf8')).toBe(BOOKWORM.trimEnd() + MEMORY + '\n');
    expect(await readFile(path + '.grove-bak', 'utf8')).toBe(BOOKWORM);
    expect(await fixCmdlineFile(path)).toEqual({ path, changed: false });
    // A later fix (someone re-added cgroup_disable) keeps the first backup.
    await writeFile(path, BOOKWORM.trimEnd() + ' cgroup_disable=memory\n');
    await fixCmdlineFile(path);
    expect(await readFile(path + '.grove-bak', 'utf8')).toBe(BOOKWORM);
  });
});
