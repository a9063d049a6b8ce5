import { unitEnvironment } from '../support/unit-env.js';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/grove-cli.js';

const INSTALL = join(REPO_ROOT, 'firmware-scripts', 'install.sh');
const UNINSTALL = join(REPO_ROOT, 'firmware-scripts', 'uninstall.sh');
const ARCH = ({ x64: 'amd64', arm64: 'arm64', arm: 'armv7' } as Record<string, string>)[process.arch] ?? process.arch;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    // A clean environment: GROVE_* from the caller must not leak into the installer.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GROVE_')));
    execFile('bash', [script, ...args], { env: { ...base, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Everything about a tree that an installer could change: paths, types, modes, inodes (a file
 * rewritten with the same bytes gets a new inode), file mtimes, link targets and contents.
 */
async function treeHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const s = await lstat(path);
      // A directory's mtime moves whenever an entry comes or goes, so only its entries count.
      hash.update(`${path.slice(root.length)} ${s.mode} ${s.ino} ${s.isDirectory() ? '' : `${s.mtimeMs} ${s.size}`}\n`);
      if (s.isSymbolicLink()) hash.update(await readlink(path));
      else if (s.isDirectory()) await walk(path);
      else hash.update(await readFile(path));
    }
  };
  await walk(root);
  return hash.digest('hex');
}

/** A scratch root that already holds some unrelated system files. */
async function scratchRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'grove-install-root-'));
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
  await writeFile(join(root, 'etc/hostname'), 'pi-1\n');
  await writeFile(join(root, 'etc/systemd/system/other.service'), '[Service]\nExecStart=/bin/true\n');
  await mkdir(join(root, 'var/lib'), { recursive: true });
  // What quickstart.sh leaves: a grove link into a checkout. Kept aside, restored on uninstall.
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await symlink('/home/pi/grove/dist/src/cli/grove.js', join(root, 'usr/local/bin/grove'));
  return root;
}

