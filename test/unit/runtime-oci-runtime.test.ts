import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { CgroupMode } from '../../agent/src/runtime/host.js';
import {
  OciRuntime,
  detectOciRuntime,
  parseRuntimeVersion,
  runtimeErrorLine,
  terminalExecProcess,
} from '../../agent/src/runtime/oci-runtime.js';
import type { OciSpec } from '../../agent/src/runtime/oci-config.js';
import { capturingLogger } from '../support/capture-logger.js';

function detect(mode: CgroupMode, installed: string[], preferred?: 'crun' | 'runc' | 'auto', logger = silentLogger()) {
  return detectOciRuntime({
    host: { cgroupMode: mode },
    ...(preferred ? { preferred } : {}),
    which: (bin) => (installed.includes(bin) ? `/usr/bin/${bin}` : undefined),
    versionOf: async (path) => `${path.endsWith('crun') ? 'crun' : 'runc'} version 1.2.3\ncommit: abc\n`,
    logger,
  });
}

describe('detectOciRuntime', () => {
  it('prefers crun on a unified host', async () => {
    expect(await detect('unified', ['crun', 'runc'])).toMatchObject({ name: 'crun', path: '/usr/bin/crun', version: '1.2.3' });
  });

  it('uses crun on a legacy v1 host too', async () => {
    expect((await detect('legacy', ['crun', 'runc'])).name).toBe('crun');
  });

  it('skips crun on a hybrid host with a reason', async () => {
    const r = await detect('hybrid', ['crun', 'runc']);
    expect(r).toMatchObject({ name: 'runc', path: '/usr/bin/runc' });
    expect(r.reason).toMatch(/hybrid/);
  });

  it('falls back to runc when crun is missing', async () => {
    const r = await detect('unified', ['runc']);
    expect(r.name).toBe('runc');
    expect(r.reason).toMatch(/crun not found/);
  });

  it('honours a preference for runc even when crun would do', async () => {
    expect(await detect('unified', ['crun', 'runc'], 'runc')).toMatchObject({ name: 'runc', reason: 'configured' });
  });

  it('fails with RuntimeNotFound when the preferred runtime is missing', async () => {
    await expect(detect('unified', ['runc'], 'crun')).rejects.toMatchObject({ code: ErrorCode.RuntimeNotFound });
    await expect(detect('unified', ['crun'], 'runc')).rejects.toMatchObject({ code: ErrorCode.RuntimeNotFound });
  });

  it('fails with RuntimeNotFound when neither is installed', async () => {
    await expect(detect('unified', [])).rejects.toThrow(/no OCI runtime found/);
  });

  it('warns but obeys when crun is forced on a hybrid host', async () => {
    const { logger, lines } = capturingLogger();
    expect((await detect('hybrid', ['crun', 'runc'], 'crun', logger)).name).toBe('crun');
    expect(lines().some((l) => l.level === 40 && /hybrid/.test(String(l.msg)))).toBe(true);
  });

  it('reports an unknown version rather than failing', async () => {
    const r = await detectOciRuntime({ host: { cgroupMode: 'unified' }, which: () => '/x/crun', versionOf: () => Promise.reject(new Error('boom')), logger: silentLogger() });
    expect(r.version).toBe('unknown');
  });

  it('parses version output of both runtimes', () => {
    expect(parseRuntimeVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n')).toBe('1.1.5+ds1');
    expect(parseRuntimeVersion('crun version 1.8.1\ncommit: f8a096be\n')).toBe('1.8.1');
  });
});

describe('runtimeErrorLine', () => {
  it('extracts the message from logrus text, JSON lines and plain crun errors', () => {
    expect(runtimeErrorLine('time="2024-01-01T00:00:00Z" level=error msg="container does not exist"\n')).toBe('container does not exist');
    expect(runtimeErrorLine('{"level":"error","msg":"unable to start: \\"x\\"","time":"t"}\n')).toBe('unable to start: "x"');
    expect(runtimeErrorLine('error opening file `/run/crun/x/status`: No such file or directory\n')).toBe('error opening file `/run/crun/x/status`: No such file or directory');
    expect(runtimeErrorLine('time="t" level=error msg="say \\"hi\\""')).toBe('say "hi"');
    expect(runtimeErrorLine('')).toBe('no error output');
  });
});

describe('OciRuntime (against a fake runtime binary)', () => {
  let dir: string;
  let runtime: OciRuntime;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-fake-runc-'));
    const script = `#!/bin/sh
echo "$@" >> "${dir}/calls"
shift 2  # --root <dir>
case "$1" in
  state)
    if [ "$2" = "c1" ]; then echo '{"ociVersion":"1.0.2","id":"c1","pid":4242,"status":"running","bundle":"/b"}'; exit 0; fi
    echo 'time="t" level=error msg="container does not exist"' >&2; exit 1 ;;
  list) echo null ;;
  kill) [ "$2" = "--all" ] && exit 0; echo 'time="t" level=error msg="container not running"' >&2; exit 1 ;;
  delete) exit 0 ;;
  hang) sleep 5 ;;
  exec) while [ $# -gt 0 ]; do [ "$1" = "--process" ] && cat "$2" >> "${dir}/process.json"; shift; done ;;
esac
`;
    await writeFile(join(dir, 'runc'), script);
    await chmod(join(dir, 'runc'), 0o755);
    runtime = new OciRuntime({ name: 'runc', path: join(dir, 'runc'), root: join(dir, 'state'), logger: silentLogger(), timeoutMs: 500 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses state and passes --root', async () => {
    expect(await runtime.state('c1')).toMatchObject({ id: 'c1', pid: 4242, status: 'running' });
    expect(await readFile(join(dir, 'calls'), 'utf8')).toContain(`--root ${join(dir, 'state')} state c1`);
  });

  it('maps a missing container to ContainerNotFound with a one-line message', async () => {
    const err = (await runtime.state('nope').catch((e: unknown) => e)) as GroveError;
    expect(err).toBeInstanceOf(GroveError);
    expect(err.code).toBe(ErrorCode.ContainerNotFound);
    expect(err.message).toBe('runc state nope: container does not exist');
    expect(err.cause).toBeDefined();
  });

  it('maps other failures to RuntimeFailed', async () => {
    await expect(runtime.kill('c1', 'SIGTERM')).rejects.toMatchObject({ code: ErrorCode.RuntimeFailed, message: 'runc kill c1: container not running' });
    await expect(runtime.kill('c1', 'KILL', { all: true })).resolves.toBeUndefined();
  });

  it('treats runc\'s "null" list as empty and passes --force to delete', async () => {
    expect(await runtime.list()).toEqual([]);
    await runtime.delete('c1', { force: true });
    expect(await readFile(join(dir, 'calls'), 'utf8')).toContain('delete --force c1');
  });

  it('times out a hung runtime', async () => {
    const hung = runtime as unknown as { exec(args: string[]): Promise<string> };
    await expect(hung.exec(['hang'])).rejects.toThrow(/timed out after 500 ms/);
  });

  it('a terminal exec runs from the container\'s process with the terminal\'s size (exec --process), so it never starts at 0×0', async () => {
    // A pty helper that runs the rest of its command line as grove-shim pty does: pty ROWS COLS RUNTIME ARGS…
    await writeFile(join(dir, 'pty'), '#!/bin/sh\nshift 3\nexec "$@"\n');
    await chmod(join(dir, 'pty'), 0o755);
    const base: OciSpec['process'] = { terminal: false, user: { uid: 1000, gid: 1000 }, args: ['httpd', '-f'], env: ['PATH=/bin', 'MODE=edge'], cwd: '/www', capabilities: { bounding: ['CAP_KILL'], effective: [], permitted: [], inheritable: [], ambient: [] }, noNewPrivileges: true };
    const proc = await runtime.execStream('c1', ['sh', '-c', 'stty size'], { stdin: true, tty: true, size: { width: 101, height: 33 }, ptyHelper: join(dir, 'pty'), process: base });
    proc.stdout.resume();
    expect(await proc.exited).toBe(0);
    const call = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n').pop()!;
    expect(call).toMatch(new RegExp(`^--root \\S+ exec --pid-file \\S+/exec\\.pid --process \\S+/process\\.json c1$`));
    expect(JSON.parse(await readFile(join(dir, 'process.json'), 'utf8'))).toEqual({ ...base, args: ['sh', '-c', 'stty size'], terminal: true, consoleSize: { height: 33, width: 101 } });
    // The base is the container's own: not changed.
    expect(terminalExecProcess(base, ['sh'], { width: 80, height: 24 }).args).toEqual(['sh']);
    expect(base).toMatchObject({ args: ['httpd', '-f'], terminal: false });
    // Without the container's process (or without a terminal) the flags say it, as before.
    const plain = await runtime.execStream('c1', ['true'], { stdin: false, tty: false, ptyHelper: join(dir, 'pty') });
    plain.stdout.resume();
    plain.stderr?.resume();
    await plain.exited;
    expect((await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n').pop()).toMatch(/ exec --pid-file \S+ c1 true$/);
  });

  it('defaults its name to the binary name and reports a missing binary', async () => {
    const missing = new OciRuntime({ path: join(dir, 'crun'), root: dir, logger: silentLogger() });
    expect(missing.name).toBe('crun');
    await expect(missing.list()).rejects.toMatchObject({ code: ErrorCode.RuntimeFailed, message: expect.stringContaining('not found') });
  });
});
