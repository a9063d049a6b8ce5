/**
 * Performs planned steps through the NodeRuntime, one at a time, in plan order. Two backoffs,
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
import type { Clock } from './clock.js';
import { podContainerKey, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
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
}

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

  constructor(options: ExecutorOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-executor' });
    this.initialMs = options.initialBackoffMs ?? 1000;
    this.restartMs = options.restartBackoffMs ?? DEFAULT_RESTART_BACKOFF_MS;
    this.maxMs = options.maxBackoffMs ?? 300_000;
    this.grace = options.stopGraceSeconds ?? 30;
    this.crashResetMs = options.crashResetMs ?? 10 * 60_000;
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

  /** Forgets failures of pod containers that are no longer desired (removal entries age out with their container). */
  retain(desiredKeys: ReadonlySet<string>, currentIds: ReadonlySet<string>): void {
    for (const key of this.failures.keys()) {
      const keep = key.startsWith('remove:') ? currentIds.has(key.slice(7)) : desiredKeys.has(key);
      if (!keep) this.failures.delete(key);
    }
  }

  async execute(steps: Step[], current: ManagedContainer[]): Promise<StepResult[]> {
    const byId = new Map(current.map((c) => [c.id, c]));
    const results: StepResult[] = [];
    for (const step of steps) results.push(await this.perform(step, byId));
    return results;
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
