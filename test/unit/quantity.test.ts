import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes, parseCpus, parsePositiveInt } from '../../src/core/quantity.js';

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
    expect(() => parsePositiveInt('0', '--pids')).toThrow('--pids: "0" must be a positive whole number');
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
