import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { endQuietlyWhenOutputCloses, isClosedOutputError } from '../../src/cli/closed-output.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`write ${code}`), { code });

function fakeProcess() {
  const exits: number[] = [];
  const proc = { stdout: new EventEmitter(), stderr: new EventEmitter(), exit: (code: number) => void exits.push(code) };
  endQuietlyWhenOutputCloses(proc);
  return { proc, exits };
}

describe('a closed output', () => {
  it('stdout closed by its reader (| head -1): exits 0 at once, without a word', () => {
    const { proc, exits } = fakeProcess();
    proc.stdout.emit('error', errno('EPIPE'));
    expect(exits).toEqual([0]);
  });

  it('stderr closed: carries on (the exit code still tells)', () => {
    const { proc, exits } = fakeProcess();
    proc.stderr.emit('error', errno('EPIPE'));
    expect(exits).toEqual([]);
  });

  it('any other write error stays fatal', () => {
    const { proc, exits } = fakeProcess();
    expect(() => proc.stdout.emit('error', errno('EIO'))).toThrow('write EIO');
    expect(() => proc.stderr.emit('error', errno('ENOSPC'))).toThrow('write ENOSPC');
    expect(exits).toEqual([]);
  });

  it('knows a closed pipe or socket when it sees one', () => {
    expect(isClosedOutputError(errno('EPIPE'))).toBe(true);
    expect(isClosedOutputError(errno('ECONNRESET'))).toBe(true);
    expect(isClosedOutputError(errno('EBADF'))).toBe(false);
    expect(isClosedOutputError(undefined)).toBe(false);
  });
});
