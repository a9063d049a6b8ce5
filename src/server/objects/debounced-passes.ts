/**
 * Runs a publisher's pass at most once at a time, a debounce after the first change of a burst
 * (an apply of ten objects, a burst of slice writes or bindings is one pass), and again at once
 * when changes arrived while it ran. What a pass does, and what a failed one leaves for the
 * next, is the caller's (its `pass` catches its own errors).
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

export class DebouncedPasses {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly debounceMs: number,
    private readonly pass: () => Promise<void>,
  ) {}

  /** Allows passes and runs one now. */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** No pass starts after this; resolves when the running one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** A pass after the debounce; while one runs, one more right after it. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.debounceMs);
  }

  /** Resolves when no pass is pending or running; a pass waiting out its debounce runs now. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.timer) {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
        this.kick();
        if (!this.running) return;
      } else return;
    }
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = (async () => {
      do {
        this.dirty = false;
        await this.pass();
      } while (this.dirty && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }
}
