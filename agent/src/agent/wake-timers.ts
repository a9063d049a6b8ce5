/**
 * The reconciler's two timers: the poll (exits nobody told us about) and one wake-up for what is
 * due on time alone (a backoff ends, a window opens, a lock maximum or a Job timer passes). The
 * wake-up is capped, so a window weeks away does not overflow setTimeout (~24.8 days); the next
 * round arms it again.
 */
import type { Clock, TimerHandle } from '../../../src/core/clock.js';

/** Longest single timer armed. */
const MAX_WAKE_MS = 3600_000;

export class WakeTimers {
  private poll: TimerHandle | undefined;
  private wake: { handle: TimerHandle; at: number } | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onPoll: () => void,
    private readonly onWake: () => void,
  ) {}

  /** Polls every `ms` from now on (none for 0). */
  startPolling(ms: number): void {
    this.stopped = false;
    if (ms <= 0 || this.poll) return;
    this.poll = this.clock.setTimeout(() => {
      this.poll = undefined;
      this.onPoll();
      if (!this.stopped) this.startPolling(ms);
    }, ms);
  }

  /** Wakes up at `at` (replacing the previous wake-up), or not at all. */
  wakeAt(at: number | undefined): void {
    if (this.stopped || this.wake?.at === at) return;
    if (this.wake) this.clock.clearTimeout(this.wake.handle);
    this.wake = undefined;
    if (at === undefined) return;
    const handle = this.clock.setTimeout(() => {
      this.wake = undefined;
      this.onWake();
    }, Math.min(at - this.clock.now(), MAX_WAKE_MS));
    this.wake = { handle, at };
  }

  stop(): void {
    this.stopped = true;
    if (this.poll) this.clock.clearTimeout(this.poll);
    if (this.wake) this.clock.clearTimeout(this.wake.handle);
    this.poll = this.wake = undefined;
  }
}