describe('firmware-scripts/install.sh and uninstall.sh (--root scratch dir)', () => {
  const roots: string[] = [];
  const newRoot = async () => {
    const r = await scratchRoot();
    roots.push(r);
    return r;
  };
  afterAll(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  let dist: string;
  let tarball: string;
  beforeAll(async () => {
    // The layout `npm run package` produces: one top dir with bin/grove beside its payload.
    dist = await mkdtemp(join(tmpdir(), 'grove-install-release-'));
    roots.push(dist);
    const top = join(dist, 'src', 'grove-9.9.9-linux-' + ARCH);
    await mkdir(join(top, 'bin'), { recursive: true });
    await writeFile(join(top, 'bin/grove'), '#!/bin/sh\necho "grove 9.9.9 (release)"\n');
    await chmod(join(top, 'bin/grove'), 0o755);
    await writeFile(join(top, 'grove.js'), '// bundle\n');
    tarball = join(dist, `grove-9.9.9-linux-${ARCH}.tar.gz`);
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['-czf', tarball, '-C', join(dist, 'src'), `grove-9.9.9-linux-${ARCH}`], (err) => (err ? reject(err) : resolve())),
    );
    const sum = createHash('sha256').update(await readFile(tarball)).digest('hex');
    await writeFile(join(dist, 'SHA256SUMS'), `${sum}  grove-9.9.9-linux-${ARCH}.tar.gz\n`);
  });

  it('installs the server role: unit, env file, launcher, enable link; a second run changes nothing; uninstall restores the root', async () => {
    const root = await newRoot();
    const before = await treeHash(root);
    const first = await sh(INSTALL, ['--root', root, '--node-name', 'pi-1', '--label', 'zone=a', '--label', 'tier=edge']);
    expect(first.code, first.stderr + first.stdout).toBe(0);

    const unit = await readFile(join(root, 'etc/systemd/system/grove.service'), 'utf8');
    for (const line of ['Type=notify', 'NotifyAccess=main', 'Restart=always', 'WatchdogSec=60s', 'EnvironmentFile=/etc/grove/server.env', 'ExecStart=/opt/grove/bin/grove server $GROVE_SERVER_ARGS', 'KillMode=process', 'WantedBy=multi-user.target']) {
      expect(unit.split('\n')).toContain(line);
    }
    // What benches start the server with (test/support/unit-env.ts) is what the unit sets.
    const unitEnv = Object.entries(unitEnvironment());
    expect(unitEnv).toContainEqual(['NODE_OPTIONS', '--max-semi-space-size=4']);
    expect(unitEnv).toContainEqual(['MALLOC_ARENA_MAX', '2']);
    for (const [key, value] of unitEnv) expect(unit.split('\n')).toContain(`Environment=${key}=${value}`);
    const env = await readFile(join(root, 'etc/grove/server.env'), 'utf8');
    expect(env).toContain('GROVE_DATA_DIR=/var/lib/grove\n');
    expect(env).toContain('GROVE_SERVER_ARGS="--node-name pi-1 --label zone=a --label tier=edge"\n');
    expect((await stat(join(root, 'etc/grove/server.env'))).mode & 0o777).toBe(0o600);
    expect(await readlink(join(root, 'usr/local/bin/grove'))).toBe('/opt/grove/bin/grove');
    expect(await readlink(join(root, 'etc/systemd/system/multi-user.target.wants/grove.service'))).toBe('/etc/systemd/system/grove.service');
    // The installed tree runs on its own (production node_modules only).
    const version = await sh(join(root, 'opt/grove/bin/grove'), ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    await expect(stat(join(root, 'opt/grove/node_modules/vitest'))).rejects.toThrow();
    const manifest = (await readFile(join(root, 'etc/grove/.installed-files'), 'utf8')).trim().split('\n');
    expect(manifest).toEqual(expect.arrayContaining(['tree /opt/grove', 'file /etc/systemd/system/grove.service', 'replaced /usr/local/bin/grove', 'dir /opt', 'file /etc/grove/.installed-files']));
    expect(await readlink(join(root, 'usr/local/bin/grove.grove-orig'))).toBe('/home/pi/grove/dist/src/cli/grove.js');
    expect(manifest).not.toContain('dir /etc'); // existed before: never removed

    const installed = await treeHash(root);
    const second = await sh(INSTALL, ['--root', root, '--node-name', 'pi-1', '--label', 'zone=a', '--label', 'tier=edge']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('unchanged /opt/grove');
    expect(second.stdout).toContain('unchanged /etc/systemd/system/grove.service');
    expect(second.stdout).not.toMatch(/^\[grove\] (wrote|linked|installed)/m);
    expect(await treeHash(root)).toBe(installed);

    const un = await sh(UNINSTALL, ['--root', root]);
    expect(un.code, un.stderr).toBe(0);
    expect(await treeHash(root)).toBe(before);
  }, 300_000);

  it('installs the agent role from environment variables, with the hardware watchdog; uninstall restores the root', async () => {
    const root = await newRoot();
    const before = await treeHash(root);
    const env = {
      GROVE_ROOT: root,
      GROVE_SERVER_URL: 'https://10.0.0.2:7080',
      GROVE_TOKEN: 'K1.abc123.tokid.secret',
      GROVE_NODE_NAME: 'pi-2',
      GROVE_LABELS: 'zone=b,disk=ssd',
      GROVE_DATA_DIR: '/srv/grove',
      GROVE_RUNTIME: 'crun',
      GROVE_WATCHDOG_SEC: '30',
      GROVE_HW_WATCHDOG: '1',
      GROVE_RELEASE_TARBALL: tarball,
    };
    const r = await sh(INSTALL, [], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const unit = await readFile(join(root, 'etc/systemd/system/grove.service'), 'utf8');
    expect(unit).toContain('ExecStart=/opt/grove/bin/grove agent\n');
    expect(unit).toContain('EnvironmentFile=/etc/grove/agent.env\n');
    expect(unit).toContain('WatchdogSec=30s\n');
    expect(await readFile(join(root, 'etc/grove/agent.env'), 'utf8')).toBe(
      [
        '# Written by firmware-scripts/install.sh; read by grove.service (mode 0600).',
        'GROVE_DATA_DIR=/srv/grove',
        'GROVE_RUNTIME=crun',
        'GROVE_SERVER_URL=https://10.0.0.2:7080',
        '# Read for the first join only (then removed); afterwards the node\'s own credentials in GROVE_DATA_DIR.',
        'GROVE_TOKEN_FILE=/etc/grove/join-token',
        'GROVE_NODE_NAME=pi-2',
        'GROVE_LABELS=zone=b,disk=ssd',
        '',
      ].join('\n'),
    );
    // The token is in its own 0600 file, never in argv or the env file; the unit removes it
    // once the agent is up (joined).
    expect(await readFile(join(root, 'etc/grove/join-token'), 'utf8')).toBe('K1.abc123.tokid.secret\n');
    expect((await stat(join(root, 'etc/grove/join-token'))).mode & 0o777).toBe(0o600);
    expect(unit).toContain('ExecStartPost=-/bin/rm -f /etc/grove/join-token\n');
    expect(unit).not.toContain('K1.abc123');
    expect(await readFile(join(root, 'etc/systemd/system.conf.d/grove-watchdog.conf'), 'utf8')).toContain('RuntimeWatchdogSec=15s\n');
    const installed = await treeHash(root);
    expect((await sh(INSTALL, [], env)).code).toBe(0);
    expect(await treeHash(root)).toBe(installed);
    // First boot of a prepared image runs the installer with the unit's env file, which holds
    // no token: the token file is what lets the agent role through, and it stays for the join.
    const { GROVE_TOKEN: _token, ...firstBootEnv } = env;
    const firstBoot = await sh(INSTALL, ['--role', 'agent'], firstBootEnv);
    expect(firstBoot.code, firstBoot.stderr).toBe(0);
    expect(await treeHash(root)).toBe(installed);
    // Once the node has joined, a run with the same settings (token included) removes the token
    // file rather than writing it back, and changes nothing else.
    await mkdir(join(root, 'srv/grove/agent'), { recursive: true });
    await writeFile(join(root, 'srv/grove/agent/join.json'), '{}');
    const joined = await sh(INSTALL, [], env);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toContain('removed /etc/grove/join-token (this node has joined)');
    await expect(stat(join(root, 'etc/grove/join-token'))).rejects.toThrow();
    expect(joined.stdout).not.toMatch(/^\[grove\] (wrote|linked|installed)/m);
    // A node that has joined keeps its data unless told otherwise.
    const kept = await sh(UNINSTALL, ['--root', root, '--keep-data']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(await readFile(join(root, 'srv/grove/agent/join.json'), 'utf8')).toBe('{}');
    await rm(join(root, 'srv'), { recursive: true });
    expect(await treeHash(root)).toBe(before);
  }, 300_000);

  describe('from a release tarball', () => {
    it('verifies the checksum from SHA256SUMS and installs the unpacked top dir', async () => {
      const root = await newRoot();
      const r = await sh(INSTALL, ['--root', root, '--release', tarball]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain(`checksum verified: grove-9.9.9-linux-${ARCH}.tar.gz`);
      expect(await readFile(join(root, 'opt/grove/grove.js'), 'utf8')).toBe('// bundle\n');
      expect((await sh(join(root, 'opt/grove/bin/grove'), [])).stdout).toBe('grove 9.9.9 (release)\n');
      // The installer travels with the release; run from there (first boot) it changes nothing.
      const installed = await treeHash(root);
      const inPlace = await sh(join(root, 'opt/grove/firmware-scripts/install.sh'), ['--root', root]);
      expect(inPlace.code, inPlace.stderr).toBe(0);
      expect(inPlace.stdout).toContain('using the Grove already in /opt/grove');
      expect(await treeHash(root)).toBe(installed);
    }, 120_000);

    it('keeps a manifest when it fails midway, so uninstall still restores the root', async () => {
      const root = await newRoot();
      await rm(join(root, 'usr/local/bin/grove'));
      await mkdir(join(root, 'usr/local/bin/grove')); // a directory where the launcher link goes
      const before = await treeHash(root);
      const r = await sh(INSTALL, ['--root', root, '--release', tarball]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('/usr/local/bin/grove exists and is not a file or link');
      expect(await readFile(join(root, 'etc/grove/.installed-files'), 'utf8')).toContain('tree /opt/grove\n');
      expect((await sh(UNINSTALL, ['--root', root])).code).toBe(0);
      expect(await treeHash(root)).toBe(before);
    }, 120_000);

    it('refuses a tarball whose checksum does not match, and writes nothing', async () => {
      const root = await newRoot();
      const before = await treeHash(root);
      const r = await sh(INSTALL, ['--root', root, '--release', tarball, '--sha256', '0'.repeat(64)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('checksum mismatch');
      expect(await treeHash(root)).toBe(before);
    }, 120_000);

    it('--fix-cgroups yes enables the memory cgroup in the root\'s boot cmdline.txt (kept on uninstall)', async () => {
      const root = await newRoot();
      await mkdir(join(root, 'boot/firmware'), { recursive: true });
      await writeFile(join(root, 'boot/firmware/cmdline.txt'), 'console=tty1 root=PARTUUID=4e639091-02 rootwait\n');
      const r = await sh(INSTALL, ['--root', root, '--release', tarball, '--fix-cgroups', 'yes']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('reboot needed');
      expect(await readFile(join(root, 'boot/firmware/cmdline.txt'), 'utf8')).toBe('console=tty1 root=PARTUUID=4e639091-02 rootwait cgroup_enable=memory cgroup_memory=1\n');
      const again = await sh(INSTALL, ['--root', root, '--release', tarball, '--fix-cgroups', 'yes']);
      expect(again.stdout).toContain('unchanged (the memory cgroup is already enabled there');
      expect((await sh(UNINSTALL, ['--root', root])).code).toBe(0);
      expect(await readFile(join(root, 'boot/firmware/cmdline.txt.grove-bak'), 'utf8')).toBe('console=tty1 root=PARTUUID=4e639091-02 rootwait\n');
    }, 300_000);
  });

  it('rejects bad settings before touching anything, in one line', async () => {
    const root = await newRoot();
    const before = await treeHash(root);
    for (const [args, message] of [
      [['--label', 'bad label'], 'is not key=value'],
      [['--role', 'agent'], 'needs --server URL'],
      [['--role', 'agent', '--server', 'https://10.0.0.2:7080'], 'needs --token TOKEN'],
      [['--server', 'ftp://x'], 'must be an http(s):// URL'],
      [['--token', 'K1.a.b.c'], '--token goes with --server URL'],
      [['--watchdog-sec', 'soon'], 'must be 0..3600'],
      [['--frobnicate'], 'unknown option'],
    ] as [string[], string][]) {
      const r = await sh(INSTALL, ['--root', root, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim()).toMatch(new RegExp(`^\\[grove\\] error: .*${message.replace(/[.*()]/g, '\\$&')}`));
    }
    expect(await treeHash(root)).toBe(before);
  });

});
