import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { endQuietlyWhenOutputCloses } from '../../src/cli/closed-output.js';
import { DroppingDestination, survivingStreamErrors } from '../../src/core/log-destination.js';

/** A file descriptor that fails the way the test says, and records what reached it. */
function fakeFd() {
  const state = { written: '', fail: undefined as string | undefined, partial: 0, eagain: 0 };
  const write = (_fd: number, data: Buffer): number => {
    if (state.eagain > 0) {
      state.eagain--;
      throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
    }
    if (state.partial > 0) {
      const n = Math.min(state.partial, data.length);
      state.written += data.subarray(0, n).toString();
      state.partial = 0;
      return n;
    }
    if (state.fail) throw Object.assign(new Error(`${state.fail}: failed, write`), { code: state.fail });
    state.written += data.toString();
    return data.length;
  };
  return { state, write };
}

describe('DroppingDestination', () => {
  it('drops and counts lines while writing fails, then says how many were dropped', () => {
    const fd = fakeFd();
    const dest = new DroppingDestination({ write: fd.write, now: () => 1000 });
    const log = pino({ base: undefined, timestamp: false }, dest);
    log.info('before');
    fd.state.fail = 'ENOSPC';
    for (let i = 0; i < 5; i++) expect(() => log.error({ i }, 'while full')).not.toThrow();
    expect(dest.dropped).toBe(5);
    fd.state.fail = undefined;
    log.info('after');
    const lines = fd.state.written.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; dropped?: number });
    expect(lines.map((l) => l.msg)).toEqual(['before', '5 log lines were dropped: writing the log failed (no space left on device)', 'after']);
    expect(lines[1]).toMatchObject({ level: 40, dropped: 5, component: 'logger', time: 1000 });
    expect(dest.dropped).toBe(0);
  });

  it('names other failures by their code (a closed pipe)', () => {
    const fd = fakeFd();
    const dest = new DroppingDestination({ write: fd.write });
    fd.state.fail = 'EPIPE';
    dest.write('{"msg":"a"}\n');
    fd.state.fail = undefined;
    dest.write('{"msg":"b"}\n');
    expect(fd.state.written).toContain('1 log line was dropped: writing the log failed (EPIPE)');
  });

  it('starts a new line after a line cut short, and retries a full pipe briefly', () => {
    const fd = fakeFd();
    const dest = new DroppingDestination({ write: fd.write });
    fd.state.partial = 4;
    fd.state.fail = 'ENOSPC';
    dest.write('{"msg":"cut short"}\n');
    fd.state.fail = undefined;
    dest.write('{"msg":"next"}\n');
    expect(fd.state.written.split('\n')[0]).toBe('{"ms');
    expect(JSON.parse(fd.state.written.split('\n')[1]!)).toMatchObject({ dropped: 1 });
    fd.state.written = '';
    fd.state.eagain = 2;
    dest.write('{"msg":"slow reader"}\n');
    expect(fd.state.written).toBe('{"msg":"slow reader"}\n');
  });
});

describe('survivingStreamErrors', () => {
  it('keeps a stream error from becoming an uncaught exception', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WritableStream;
    expect(() => stream.emit('error', new Error('ENOSPC'))).toThrow();
    survivingStreamErrors(stream);
    survivingStreamErrors(stream);
    expect(stream.listenerCount('error')).toBe(1);
    expect(() => stream.emit('error', new Error('ENOSPC'))).not.toThrow();
  });

  it('wins over the CLI handler that rethrows all but a closed pipe (a daemon whose log disk is full)', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WritableStream;
    const exits: number[] = [];
    endQuietlyWhenOutputCloses({ stdout: stream, stderr: new EventEmitter(), exit: (code) => exits.push(code) });
    survivingStreamErrors(stream);
    expect(() => stream.emit('error', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }))).not.toThrow();
    stream.emit('error', Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
    expect(exits).toEqual([]);
  });
});
