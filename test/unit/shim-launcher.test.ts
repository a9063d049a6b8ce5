import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { launchShim } from '../../agent/src/shim/launcher.js';
import type { ShimLaunchOptions } from '../../agent/src/shim/protocol.js';

// Fake shims: shell scripts that answer on fd 3 the way grove-shim would (or would not).
const dir = mkdtempSync(join(tmpdir(), 'grove-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeShim(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function opts(shimPath: string, extra: Partial<ShimLaunchOptions> = {}): ShimLaunchOptions {
  return {
    shimPath,
    id: 'c1',
    bundleDir: dir,
    stateDir: dir,
    runtimePath: '/usr/sbin/runc',
    runtimeRoot: '/run/grove-test',
    logMaxBytes: 1048576,
    logMaxFiles: 2,
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<GroveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GroveError);
  expect((err as GroveError).code).toBe(ErrorCode.ShimFailed);
  expect((err as GroveError).message).not.toContain('\n');
  return err as GroveError;
}

describe('launchShim', () => {
  it('resolves with the started message, even when a detached process keeps the pipe', async () => {
    // Like the real shim: the process we spawn exits, a background one answers and lingers.
    const shim = fakeShim(
      'ok',
      `( sleep 0.1; echo '{"type":"started","shimPid":4242,"pid":4343,"startedAt":"2026-11-22T05:05:27.123Z"}' >&3; sleep 2 ) &`,
    );
    const t0 = Date.now();
    expect(await launchShim(opts(shim))).toEqual({ type: 'started', shimPid: 4242, pid: 4343, startedAt: '2026-11-22T05:05:27.123Z' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('passes the arguments built by shimArguments', async () => {
    const shim = fakeShim(
      'args',
      `[ "$*" = "--id c1 --bundle ${dir} --state-dir ${dir} --runtime /usr/sbin/runc --runtime-root /run/grove-test --log-max-bytes 1048576 --log-max-files 2 --oom-file /sys/x" ] || exit 9
echo '{"type":"started","shimPid":2,"pid":3,"startedAt":"2026-11-22T05:05:27Z"}' >&3`,
    );
    await expect(launchShim(opts(shim, { oomFile: '/sys/x' }))).resolves.toMatchObject({ pid: 3 });
  });

  it('turns an error message into one line with the stage and the runtime text', async () => {
    const shim = fakeShim('err', `printf '%s\\n' '{"type":"error","stage":"create","message":"runc create failed: exec: \\"nope\\":\\nno such file"}' >&3; exit 1`);
    const err = await failure(launchShim(opts(shim)));
    expect(err.message).toBe('container c1: runtime create failed: runc create failed: exec: "nope": no such file');
    expect(err.details).toMatchObject({ id: 'c1', stage: 'create' });
  });

  it('fails when the shim says nothing, quoting its stderr and exit status', async () => {
    const err = await failure(launchShim(opts(fakeShim('silent', 'echo "cannot do it" >&2; exit 2'))));
    expect(err.message).toMatch(/without reporting a result \(exit status 2\): cannot do it/);
  });

  it('rejects garbage, unknown messages and oversized output', async () => {
    expect((await failure(launchShim(opts(fakeShim('garbage', 'echo hello >&3'))))).message).toMatch(/invalid message \(not JSON/);
    expect((await failure(launchShim(opts(fakeShim('unknown', `echo '{"type":"ready"}' >&3`))))).message).toMatch(/invalid message/);
    const flood = fakeShim('flood', 'yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | tr -d "\\n" | head -c 200000 >&3');
    expect((await failure(launchShim(opts(flood))))).toHaveProperty('message', expect.stringMatching(/more than 65536 bytes/));
  });

  it('fails when the shim cannot be run or does not answer in time', async () => {
    expect((await failure(launchShim(opts(join(dir, 'missing')))))).toHaveProperty('message', expect.stringMatching(/cannot run grove-shim/));
    const slow = fakeShim('slow', '( sleep 3 ) & exit 0');
    expect((await failure(launchShim(opts(slow, { startTimeoutMs: 200 }))))).toHaveProperty('message', expect.stringMatching(/no answer within/));
  });

  it('rejects invalid options before spawning anything', async () => {
    await expect(launchShim(opts(join(dir, 'missing'), { logMaxFiles: 0 }))).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });
});
