import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isGroveError, ErrorCode } from '../../src/core/errors.js';
import { isProcessAlive, readExitStatus, readPidFile } from '../../agent/src/shim/exit-file.js';
import { launchShim, shimArguments } from '../../agent/src/shim/launcher.js';
import { readLogLines } from '../../agent/src/shim/log-reader.js';
import { parseShimMessage, type ExitStatus, type ShimLaunchOptions } from '../../agent/src/shim/protocol.js';
import { describeWith } from '../support/prereq.js';

const SHIM = fileURLToPath(new URL('../../agent/shim/build/grove-shim', import.meta.url));
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'head', 'yes', 'dd', 'tr', 'true', 'false', 'printf'];
const MiB = 1024 * 1024;
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Hybrid/v1 hosts have a memory controller directory; pure v2 hosts do not. */
const V1_MEMORY = existsSync(join(CGROUP_ROOT, 'memory', 'memory.limit_in_bytes'));

interface Case {
  id: string;
  dir: string;
  bundle: string;
  stateDir: string;
  cgroupsPath: string;
  runtimeRoot: string;
}

let runc = '';
let runtimeRoot = '';
const cases: Case[] = [];

function oomFileFor(cgroupsPath: string): string {
  return V1_MEMORY ? join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.oom_control') : join(CGROUP_ROOT, cgroupsPath, 'memory.events');
}

