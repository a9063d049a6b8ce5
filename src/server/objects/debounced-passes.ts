/**
 * Runs a publisher's pass at most once at a time, a debounce after the first change of a burst
 * (an apply of ten objects, a burst of slice writes or bindings is one pass), and again at once
 * when changes arrived while it ran. What a pass does, and what a failed one leaves for the
 * next, is the caller's (its `pass` catches its own errors).
 *
 * With `leading`, the first change after a quiet debounce runs a pass at once (a zero timer:
 * changes of the same tick are one pass) and later ones a debounce after the last pass ended, so
 * a lone change is not delayed while a storm still gets at most one pass per debounce. `before`
 * is awaited ahead of each pass, before the changes it will see are counted: a pass that waits
 * there for another component's burst to end covers the burst's changes.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

export interface DebouncedPassesOptions {
  leading?: boolean;
  before?: () => Promise<void>;
}

export class DebouncedPasses {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = true;
  private lastEnd = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly debounceMs: number,
    private readonly pass: () => Promise<void>,
    private readonly options: DebouncedPassesOptions = {},
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

  /** A pass after the debounce (`leading`: at once after a quiet one); while one runs, one more right after it. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    const now = this.clock.now();
    const delay = this.options.leading ? Math.max(0, this.lastEnd + this.debounceMs - now) : this.debounceMs;
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delay);
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
        await this.options.before?.();
        if (this.stopped) break;
        this.dirty = false;
        await this.pass();
      } while (this.dirty && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      this.lastEnd = this.clock.now();
    });
  }
}
