import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { shimArguments } from '../../agent/src/shim/launcher.js';
import { isRfc3339Utc, parseShimMessage, type ShimLaunchOptions } from '../../agent/src/shim/protocol.js';

describe('parseShimMessage', () => {
  it('accepts a started message', () => {
    expect(parseShimMessage('{"type":"started","shimPid":10,"pid":11,"startedAt":"2026-11-22T05:05:27.123Z"}')).toEqual({
      type: 'started',
      shimPid: 10,
      pid: 11,
      startedAt: '2026-11-22T05:05:27.123Z',
    });
  });

  it('accepts an error message and drops unknown fields', () => {
    expect(parseShimMessage('{"type":"error","stage":"create","message":"boom","extra":1}')).toEqual({
      type: 'error',
      stage: 'create',
      message: 'boom',
    });
  });

  it.each([
    ['not json', /not JSON/],
    ['[1]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['{"type":"hello"}', /unknown message type/],
    ['{"type":"started","shimPid":0,"pid":11,"startedAt":"2026-11-22T05:05:27.123Z"}', /shimPid/],
    ['{"type":"started","shimPid":1.5,"pid":11,"startedAt":"2026-11-22T05:05:27.123Z"}', /shimPid/],
    ['{"type":"started","shimPid":10,"pid":"11","startedAt":"2026-11-22T05:05:27.123Z"}', /pid/],
    ['{"type":"started","shimPid":10,"pid":11,"startedAt":"yesterday"}', /startedAt/],
    ['{"type":"error","stage":"run","message":"x"}', /stage/],
    ['{"type":"error","stage":"start","message":42}', /message/],
  ])('rejects %s', (line, reason) => {
    const result = parseShimMessage(line);
    expect(typeof result).toBe('string');
    expect(result).toMatch(reason);
  });
});

describe('isRfc3339Utc', () => {
  it('accepts the shim formats and rejects others', () => {
    expect(isRfc3339Utc('2026-11-22T05:05:27Z')).toBe(true);
    expect(isRfc3339Utc('2026-11-22T05:05:27.123Z')).toBe(true);
    expect(isRfc3339Utc('2026-11-22T05:05:27.123456789Z')).toBe(true);
    expect(isRfc3339Utc('2026-11-22T05:05:27.123+01:00')).toBe(false);
    expect(isRfc3339Utc('2026-13-45T05:05:27Z')).toBe(false);
    expect(isRfc3339Utc(12)).toBe(false);
  });
});

describe('shimArguments', () => {
  const base: ShimLaunchOptions = {
    shimPath: '/usr/lib/grove/grove-shim',
    id: 'c0ffee',
    bundleDir: '/var/lib/grove/containers/c0ffee',
    stateDir: '/run/grove/c0ffee',
    runtimePath: '/usr/sbin/runc',
    runtimeRoot: '/run/grove/runc',
    logMaxBytes: 1048576,
    logMaxFiles: 2,
  };

  it('builds the command line, with --oom-file only when given', () => {
    expect(shimArguments(base)).toEqual([
      '--id', 'c0ffee',
      '--bundle', '/var/lib/grove/containers/c0ffee',
      '--state-dir', '/run/grove/c0ffee',
      '--runtime', '/usr/sbin/runc',
      '--runtime-root', '/run/grove/runc',
      '--log-max-bytes', '1048576',
      '--log-max-files', '2',
    ]);
    expect(shimArguments({ ...base, oomFile: '/sys/fs/cgroup/x/memory.events' }).slice(-2)).toEqual([
      '--oom-file',
      '/sys/fs/cgroup/x/memory.events',
    ]);
  });

  it('makes relative directories absolute (the shim chdirs to /)', () => {
    const args = shimArguments({ ...base, stateDir: 'state' });
    expect(args[args.indexOf('--state-dir') + 1]).toBe(`${process.cwd()}/state`);
  });

  it.each([
    [{ id: '../x' }, /container id/],
    [{ id: '' }, /container id/],
    [{ id: 'x'.repeat(129) }, /container id/],
    [{ runtimePath: 'runc' }, /runtime path/],
    [{ oomFile: 'memory.events' }, /oom file/],
    [{ logMaxBytes: 100 }, /logMaxBytes/],
    [{ logMaxBytes: 1.5e6 + 0.5 }, /logMaxBytes/],
    [{ logMaxFiles: 0 }, /logMaxFiles/],
    [{ logMaxFiles: 1001 }, /logMaxFiles/],
  ] as [Partial<ShimLaunchOptions>, RegExp][])('rejects %o', (patch, reason) => {
    let caught: unknown;
    try {
      shimArguments({ ...base, ...patch });
    } catch (err) {
      caught = err;
    }
    expect(isGroveError(caught, ErrorCode.InvalidArgument)).toBe(true);
    expect((caught as Error).message).toMatch(reason);
  });
});
