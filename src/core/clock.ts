/**
 * Grove's one notion of time, for the server and the agent alike. Everything that reads the
 * time or waits (debounces, wake-ups, sweeps, heartbeats, retry backoffs, timeouts) goes through
 * a Clock, so tests drive hours of it in microseconds with test/support's ManualClock instead of
 * sleeping.
 */

/** Opaque: whatever the clock's setTimeout returned. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers fire at once for delays beyond 2^31 − 1 ms; waking early is harmless, at once is not. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Real time; timers are unref'd so a forgotten timer never keeps a process alive. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      t.unref();
      return t;
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

/**
 * Calls `fn` every `ms` on `clock` (the first call after `ms`) until the returned function is
 * called. Re-armed after each call, so a ManualClock advanced by a long stretch fires it once
 * per period, as real time would.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    if (handle) clock.clearTimeout(handle);
  };
}
