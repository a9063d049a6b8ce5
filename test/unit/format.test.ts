import { describe, expect, it } from 'vitest';
import { humanDuration, quoteCommand, table } from '../../src/cli/format.js';

describe('CLI formatting', () => {
  it('aligns table columns', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('A     LONGER\nxyz   1\nq     22');
  });
  it('prints durations like docker ps', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(5000)).toBe('5 seconds');
    expect(humanDuration(61_000)).toBe('About a minute');
    expect(humanDuration(3 * 3600_000)).toBe('3 hours');
    expect(humanDuration(72 * 3600_000)).toBe('3 days');
  });
  it('quotes and truncates commands', () => {
    expect(quoteCommand(['sleep', '10'])).toBe('"sleep 10"');
    expect(quoteCommand(['sh', '-c', 'echo a very long command line here'])).toMatch(/…"$/);
  });
});
