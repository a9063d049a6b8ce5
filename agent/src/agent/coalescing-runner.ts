/**
 * Runs an async job on triggers so that runs never overlap and never pile up: while one runs, at
 * most one more is queued, and every trigger in the meantime joins that queued run (which reads
 * the newest state when it starts). A run that throws is reported and the next trigger tries again.
 */
export class CoalescingRunner<R> {
  /** Completed runs, for tests and metrics. */
  runs = 0;
  private active: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private activeSince: number | undefined;
  private stopped = false;

  constructor(
    private readonly run: (reason: R) => Promise<void>,
    private readonly now: () => number,
    private readonly onError: (reason: R, err: unknown) => void,
  ) {}

  /** Resolves when the run that covers this trigger has finished. */
  trigger(reason: R): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.queued) return this.queued;
    if (!this.active) return this.launch(reason);
    this.queued = this.active.then(() => {
      this.queued = undefined;
      return this.stopped ? undefined : this.launch(reason);
    });
    return this.queued;
  }

  /** Resolves once no run is going or queued. */
  async idle(): Promise<void> {
    while (this.active || this.queued) await (this.queued ?? this.active);
  }

  /** Triggers are ignored from now on (until resume()); a queued run does not start. */
  stop(): void {
    this.stopped = true;
  }

  resume(): void {
    this.stopped = false;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** How long the current run has been going; 0 while idle (a watchdog's view of progress). */
  busyForMs(): number {
    return this.activeSince === undefined ? 0 : Math.max(0, this.now() - this.activeSince);
  }

  private launch(reason: R): Promise<void> {
    this.activeSince = this.now();
    const run: Promise<void> = this.run(reason)
      .catch((err: unknown) => this.onError(reason, err))
      .finally(() => {
        if (this.active === run) {
          this.active = undefined;
          this.activeSince = undefined;
        }
        this.runs += 1;
      });
    this.active = run;
    return run;
  }
}
