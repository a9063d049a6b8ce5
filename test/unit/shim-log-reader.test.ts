import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followLog, listLogFiles, parseLogLine, readLogLines, type LogLine } from '../../agent/src/shim/log-reader.js';

const T = '2026-11-22T05:05:27.123456789Z';
const rec = (text: string, stream = 'stdout', tag = 'F'): string => `${T} ${stream} ${tag} ${text}\n`;
const texts = (lines: LogLine[]): string[] => lines.map((l) => l.text);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grove-logs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseLogLine', () => {
  it('parses full and partial lines of both streams', () => {
    expect(parseLogLine(`${T} stdout F hello world`)).toEqual({ time: T, stream: 'stdout', partial: false, text: 'hello world' });
    expect(parseLogLine(`${T} stderr P part`)).toEqual({ time: T, stream: 'stderr', partial: true, text: 'part' });
  });

  it('keeps text exactly, including leading spaces and an empty text', () => {
    expect(parseLogLine(`${T} stdout F   indented `)?.text).toBe('  indented ');
    expect(parseLogLine(`${T} stdout F `)?.text).toBe('');
    expect(parseLogLine(`${T} stdout F`)?.text).toBe('');
    expect(parseLogLine(`${T} stdout F a\rb`)?.text).toBe('a\rb');
  });

  it('accepts CRI tag lists and other offsets', () => {
    expect(parseLogLine(`${T} stdout P:x part`)?.partial).toBe(true);
    expect(parseLogLine('2026-11-22T06:05:27.1+01:00 stdout F x')?.text).toBe('x');
  });

  it.each([
    ['', 'empty'],
    ['garbage', 'no fields'],
    [`${T} stdin F x`, 'unknown stream'],
    [`${T} stdout X x`, 'unknown tag'],
    [`yesterday stdout F x`, 'bad time'],
  ])('rejects %j (%s)', (line) => {
    expect(parseLogLine(line)).toBeUndefined();
  });
});

describe('readLogLines', () => {
  function rotatedDir(): string {
    const dir = tempDir();
    writeFileSync(join(dir, 'container.log.2'), rec('one') + rec('two'));
    writeFileSync(join(dir, 'container.log.1'), rec('three') + rec('fo', 'stdout', 'P') + rec('ur'));
    writeFileSync(join(dir, 'container.log'), rec('five', 'stderr') + 'not a log line\n' + rec('six') + `${T} stdout F half-writ`);
    writeFileSync(join(dir, 'container.log.x'), rec('ignored'));
    writeFileSync(join(dir, 'exit.json'), '{}');
    return dir;
  }

  it('lists the files oldest first', async () => {
    const dir = rotatedDir();
    expect((await listLogFiles(dir)).map((f) => f.slice(dir.length + 1))).toEqual(['container.log.2', 'container.log.1', 'container.log']);
    expect(await listLogFiles(join(dir, 'missing'))).toEqual([]);
  });

  it('reads all files in order, skipping junk and an unterminated last record', async () => {
    const lines = await readLogLines(rotatedDir());
    expect(texts(lines)).toEqual(['one', 'two', 'three', 'fo', 'ur', 'five', 'six']);
    expect(lines.map((l) => l.partial)).toEqual([false, false, false, true, false, false, false]);
    expect(lines[5]?.stream).toBe('stderr');
  });

  it('returns the last lines with tail, across files', async () => {
    const dir = rotatedDir();
    expect(texts(await readLogLines(dir, { tail: 2 }))).toEqual(['five', 'six']);
    expect(texts(await readLogLines(dir, { tail: 4 }))).toEqual(['fo', 'ur', 'five', 'six']);
    expect(texts(await readLogLines(dir, { tail: 100 }))).toHaveLength(7);
    expect(await readLogLines(dir, { tail: 0 })).toEqual([]);
    await expect(readLogLines(dir, { tail: -1 })).rejects.toThrow(RangeError);
  });

  it('is empty when there is no log yet', async () => {
    expect(await readLogLines(tempDir())).toEqual([]);
  });
});

describe('followLog', () => {
  async function collect(it: AsyncIterable<LogLine>, out: LogLine[]): Promise<void> {
    for await (const line of it) out.push(line);
  }
  const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('replays, follows appends and rotations, and stops after the exit file', async () => {
    const dir = tempDir();
    const log = join(dir, 'container.log');
    writeFileSync(join(dir, 'container.log.1'), rec('old'));
    writeFileSync(log, rec('a') + rec('b'));
    const seen: LogLine[] = [];
    const done = collect(followLog(dir, { signal: new AbortController().signal, untilExit: true, pollMs: 20 }), seen);
    await tick();
    appendFileSync(log, rec('c'));
    await tick();
    // Rotation: the old file grows once more right before the rename; the reader must not lose it.
    appendFileSync(log, rec('d'));
    renameSync(join(dir, 'container.log.1'), join(dir, 'container.log.2'));
    renameSync(log, join(dir, 'container.log.1'));
    writeFileSync(log, rec('e'));
    await tick();
    appendFileSync(log, rec('f', 'stderr'));
    writeFileSync(join(dir, 'exit.json'), '{}');
    await done;
    expect(texts(seen)).toEqual(['old', 'a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('starts at the end with fromEnd and shows what was written up to an abort', async () => {
    const dir = tempDir();
    const log = join(dir, 'container.log');
    writeFileSync(log, rec('before'));
    const stop = new AbortController();
    const seen: LogLine[] = [];
    const done = collect(followLog(dir, { signal: stop.signal, fromEnd: true, pollMs: 20 }), seen);
    await tick();
    appendFileSync(log, rec('after'));
    stop.abort();
    await done;
    expect(texts(seen)).toEqual(['after']);
  });

  it('replays only the last lines with tail', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'container.log.1'), rec('1') + rec('2'));
    writeFileSync(join(dir, 'container.log'), rec('3'));
    writeFileSync(join(dir, 'exit.json'), '{}');
    const seen: LogLine[] = [];
    await collect(followLog(dir, { signal: new AbortController().signal, untilExit: true, tail: 2 }), seen);
    expect(texts(seen)).toEqual(['2', '3']);
  });

  it('waits for the log to appear, and ends on abort if it never does', async () => {
    const dir = tempDir();
    const stop = new AbortController();
    const seen: LogLine[] = [];
    const done = collect(followLog(dir, { signal: stop.signal, pollMs: 20 }), seen);
    await tick();
    writeFileSync(join(dir, 'container.log'), rec('late'));
    await tick(100);
    expect(texts(seen)).toEqual(['late']);
    stop.abort();
    await done;

    const never = new AbortController();
    const nothing = collect(followLog(tempDir(), { signal: never.signal, pollMs: 20 }), seen);
    await tick();
    never.abort();
    await nothing;
    expect(seen).toHaveLength(1);
  });
});
