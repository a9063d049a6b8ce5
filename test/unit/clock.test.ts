import { describe, expect, it } from 'vitest';
import { every } from '../../src/core/clock.js';
import { ManualClock } from '../support/manual-clock.js';

describe('every', () => {
  it('calls once per period, the first after one period, until cancelled', () => {
    const clock = new ManualClock(0);
    const calls: number[] = [];
    const cancel = every(clock, 100, () => calls.push(clock.now()));
    clock.advance(99);
    expect(calls).toEqual([]);
    clock.advance(251);
    expect(calls).toEqual([100, 200, 300]);
    cancel();
    clock.advance(1000);
    expect(calls).toEqual([100, 200, 300]);
    expect(clock.pending()).toBe(0);
  });

  it('stops when cancelled from inside its own call', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const cancel = every(clock, 10, () => {
      if (++n === 2) cancel();
    });
    clock.advance(100);
    expect(n).toBe(2);
    expect(clock.pending()).toBe(0);
  });
});
