/**
 * Keeps a message that can repeat at the rate of its sender (a node's statuses, its RPC answers)
 * from filling the log: per key, one line per interval, and the next line says how many were
 * held back in between. Pure: time comes from `now`, and the key table is bounded, so a sender
 * inventing keys cannot grow it either.
 */
export interface LogThrottleOptions {
  now: () => number;
  /** One line per key per this long (default 60 s). */
  intervalMs?: number;
  /** Keys remembered; the least recently logged is forgotten first (default 1000). */
  maxKeys?: number;
}

interface KeyState {
  loggedAt: number;
  suppressed: number;
}

export class LogThrottle {
  private readonly keys = new Map<string, KeyState>();
  private readonly intervalMs: number;
  private readonly maxKeys: number;

  constructor(private readonly opts: LogThrottleOptions) {
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.maxKeys = opts.maxKeys ?? 1000;
  }

  /**
   * Whether to log now: undefined to stay quiet, else how many lines with this key were held
   * back since the last one that was let through (0 the first time).
   */
  admit(key: string): number | undefined {
    const now = this.opts.now();
    const state = this.keys.get(key);
    if (state && now - state.loggedAt < this.intervalMs) {
      state.suppressed++;
      return undefined;
    }
    const suppressed = state?.suppressed ?? 0;
    // Re-inserted so the Map's order stays "least recently logged first" for eviction.
    this.keys.delete(key);
    this.keys.set(key, { loggedAt: now, suppressed: 0 });
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
    return suppressed;
  }
}
