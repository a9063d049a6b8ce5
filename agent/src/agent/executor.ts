/**
 * Performs planned steps through the NodeRuntime, in plan order. Removals run side by side
 * (at most REMOVAL_CONCURRENCY at once) and in the background: execute() waits for them only
 * `removalWaitMs`, so a container with a long stop grace never stalls the reconcile loop; until
 * its removal ends, starts of the same app wait (old and new never overlap) and the finished
 * removal calls `onRemovalSettled` for another round. Starts and restarts run one at a time. Two backoffs,
 * both doubling to a 5-minute cap, so neither a bad image nor a crash loop hammers the
 * registry or the CPU; the failure is kept for the status report:
 * - pull / create failures: from 1 s (a registry that was briefly unreachable is retried soon);
 * - exited containers (CrashLoopBackOff): Kubernetes' series, each restart waits 10 s, 20 s,
 *   40 s, … 300 s after the exit, reset once a container ran 10 minutes before exiting. The
 *   count lives in memory: after an agent restart the series starts at 10 s again (the
 *   restart count itself is a container label and survives).
 */
import { ErrorCode, errorMessage, isGroveError, type ErrorCode as Code } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { Clock } from '../../../src/core/clock.js';
import { Labels, podContainerKey, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
import type { Step } from './planner.js';

export type FailureReason = 'ImagePullError' | 'CreateError' | 'CrashLoopBackOff' | 'RemoveError';

export interface ContainerFailure {
  reason: FailureReason;
  message: string;
  /** Consecutive failures (or restarts, for a crash loop) that the backoff counts. */
  failures: number;
  /** Clock time before which the container is not (re)started again. */
  retryAt: number;
  /** CrashLoopBackOff only: the exited container this hold is about (its restart ends the hold). */
  exitedId?: string;
}

export interface StepResult {
  step: Step;
  ok: boolean;
  skipped?: boolean;
  error?: string;
}

export interface ExecutorOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  /** First delay after a pull / create failure (default 1 s). */
  initialBackoffMs?: number;
  /** First delay before restarting an exited container (default 10 s, as Kubernetes). */
  restartBackoffMs?: number;
  /** Cap of both backoffs (default 5 min). */
  maxBackoffMs?: number;
  /**
   * SIGTERM → SIGKILL grace when removing a running container whose pod set no
   * terminationGracePeriodSeconds (default 30 s, Kubernetes' default).
   */
  stopGraceSeconds?: number;
  /** A container that ran at least this long before exiting starts a fresh backoff (k8s: 10 min). */
  crashResetMs?: number;
  /** How long execute() waits for its removals before going on without them (default 2 s). */
  removalWaitMs?: number;
}

/** Removals (stop + remove) in flight at once. */
export const REMOVAL_CONCURRENCY = 4;

/** Errors that come from getting the image rather than from creating the container. */
const PULL_CODES: ReadonlySet<Code> = new Set<Code>([
  ErrorCode.InvalidImageReference,
  ErrorCode.ImageNotFound,
  ErrorCode.ManifestInvalid,
  ErrorCode.PlatformNotFound,
  ErrorCode.RegistryAuth,
  ErrorCode.RegistryUnavailable,
  ErrorCode.RegistryError,
  ErrorCode.InsecureRegistry,
  ErrorCode.DigestMismatch,
  ErrorCode.SizeLimit,
  ErrorCode.UnsafeLayer,
  ErrorCode.UnsupportedMediaType,
]);

export function failureReason(err: unknown): 'ImagePullError' | 'CreateError' {
  return isGroveError(err) && PULL_CODES.has(err.code) ? 'ImagePullError' : 'CreateError';
}

/** Backoff after the n-th consecutive failure (n ≥ 1): initial · 2^(n−1), capped. */
export function backoffDelay(failures: number, initialMs = 1000, maxMs = 300_000): number {
  if (failures <= 0) return 0;
  // Past 2^20 the cap has long been reached; avoid huge exponents.
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 20));
}

export const DEFAULT_RESTART_BACKOFF_MS = 10_000;

export class Executor {
  private readonly runtime: NodeRuntime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly initialMs: number;
  private readonly restartMs: number;
  private readonly maxMs: number;
  private readonly grace: number;
  private readonly crashResetMs: number;
  /** Keyed by "pod/container", or "remove:<id>" for removals. */
  private readonly failures = new Map<string, ContainerFailure>();
  private readonly removalWaitMs: number;
  /** Removals in flight: container id → its app. */
  private readonly removing = new Map<string, string>();
  private removalQueue: (() => Promise<void>)[] = [];
  private removalsRunning = 0;
  /** Called when a removal that outlived its execute() ends, so the caller plans again. */
  onRemovalSettled: (() => void) | undefined;

