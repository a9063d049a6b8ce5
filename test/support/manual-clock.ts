/**
 * A Clock that only moves when told to (src/core/clock.ts), for the unit tests of the server
 * and the agent: `advance(ms)` fires due timers in time order (ties in creation order),
 * including timers that the fired callbacks schedule inside the window.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<ManualTimer>();

  constructor(start: number | Date = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as ManualTimer);
  }

  /** Number of timers not yet fired, for tests that check nothing is left scheduled. */
  pending(): number {
    return this.timers.size;
  }

  /** Time of the earliest pending timer, if any. */
  nextAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = end;
  }
}
