import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { isProcessAlive, parseExitStatus, processStartTime, readExitStatus, readPidFile } from '../../agent/src/shim/exit-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grove-exit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('parseExitStatus', () => {
  it('parses a normal exit and a signal exit', () => {
    expect(parseExitStatus('{"exitCode":3,"oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}\n')).toEqual({
      exitCode: 3,
      oomKilled: false,
      finishedAt: '2026-11-22T05:05:27.123Z',
    });
    expect(parseExitStatus('{"exitCode":137,"signal":9,"oomKilled":true,"finishedAt":"2026-11-22T05:05:27.123Z"}')).toEqual({
      exitCode: 137,
      signal: 9,
      oomKilled: true,
      finishedAt: '2026-11-22T05:05:27.123Z',
    });
  });

  it.each([
    ['', /not JSON/],
    ['{"exitCode":3', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"exitCode":-1,"oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}', /exitCode/],
    ['{"exitCode":256,"oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}', /exitCode/],
    ['{"exitCode":"0","oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}', /exitCode/],
    ['{"exitCode":137,"signal":0,"oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}', /signal/],
    ['{"exitCode":0,"oomKilled":"no","finishedAt":"2026-11-22T05:05:27.123Z"}', /oomKilled/],
    ['{"exitCode":0,"oomKilled":false}', /finishedAt/],
    [' '.repeat(5000), /too large/],
  ])('rejects %j', (text, reason) => {
    const err = thrown(() => parseExitStatus(text, '/x/exit.json'));
    expect(isGroveError(err, ErrorCode.ShimFailed)).toBe(true);
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).toContain('/x/exit.json');
  });
});

describe('readExitStatus', () => {
  it('is undefined before the container exited', async () => {
    expect(await readExitStatus(tempDir())).toBeUndefined();
    expect(await readExitStatus('/nonexistent/grove')).toBeUndefined();
  });

  it('reads and validates the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'exit.json'), '{"exitCode":0,"oomKilled":false,"finishedAt":"2026-11-22T05:05:27.123Z"}\n');
    expect(await readExitStatus(dir)).toMatchObject({ exitCode: 0 });
    writeFileSync(join(dir, 'exit.json'), '{"exitCode":0}');
    await expect(readExitStatus(dir)).rejects.toMatchObject({ code: ErrorCode.ShimFailed });
  });
});

describe('readPidFile', () => {
  it('reads a pid and rejects junk', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), '1234\n');
    writeFileSync(join(dir, 'b'), '12ab');
    writeFileSync(join(dir, 'c'), '0');
    expect(await readPidFile(join(dir, 'a'))).toBe(1234);
    expect(await readPidFile(join(dir, 'b'))).toBeUndefined();
    expect(await readPidFile(join(dir, 'c'))).toBeUndefined();
    expect(await readPidFile(join(dir, 'missing'))).toBeUndefined();
  });
});

describe('isProcessAlive', () => {
  it('checks liveness and, against pid reuse, the command line', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(process.pid, process.argv0.includes('node') ? 'node' : '')).toBe(true);
    expect(isProcessAlive(process.pid, 'grove-shim --id nothing-like-this')).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-5)).toBe(false);
    expect(isProcessAlive(2 ** 31)).toBe(false);
  });

  it('is false once a process has exited', async () => {
    const child = spawn('sleep', ['30']);
    const pid = child.pid as number;
    expect(isProcessAlive(pid, 'sleep 30')).toBe(true);
    expect(processStartTime(pid)).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(isProcessAlive(pid)).toBe(false);
    expect(processStartTime(pid)).toBeUndefined();
  });
});