/** A bundle without any image store: busybox + symlinks and a minimal OCI config. */
function makeCase(args: string[], opts: { memoryLimit?: number; runtimeRoot?: string } = {}): Case {
  const id = `gt-${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'grove-shim-'));
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin', 'busybox')]);
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const cgroupsPath = `/grove-test/${id}`;
  const config = {
    ociVersion: '1.0.2',
    process: { terminal: false, user: { uid: 0, gid: 0 }, args, env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true },
    root: { path: 'rootfs' },
    hostname: id,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      cgroupsPath,
      namespaces: ['pid', 'ipc', 'uts', 'mount', 'network'].map((type) => ({ type })),
      // swap = limit: no swapping out of the limit, so the OOM test really hits the OOM killer.
      ...(opts.memoryLimit ? { resources: { memory: { limit: opts.memoryLimit, swap: opts.memoryLimit } } } : {}),
    },
  };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const c: Case = { id, dir, bundle, stateDir: join(dir, 'state'), cgroupsPath, runtimeRoot: opts.runtimeRoot ?? runtimeRoot };
  cases.push(c);
  return c;
}

function options(c: Case, extra: Partial<ShimLaunchOptions> = {}): ShimLaunchOptions {
  return {
    shimPath: SHIM,
    id: c.id,
    bundleDir: c.bundle,
    stateDir: c.stateDir,
    runtimePath: runc,
    runtimeRoot: c.runtimeRoot,
    logMaxBytes: MiB,
    logMaxFiles: 2,
    oomFile: oomFileFor(c.cgroupsPath),
    startTimeoutMs: 30_000,
    ...extra,
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const waitForExit = (c: Case, timeoutMs?: number): Promise<ExitStatus> =>
  waitFor(`exit.json of ${c.id}`, () => readExitStatus(c.stateDir), timeoutMs);

function runcQuiet(root: string, ...args: string[]): string {
  const r = spawnSync(runc, ['--root', root, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** Removes everything a case may have left: container, shim, cgroups, files. */
async function cleanup(c: Case): Promise<void> {
  runcQuiet(c.runtimeRoot, 'kill', c.id, 'KILL');
  runcQuiet(c.runtimeRoot, 'delete', '--force', c.id);
  const shimPid = await readPidFile(join(c.stateDir, 'shim.pid'));
  if (shimPid !== undefined && isProcessAlive(shimPid, c.id)) process.kill(shimPid, 'SIGKILL');
  for (const controller of existsSync(join(CGROUP_ROOT, 'unified')) ? readdirSync(CGROUP_ROOT) : ['']) {
    const path = join(CGROUP_ROOT, controller, c.cgroupsPath);
    if (existsSync(path)) {
      try {
        rmdirSync(path);
      } catch {
        /* a cgroup with processes still exiting: nothing more we can do here */
      }
    }
  }
  rmSync(c.dir, { recursive: true, force: true });
  // A case-private runtime root goes last: the runc calls above would recreate it.
  if (c.runtimeRoot !== runtimeRoot) rmSync(c.runtimeRoot, { recursive: true, force: true });
}

describeWith(['root', 'runc', 'shim'], 'grove-shim with runc', () => {
  beforeAll(() => {
    runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
    runtimeRoot = mkdtempSync(join(tmpdir(), 'grove-shim-runc-'));
  });

  afterEach(async () => {
    for (const c of cases.splice(0)) await cleanup(c);
  });

  afterAll(() => {
    for (const controller of existsSync(join(CGROUP_ROOT, 'unified')) ? readdirSync(CGROUP_ROOT) : ['']) {
      try {
        rmdirSync(join(CGROUP_ROOT, controller, 'grove-test'));
      } catch {
        /* absent, or still used by another suite */
      }
    }
    if (runtimeRoot) rmSync(runtimeRoot, { recursive: true, force: true });
  });

  it('logs the container output in CRI format and records exit code 0', async () => {
    const c = makeCase(['sh', '-c', 'echo hello world; yes a | head -n 20000 | tr -d "\\n"; echo; printf tail']);
    const started = await launchShim(options(c));
    expect(started.pid).toBeGreaterThan(1);
    expect(started.shimPid).not.toBe(started.pid);
    const exit = await waitForExit(c);
    expect(exit).toMatchObject({ exitCode: 0, oomKilled: false });
    expect(exit.signal).toBeUndefined();

    const raw = readFileSync(join(c.stateDir, 'container.log'), 'utf8').split('\n');
    expect(raw[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello world$/);
    const lines = await readLogLines(c.stateDir);
    expect(lines.map((l) => [l.partial, l.text.length])).toEqual([
      [false, 11],
      [true, 16384], // a line longer than the shim's buffer is split: P … F
      [false, 20000 - 16384],
      [false, 4],
    ]);
    expect(lines[3]?.text).toBe('tail'); // no trailing newline: flushed at EOF as a full line
    // The shim deleted the container after recording its exit.
    await waitFor('runc delete', () => (runcQuiet(c.runtimeRoot, 'list', '-q').includes(c.id) ? undefined : true));
  });

  it('records exit code 3 and keeps stdout and stderr apart', async () => {
    const c = makeCase(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    await launchShim(options(c));
    expect(await waitForExit(c)).toMatchObject({ exitCode: 3, oomKilled: false });
    const lines = await readLogLines(c.stateDir);
    expect(lines.map((l) => `${l.stream}:${l.text}`).sort()).toEqual(['stderr:err', 'stdout:out']);
  });

  it('records SIGKILL as signal 9 / exit code 137, and its RSS is small', async () => {
    const c = makeCase(['sleep', '300']);
    const started = await launchShim(options(c));
    expect(isProcessAlive(started.shimPid, c.id)).toBe(true);
    const rss = memoryKiB(started.shimPid, 'VmRSS');
    console.log(`grove-shim RSS while supervising an idle container: ${rss} KiB (peak ${memoryKiB(started.shimPid, 'VmHWM')} KiB)`);
    expect(rss).toBeLessThanOrEqual(512);
    execFileSync(runc, ['--root', c.runtimeRoot, 'kill', c.id, 'KILL']);
    const exit = await waitForExit(c);
    expect(exit).toMatchObject({ exitCode: 137, signal: 9, oomKilled: false });
  });

  it('reports an OOM kill', async () => {
    const c = makeCase(['sh', '-c', 'a=$(head -c 67108864 /dev/zero | tr "\\000" x); echo ${#a}'], { memoryLimit: 16 * MiB });
    await launchShim(options(c));
    expect(await waitForExit(c, 40_000)).toMatchObject({ exitCode: 137, signal: 9, oomKilled: true });
  });

  it('keeps the log under its cap while a container writes 10 MB fast', async () => {
    // A file can be rotated away between listing and stat: that one counts as 0.
    const sizeOf = (path: string): number => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const line = '0123456789012345678901234567890123456789';
    const c = makeCase(['sh', '-c', `yes ${line} | head -c 10485760`]);
    const started = await launchShim(options(c, { logMaxBytes: MiB, logMaxFiles: 2 }));
    let peak = 0;
    let total = 0;
    const sizes = (): number =>
      readdirSync(c.stateDir)
        .filter((n) => n.startsWith('container.log'))
        .reduce((sum, n) => sum + sizeOf(join(c.stateDir, n)), 0);
    await waitFor('exit.json', async () => {
      total = sizes();
      if (isProcessAlive(started.shimPid, c.id)) peak = Math.max(peak, memoryKiB(started.shimPid, 'VmHWM'));
      return readExitStatus(c.stateDir);
    });
    console.log(`grove-shim peak RSS while logging 10 MB: ${peak} KiB`);
    const files = readdirSync(c.stateDir).filter((n) => n.startsWith('container.log')).sort();
    expect(files).toEqual(['container.log', 'container.log.1']);
    total = sizes();
    expect(total).toBeLessThanOrEqual(2 * MiB + 100);
    for (const f of files) expect(statSync(join(c.stateDir, f)).size).toBeLessThanOrEqual(MiB);
    const lines = await readLogLines(c.stateDir);
    // 10485760 = 255750 lines of 41 bytes + "0123456789" without a newline.
    expect(lines.at(-1)?.text).toBe('0123456789');
    expect(lines.at(-2)?.text).toBe(line);
    expect(lines.every((l) => l.text === line || l === lines.at(-1))).toBe(true);
  });

  it('survives SIGKILL of the process group that started it', async () => {
    const c = makeCase(['sh', '-c', 'i=0; while [ $i -lt 4 ]; do echo tick $i; i=$((i+1)); sleep 1; done; exit 7']);
    // A stand-in for the agent: a shell in its own process group that starts the shim, then lingers.
    const parent = spawn('sh', ['-c', '"$@"; exec sleep 600', 'sh', SHIM, ...shimArguments(options(c))], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    const sync = parent.stdio[3] as NodeJS.ReadableStream;
    let text = '';
    sync.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const msg = await waitFor('started message', () => {
      const nl = text.indexOf('\n');
      return nl < 0 ? undefined : parseShimMessage(text.slice(0, nl));
    });
    if (typeof msg === 'string' || msg.type !== 'started') throw new Error(`unexpected ${JSON.stringify(msg)}`);
    process.kill(-(parent.pid as number), 'SIGKILL');
    (sync as unknown as { destroy(): void }).destroy();
    // Signals aimed at the shim itself must not stop the container either.
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(msg.shimPid, sig);
    await new Promise((r) => setTimeout(r, 300));
    expect(isProcessAlive(msg.shimPid, c.id)).toBe(true);
    expect(isProcessAlive(msg.pid)).toBe(true);
    expect(await readExitStatus(c.stateDir)).toBeUndefined();
    const exit = await waitForExit(c);
    expect(exit).toMatchObject({ exitCode: 7, oomKilled: false });
    const texts = (await readLogLines(c.stateDir)).map((l) => l.text);
    expect(texts).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3']);
  });

  it('rejects with the runtime reason when the command does not exist, leaving nothing behind', async () => {
    // A private runtime root, so "nothing left" is simply an empty `runc list`.
    const root = mkdtempSync(join(tmpdir(), 'grove-shim-runc-'));
    const c = makeCase(['/bin/nosuch-command'], { runtimeRoot: root });
    const err = await launchShim(options(c)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGroveError(err, ErrorCode.ShimFailed)).toBe(true);
    const message = (err as Error).message;
    console.log(`launchShim error: ${message}`);
    expect(message).toContain('nosuch-command');
    expect(message).toMatch(/no such file or directory/i);
    expect(message).not.toContain('\n');
    expect(runcQuiet(root, 'list', '-q').trim()).toBe('');
    expect(await readExitStatus(c.stateDir)).toBeUndefined();
  });
});

/**
 * crun refuses this hybrid host, so the shim (and crun under it) run in a private mount
 * namespace that sees only the cgroup v2 hierarchy at /sys/fs/cgroup: the layout of the
 * Raspberry Pi OS targets. On a pure v2 host the extra mount changes nothing.
 */
describeWith(['root', 'crun', 'shim'], 'grove-shim with crun (cgroup v2 view)', () => {
  let crun = '';
  let wrapperDir = '';
  let wrapper = '';

  beforeAll(() => {
    crun = execFileSync('sh', ['-c', 'command -v crun'], { encoding: 'utf8' }).trim();
    // This suite's runtime root (the runc suite above has finished with its own).
    runtimeRoot = mkdtempSync(join(tmpdir(), 'grove-shim-crun-'));
    wrapperDir = mkdtempSync(join(tmpdir(), 'grove-shim-wrap-'));
    wrapper = join(wrapperDir, 'shim-v2');
    const setup = 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"';
    writeFileSync(wrapper, `#!/bin/sh\nexec unshare -m sh -c '${setup}' ${SHIM} "$@"\n`);
    execFileSync('chmod', ['755', wrapper]);
  });

  afterEach(async () => {
    for (const c of cases.splice(0)) {
      // The container lives in the wrapper's view of cgroups: delete it from there.
      const del = 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"';
      spawnSync('unshare', ['-m', 'sh', '-c', del, 'sh', crun, '--root', c.runtimeRoot, 'delete', '--force', c.id]);
      await cleanup(c);
    }
  });

  afterAll(() => {
    rmSync(wrapperDir, { recursive: true, force: true });
    rmSync(runtimeRoot, { recursive: true, force: true });
    try {
      rmdirSync(join(CGROUP_ROOT, existsSync(join(CGROUP_ROOT, 'unified')) ? 'unified' : '', 'grove-test'));
    } catch {
      /* absent or in use */
    }
  });

  it('runs a container, records its exit and reports crun errors', async () => {
    const c = makeCase(['sh', '-c', 'echo via crun; echo oops >&2; exit 5']);
    await launchShim(options(c, { shimPath: wrapper, runtimePath: crun, oomFile: undefined }));
    expect(await waitForExit(c)).toMatchObject({ exitCode: 5, oomKilled: false });
    expect((await readLogLines(c.stateDir)).map((l) => `${l.stream}:${l.text}`).sort()).toEqual(['stderr:oops', 'stdout:via crun']);

    // crun writes its JSON log records without newlines; the shim must still find the message.
    const bad = makeCase(['/bin/nosuch-command']);
    const err = await launchShim(options(bad, { shimPath: wrapper, runtimePath: crun, oomFile: undefined })).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ShimFailed)).toBe(true);
    console.log(`launchShim error with crun: ${(err as Error).message}`);
    expect((err as Error).message).toContain('nosuch-command');
  });
});

