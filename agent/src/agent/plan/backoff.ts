/**
 * The agent's two backoffs, PURE: both double to a 5-minute cap, so neither a bad image nor a
 * crash loop hammers the registry or the CPU.
 * - work that failed (pull, create, remove, a pod sandbox): from 1 s, so a registry that was
 *   briefly unreachable is retried soon;
 * - a container that exited (CrashLoopBackOff): Kubernetes' series, each restart waits 10 s,
 *   20 s, 40 s, … 300 s after the exit, reset once a container ran 10 minutes before exiting.
 *   The count lives in memory: after an agent restart the series starts at 10 s again (the
 *   restart count itself is a container label and survives).
 */
import { ErrorCode, errorMessage, isGroveError, type ErrorCode as Code } from '../../../../src/core/errors.js';
import type { ManagedContainer } from '../node-runtime.js';
import type { ContainerWork, Failure, FailureReason, WorkId } from './steps.js';

export interface BackoffPolicy {
  /** First delay after a failed pull / create / removal (default 1 s). */
  initialMs: number;
  /** First delay before restarting an exited container (default 10 s, as Kubernetes). */
  restartMs: number;
  /** Cap of both (default 5 min). */
  maxMs: number;
  /** A container that ran at least this long before exiting starts a fresh series (k8s: 10 min). */
  crashResetMs: number;
}

export const DEFAULT_RESTART_BACKOFF_MS = 10_000;

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, restartMs: DEFAULT_RESTART_BACKOFF_MS, maxMs: 300_000, crashResetMs: 10 * 60_000 };

/** Backoff after the n-th consecutive failure (n ≥ 1): initial · 2^(n−1), capped. */
export function backoffDelay(failures: number, initialMs = 1000, maxMs = 300_000): number {
  if (failures <= 0) return 0;
  // Past 2^20 the cap has long been reached; avoid huge exponents.
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 20));
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

/** The failure to record when work failed at `now`, counting on from the previous one. */
export function failedAgain(prev: Failure | undefined, work: WorkId, reason: FailureReason, err: unknown, now: number, policy: BackoffPolicy, prefix = ''): Failure {
  // A pull / create failure starts its own count: the crash loop's count is not its business.
  const failures = (prev && prev.reason !== 'CrashLoopBackOff' ? prev.failures : 0) + 1;
  return { work, reason, message: `${prefix}${errorMessage(err)}`, failures, retryAt: now + backoffDelay(failures, policy.initialMs, policy.maxMs) };
}

function ranFor(c: ManagedContainer): number {
  if (!c.startedAt || !c.finishedAt) return 0;
  return Date.parse(c.finishedAt) - Date.parse(c.startedAt);
}

/**
 * First sight of an exited container that its policy restarts: the CrashLoopBackOff hold of the
 * next delay of the series, counted from the exit (not from when a poll noticed it, so the series
 * is the same whatever the poll interval; a finish time from the future — a clock step — counts
 * as now). Undefined when `prev` already is this container's hold: the restart may go ahead once
 * its time has come.
 */
export function crashHold(prev: Failure | undefined, work: ContainerWork, exited: ManagedContainer, now: number, policy: BackoffPolicy): Failure | undefined {
  if (prev?.reason === 'CrashLoopBackOff' && prev.exitedId === exited.id) return undefined;
  // A healthy run of crashResetMs ends the loop: the next restart waits the base delay again.
  const series = prev?.reason === 'CrashLoopBackOff' && ranFor(exited) < policy.crashResetMs ? prev.failures : 0;
  const failures = series + 1;
  const delay = backoffDelay(failures, policy.restartMs, policy.maxMs);
  const exitedAt = exited.finishedAt ? Date.parse(exited.finishedAt) : NaN;
  const from = Number.isFinite(exitedAt) && exitedAt <= now ? exitedAt : now;
  const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${work.container} pod=${work.pod} (exit ${exited.exitCode ?? 'unknown'})`;
  return { work, reason: 'CrashLoopBackOff', message, failures, retryAt: from + delay, exitedId: exited.id };
}
