import { describe, expect, it } from 'vitest';
import { CronSyntaxError, isTimeZone, lastFiring, nextFiring, parseCron, windowState } from '../../src/core/cron-window.js';

const T = (iso: string): number => Date.parse(iso);
const H = 3600_000;

describe('parseCron', () => {
  it('parses 5 and 6 fields, ranges, steps, lists and names', () => {
    const s = parseCron('0 2 * * *');
    expect(s.hasSeconds).toBe(false);
    expect([...s.seconds]).toEqual([0]);
    expect([...s.hours]).toEqual([2]);
    expect(s.days.size).toBe(31);
    const t = parseCron('*/15 1-3,22 * jan-mar mon,fri,7');
    expect([...t.minutes]).toEqual([0, 15, 30, 45]);
    expect([...t.hours]).toEqual([1, 2, 3, 22]);
    expect([...t.months]).toEqual([1, 2, 3]);
    expect([...t.weekdays].sort()).toEqual([0, 1, 5]);
    const u = parseCron('30 */10 * * * *');
    expect(u.hasSeconds).toBe(true);
    expect([...u.seconds]).toEqual([30]);
    expect([...u.minutes]).toEqual([0, 10, 20, 30, 40, 50]);
    expect([...parseCron('5-59/20 * * * *').minutes]).toEqual([5, 25, 45]);
  });

  it.each([
    ['0 2 * *', /5 or 6 fields/],
    ['61 * * * *', /minute: 61 is outside 0\.\.59/],
    ['0 25 * * *', /hour/],
    ['0 2 * * * * *', /5 or 6 fields/],
    ['0 2 5-1 * *', /backwards/],
    ['*/0 * * * *', /step/],
    ['5/20 * * * *', /a step needs \* or a range/],
    ['x * * * *', /not a number/],
    ['0 2 * foo *', /month/],
  ])('rejects %s', (expr, why) => {
    expect(() => parseCron(expr)).toThrow(CronSyntaxError);
    expect(() => parseCron(expr)).toThrow(why);
  });
});

describe('window evaluation (UTC)', () => {
  const nightly = parseCron('0 2 * * *');

  it('finds the last and next firing', () => {
    expect(lastFiring(nightly, T('2026-03-10T03:30:00Z'), 2 * H, 'UTC')).toBe(T('2026-03-10T02:00:00Z'));
    expect(lastFiring(nightly, T('2026-03-10T04:30:00Z'), 2 * H, 'UTC')).toBeUndefined();
    expect(nextFiring(nightly, T('2026-03-10T03:30:00Z'), 48 * H, 'UTC')).toBe(T('2026-03-11T02:00:00Z'));
    // Exactly at a firing: it counts as the last one, and the next is the one after it.
    expect(lastFiring(nightly, T('2026-03-10T02:00:00Z'), H, 'UTC')).toBe(T('2026-03-10T02:00:00Z'));
    expect(nextFiring(nightly, T('2026-03-10T02:00:00Z'), 48 * H, 'UTC')).toBe(T('2026-03-11T02:00:00Z'));
  });

  it('is open in [start, start + duration) and says when it closes or opens', () => {
    expect(windowState(nightly, 2 * H, T('2026-03-10T01:59:59Z'), 'UTC')).toEqual({ open: false, opensAt: T('2026-03-10T02:00:00Z') });
    expect(windowState(nightly, 2 * H, T('2026-03-10T02:00:00Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-10T04:00:00Z') });
    expect(windowState(nightly, 2 * H, T('2026-03-10T03:59:59Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-10T04:00:00Z') });
    expect(windowState(nightly, 2 * H, T('2026-03-10T04:00:00Z'), 'UTC')).toEqual({ open: false, opensAt: T('2026-03-11T02:00:00Z') });
  });

  it('remembers a closed window only until it opens, and not for earlier times', () => {
    const s = parseCron('0 3 * * *');
    expect(windowState(s, H, T('2026-03-10T04:30:00Z'), 'UTC')).toEqual({ open: false, opensAt: T('2026-03-11T03:00:00Z') });
    expect(windowState(s, H, T('2026-03-10T05:00:00Z'), 'UTC')).toEqual({ open: false, opensAt: T('2026-03-11T03:00:00Z') });
    expect(windowState(s, H, T('2026-03-10T03:30:00Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-10T04:00:00Z') });
    expect(windowState(s, H, T('2026-03-11T03:00:00Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-11T04:00:00Z') });
  });

  it('handles second-resolution schedules and windows spanning midnight', () => {
    const every10s = parseCron('*/10 * * * * *');
    expect(windowState(every10s, 3000, T('2026-03-10T12:00:12Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-10T12:00:13Z') });
    expect(windowState(every10s, 3000, T('2026-03-10T12:00:13Z'), 'UTC')).toEqual({ open: false, opensAt: T('2026-03-10T12:00:20Z') });
    const late = parseCron('30 23 * * *');
    expect(windowState(late, 2 * H, T('2026-03-11T01:00:00Z'), 'UTC')).toEqual({ open: true, closesAt: T('2026-03-11T01:30:00Z') });
  });

  it('matches day of month AND day of week, as node-cron does', () => {
    // 2026-03-13 is a Friday; "13th and Friday" next falls on 2026-11-13.
    const friday13 = parseCron('0 0 13 * fri');
    expect(nextFiring(friday13, T('2026-03-13T00:00:00Z'), 400 * 24 * H, 'UTC')).toBe(T('2026-11-13T00:00:00Z'));
    expect(windowState(parseCron('0 0 30 2 *'), H, T('2026-03-10T00:00:00Z'), 'UTC')).toEqual({ open: false });
  });
});

describe('window evaluation in a time zone', () => {
  it('reads the schedule in the given zone (Asia/Kolkata, UTC+05:30, no DST)', () => {
    const nightly = parseCron('0 2 * * *');
    // 02:00 in Kolkata is 20:30 UTC the day before.
    expect(windowState(nightly, H, T('2026-03-09T20:45:00Z'), 'Asia/Kolkata')).toEqual({ open: true, closesAt: T('2026-03-09T21:30:00Z') });
    expect(windowState(nightly, H, T('2026-03-10T02:15:00Z'), 'Asia/Kolkata')).toEqual({ open: false, opensAt: T('2026-03-10T20:30:00Z') });
    expect(windowState(nightly, H, T('2026-03-10T02:15:00Z'), 'UTC').open).toBe(true);
  });

  it('knows time zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