  constructor(options: ExecutorOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-executor' });
    this.initialMs = options.initialBackoffMs ?? 1000;
    this.restartMs = options.restartBackoffMs ?? DEFAULT_RESTART_BACKOFF_MS;
    this.maxMs = options.maxBackoffMs ?? 300_000;
    this.grace = options.stopGraceSeconds ?? 30;
    this.crashResetMs = options.crashResetMs ?? 10 * 60_000;
    this.removalWaitMs = options.removalWaitMs ?? 2000;
  }

  /** Whether a removal of some container of `app` is still in flight. */
  isRemoving(app: string): boolean {
    for (const a of this.removing.values()) if (a === app) return true;
    return false;
  }

  /** Whether a (re)start of this pod container must wait for its backoff to pass. */
  isHeld = (key: string): boolean => {
    const f = this.failures.get(key);
    return f !== undefined && this.clock.now() < f.retryAt;
  };

  failure(key: string): ContainerFailure | undefined {
    const f = this.failures.get(key);
    return f ? { ...f } : undefined;
  }

  /** The earliest pending retry time, so the reconciler can wake up for it. */
  nextRetryAt(): number | undefined {
    const now = this.clock.now();
    let min: number | undefined;
    for (const f of this.failures.values()) if (f.retryAt > now && (min === undefined || f.retryAt < min)) min = f.retryAt;
    return min;
  }

  /** A failure of work other than a container step (a pod sandbox): same backoff, same status. */
  recordFailure(key: string, reason: FailureReason, err: unknown, prefix = ''): void {
    this.fail(key, reason, err, prefix);
  }

  /** Forgets a failure (only one whose message starts with `prefix`, when given). */
  clearFailure(key: string, prefix = ''): void {
    if (this.failures.get(key)?.message.startsWith(prefix)) this.failures.delete(key);
  }

  /** Forgets failures of pod containers that are no longer desired (removal entries age out with their container). */
  retain(desiredKeys: ReadonlySet<string>, currentIds: ReadonlySet<string>): void {
    for (const key of this.failures.keys()) {
      const keep = key.startsWith('remove:') ? currentIds.has(key.slice(7)) : desiredKeys.has(key);
      if (!keep) this.failures.delete(key);
    }
  }

  async execute(steps: Step[], current: ManagedContainer[]): Promise<StepResult[]> {
    const byId = new Map(current.map((c) => [c.id, c]));
    const round = { over: false };
    const removals: { step: Step; done?: StepResult; promise?: Promise<StepResult> }[] = [];
    for (const step of steps) {
      if (step.type !== 'remove') continue;
      // Already being removed (a long grace outlives a round): not a second stop.
      if (this.removing.has(step.id)) removals.push({ step, done: { step, ok: false, skipped: true } });
      else {
        const entry: (typeof removals)[number] = { step };
        entry.promise = this.removeInBackground(step, byId, round).then((res) => (entry.done = res));
        removals.push(entry);
      }
    }
    const pending = removals.flatMap((r) => (r.promise ? [r.promise] : []));
    if (pending.length > 0 && !(await this.waitAtMost(Promise.all(pending), this.removalWaitMs))) {
      this.log.info({ pending: this.removing.size }, 'removals still stopping, going on without them');
    }
    round.over = true;
    // A removal still stopping reports as skipped; its end triggers the next round.
    const results: StepResult[] = removals.map((r) => r.done ?? { step: r.step, ok: false, skipped: true });
    for (const step of steps) {
      if (step.type === 'remove') continue;
      // Starts of an app wait until its old containers are gone (a same-named pod needs the name).
      if (this.isRemoving(step.pod.app)) results.push({ step, ok: false, skipped: true });
      else results.push(await this.perform(step, byId));
    }
    return results;
  }

