import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, parseBytes, parseCpus, parseDurationMs, parseDurationSeconds } from '../../src/core/quantity.js';

describe('quantities', () => {
  it.each([
    ['32m', 32 * 1024 ** 2],
    ['64Mi', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['1.5g', 1.5 * 1024 ** 3],
    ['4096', 4096],
  ])('parses memory %s', (input, bytes) => {
    expect(parseBytes(input, '--memory')).toBe(bytes);
  });

  it('names the flag and the bad value', () => {
    expect(() => parseBytes('32q', '--memory')).toThrow('--memory: "32q" is not a size');
    expect(() => parseCpus('lots', '--cpus')).toThrow('--cpus: "lots" is not a CPU amount');
  });

  it('durations: whole seconds for manifests, milliseconds for options, written back the same way', () => {
    expect(parseDurationSeconds('1h30m', 'f')).toBe(5400);
    expect(() => parseDurationSeconds('500ms', 'f')).toThrow('f: "500ms" is not a duration (use e.g. 90s, 30m, 24h, 7d)');
    expect(parseDurationMs('500ms', 'f')).toBe(500);
    expect(parseDurationMs('1m30s', 'f')).toBe(90_000);
    expect(() => parseDurationMs('0ms', 'f')).toThrow('f: "0ms" must be longer than 0s');
    expect(() => parseDurationMs('1x', 'f')).toThrow('f: "1x" is not a duration (use e.g. 500ms, 90s, 30m, 24h)');
    expect([90_000, 3_600_500, 0].map(formatDuration)).toEqual(['1m30s', '1h500ms', '0s']);
  });

  it('parses cpus as cores or millicores', () => {
    expect(parseCpus('0.5', 'cpus')).toBe(0.5);
    expect(parseCpus('250m', 'cpus')).toBe(0.25);
    expect(parseCpus(2, 'cpus')).toBe(2);
    expect(() => parseCpus('0', 'cpus')).toThrow('must be above 0');
  });

  it('formats sizes for humans', () => {
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5KiB');
    expect(formatBytes(64 * 1024 ** 2)).toBe('64MiB');
  });
});
