import { describe, expect, it } from 'vitest';
import { humanDuration, oneLine, quoteCommand, table } from '../../src/cli/format.js';

const DAY = 24 * 3600_000;

describe('CLI formatting', () => {
  it('aligns table columns', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('A     LONGER\nxyz   1\nq     22');
  });
  it('keeps every table row on one line, whatever a cell holds', () => {
    expect(table(['NAME', 'STATUS'], [['web', 'CreateError: line one\nline two\r\n\tend']])).toBe('NAME   STATUS\nweb    CreateError: line one\\nline two\\r\\n\\tend');
  });
  it('prints durations like docker ps', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(5000)).toBe('5 seconds');
    expect(humanDuration(61_000)).toBe('About a minute');
    expect(humanDuration(3 * 3600_000)).toBe('3 hours');
    expect(humanDuration(72 * 3600_000)).toBe('3 days');
    expect(humanDuration(13 * DAY)).toBe('13 days');
    expect(humanDuration(15 * DAY)).toBe('2 weeks');
    expect(humanDuration(59 * DAY)).toBe('8 weeks');
    expect(humanDuration(61 * DAY)).toBe('2 months');
    expect(humanDuration(729 * DAY)).toBe('24 months');
    expect(humanDuration(3 * 365 * DAY)).toBe('3 years');
  });
  it('quotes and truncates commands as docker ps does (20 characters with the ellipsis)', () => {
    expect(quoteCommand(['sleep', '10'])).toBe('"sleep 10"');
    expect(quoteCommand(['sh', '-c', 'echo a very long command line here'])).toBe('"sh -c echo a very l…"');
    expect(quoteCommand(['sh', '-c', 'echo a very long command line here'], true)).toBe('"sh -c echo a very long command line here"');
    expect(quoteCommand(['x'.repeat(20)])).toBe(`"${'x'.repeat(20)}"`);
  });
  it('shows a multi-line command on one line, escaped, and never cuts an escape in half', () => {
    const script = ['sh', '-c', 'while true; do\n  echo "hi"\n  sleep 1\ndone'];
    expect(quoteCommand(script, true)).toBe('"sh -c while true; do\\n  echo \\"hi\\"\\n  sleep 1\\ndone"');
    expect(quoteCommand(script)).toBe('"sh -c while true; d…"');
    expect(quoteCommand(['printf', '\x1b[2J\u202e\t\\'], true)).toBe('"printf \\x1b[2J\\u202e\\t\\\\"');
    // 16 characters, then an escape of 6 that would pass the 19 before the ellipsis: it is left out whole.
    expect(quoteCommand(['x'.repeat(16), '\u202e'])).toBe(`"${'x'.repeat(16)} …"`);
  });
  it('escapes only what a terminal would not print', () => {
    expect(oneLine('plain text, ünïcödé, 日本語 ✓')).toBe('plain text, ünïcödé, 日本語 ✓');
    expect(oneLine('a\u0000b\u007fc\u200bd\u2028e\u{e0001}')).toBe('a\\x00b\\x7fc\\u200bd\\u2028e\\U000e0001');
  });
});