  /** Resolves true when `work` ends within `ms` of the clock, false otherwise. */
  private waitAtMost(work: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void work.then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private removeInBackground(step: Extract<Step, { type: 'remove' }>, byId: Map<string, ManagedContainer>, round: { over: boolean }): Promise<StepResult> {
    this.removing.set(step.id, byId.get(step.id)?.labels[Labels.app] ?? '');
    return new Promise((resolve) => {
      this.removalQueue.push(async () => {
        const res = await this.perform(step, byId);
        this.removing.delete(step.id);
        resolve(res);
        if (round.over) this.onRemovalSettled?.();
      });
      this.pumpRemovals();
    });
  }

  private pumpRemovals(): void {
    while (this.removalsRunning < REMOVAL_CONCURRENCY && this.removalQueue.length > 0) {
      const job = this.removalQueue.shift()!;
      this.removalsRunning++;
      void job().finally(() => {
        this.removalsRunning--;
        this.pumpRemovals();
      });
    }
  }

  private async perform(step: Step, byId: Map<string, ManagedContainer>): Promise<StepResult> {
    switch (step.type) {
      case 'remove': {
        const key = `remove:${step.id}`;
        if (this.isHeld(key)) return { step, ok: false, skipped: true };
        // The pod's own grace (recorded on the container at start) wins over the agent's default.
        const grace = step.graceSeconds ?? this.grace;
        try {
          await this.runtime.stop(step.id, grace);
          await this.runtime.remove(step.id);
          this.failures.delete(key);
          this.log.info({ id: step.id.slice(0, 12), name: byId.get(step.id)?.name, reason: step.reason, graceSeconds: grace }, 'removed container');
          return { step, ok: true };
        } catch (err) {
          this.fail(key, 'RemoveError', err);
          return { step, ok: false, error: errorMessage(err) };
        }
      }
      case 'start': {
        const key = podContainerKey(step.pod.name, step.container.name);
        try {
          const c = await this.runtime.start(step.pod, step.container);
          this.failures.delete(key);
          this.log.info({ pod: step.pod.name, container: step.container.name, id: c.id.slice(0, 12) }, 'started container');
          return { step, ok: true };
        } catch (err) {
          this.fail(key, failureReason(err), err);
          return { step, ok: false, error: errorMessage(err) };
        }
      }
      case 'restart': {
        const key = podContainerKey(step.pod.name, step.container.name);
        const old = byId.get(step.id);
        if (step.reason !== 'not-started' && this.holdExit(key, step.id, old)) return { step, ok: false, skipped: true };
        const restarts = (old?.restarts ?? 0) + (step.reason === 'not-started' ? 0 : 1);
        try {
          await this.runtime.remove(step.id);
        } catch (err) {
          this.fail(key, 'CreateError', err, 'removing the exited container failed: ');
          return { step, ok: false, error: errorMessage(err) };
        }
        try {
          const c = await this.runtime.start(step.pod, step.container, { restarts });
          // The crash entry stays (its retryAt is past, so nothing is held): the count of
          // restarts in a row is what the next exit's delay is computed from.
          this.log.info({ pod: step.pod.name, container: step.container.name, id: c.id.slice(0, 12), restarts, reason: step.reason }, 'restarted container');
          return { step, ok: true };
        } catch (err) {
          this.fail(key, failureReason(err), err);
          return { step, ok: false, error: errorMessage(err) };
        }
      }
    }
  }

  /**
   * First sight of an exited container: records the crash and holds its restart for the next
   * delay of the series (true). Once that delay has passed the planner asks again and the
   * entry names this container, so the restart goes ahead (false).
   */
  private holdExit(key: string, id: string, old: ManagedContainer | undefined): boolean {
    let prev = this.failures.get(key);
    if (prev?.reason === 'CrashLoopBackOff' && prev.exitedId === id) return false;
    // A healthy run of crashResetMs ends the loop: the next restart waits the base delay again.
    if (prev?.reason !== 'CrashLoopBackOff' || (old && ranFor(old) >= this.crashResetMs)) prev = undefined;
    const failures = (prev?.failures ?? 0) + 1;
    const delay = backoffDelay(failures, this.restartMs, this.maxMs);
    const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${key.slice(key.indexOf('/') + 1)} pod=${key.slice(0, key.indexOf('/'))} (exit ${old?.exitCode ?? 'unknown'})`;
    // Counted from the exit, not from when a poll noticed it, so the series is the same
    // whatever the poll interval; a finish time from the future (clock step) counts as now.
    const now = this.clock.now();
    const exitedAt = old?.finishedAt ? Date.parse(old.finishedAt) : NaN;
    const from = Number.isFinite(exitedAt) && exitedAt <= now ? exitedAt : now;
    this.failures.set(key, { reason: 'CrashLoopBackOff', message, failures, retryAt: from + delay, exitedId: id });
    this.log.info({ key, failures, retryInMs: delay, exitCode: old?.exitCode }, 'container exited, restart backed off');
    // An exit seen late (the agent was down) whose delay has already passed restarts now.
    return from + delay > now;
  }

  private fail(key: string, reason: FailureReason, err: unknown, prefix = ''): void {
    const prev = this.failures.get(key);
    // A pull / create failure starts its own count: the crash loop's count is not its business.
    const failures = (prev && prev.reason !== 'CrashLoopBackOff' ? prev.failures : 0) + 1;
    const delay = backoffDelay(failures, this.initialMs, this.maxMs);
    const message = err === undefined ? prefix : `${prefix}${errorMessage(err)}`;
    this.failures.set(key, { reason, message, failures, retryAt: this.clock.now() + delay });
    if (err !== undefined) this.log.warn({ key, reason, failures, retryInMs: delay, err: errorMessage(err) }, 'container step failed, backing off');
  }
}

function ranFor(c: ManagedContainer): number {
  if (!c.startedAt || !c.finishedAt) return 0;
  return Date.parse(c.finishedAt) - Date.parse(c.startedAt);
}