describeWith(['shim'], 'grove-shim argument checks', () => {
  const run = (args: string[], withSync: boolean): { status: number | null; sync: string; stderr: string } => {
    const r = spawnSync(SHIM, args, { stdio: ['ignore', 'ignore', 'pipe', withSync ? 'pipe' : 'ignore'], encoding: 'utf8' });
    return { status: r.status, sync: (r.output[3] as string | null) ?? '', stderr: r.stderr };
  };
  const good = ['--id', 'x1', '--bundle', '/', '--state-dir', join(tmpdir(), 'grove-shim-never'), '--runtime', '/bin/true', '--runtime-root', '/run/x'];

  it('answers a bad argument on the sync pipe with exit status 2', () => {
    const r = run([...good, '--log-max-bytes', '100', '--log-max-files', '2'], true);
    expect(r.status).toBe(2);
    const msg = parseShimMessage(r.sync.trim());
    expect(msg).toMatchObject({ type: 'error', stage: 'setup' });
    expect(typeof msg !== 'string' && msg.type === 'error' && msg.message).toContain('--log-max-bytes');
  });

  it('uses stderr when there is no sync pipe', () => {
    const r = run(['--id', '../escape', ...good.slice(2), '--log-max-bytes', '4096', '--log-max-files', '2'], false);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid --id');
    expect(r.stderr).toContain('usage: grove-shim');
  });

  it('rejects relative paths, unknown and duplicate arguments', () => {
    for (const args of [
      ['--id', 'x', '--bundle', 'rel'],
      ['--nope', '1'],
      ['--id', 'x', '--id', 'y'],
      ['--id'],
    ]) {
      const r = run(args, true);
      expect(r.status).toBe(2);
      expect(r.sync).toMatch(/"stage":"setup"/);
    }
  });
});
