/**
 * What the agent remembers between reconcile rounds, as plain data (maps of records; no
 * timers, no functions). plan() reads it; only the executor's handlers change it, as the steps
 * and their outcomes say (a failure and its backoff, a hold, a job record, a removal in flight).
 *
 * Not memory, on purpose: init progress and depends_on waits are derived anew from the
 * containers every round (their records survive an agent restart, which memory does not).
 */
import { refKey, type ConfigRef } from '../../../../src/core/config-refs.js';
import type { PodJobRecord } from '../jobs/decide.js';
import { workKey, type ContainerWork, type Failure, type Hold, type WorkId } from './steps.js';

export interface PlanMemory {
  /** Failures and their backoffs, by workKey(). */
  failures: Map<string, Failure>;
  /** Apps whose update is held back (update window or lock), and since when. */
  holds: Map<string, Hold>;
  /** Removals still in flight (they outlive a round when the grace is long): container id → app. */
  removing: Map<string, string>;
  /** Job / CronJob records by pod (also in the agent's store: a finished Job does not run again). */
  jobs: Map<string, PodJobRecord>;
  /** CronJob firings not taken in by a round yet, by pod (ms). */
  cronFires: Map<string, number[]>;
  /** CronJob schedules in force: pod → what the schedule was made from (PodJobs' key). */
  cronSchedules: Map<string, string>;
  /** ConfigMaps/Secrets that changed since the last round (their pods' files and retries wait for it). */
  configChanged: ConfigRef[];
  /** Lock directories watched for a release (sorted app names). */
  watchedLocks: string;
  /** /etc/hosts content last written, by pod, and each pod's bridge address as last seen. */
  hosts: Map<string, string>;
  podIPs: Map<string, string>;
  /** The app set lock directories were last pruned for, the pod set volume directories were cleaned for. */
  locksPrunedFor?: string;
  podDirsCleanedFor?: string;
}

export function emptyMemory(): PlanMemory {
  return {
    failures: new Map(),
    holds: new Map(),
    removing: new Map(),
    jobs: new Map(),
    cronFires: new Map(),
    cronSchedules: new Map(),
    configChanged: [],
    watchedLocks: '',
    hosts: new Map(),
    podIPs: new Map(),
  };
}

/** Notes ConfigMaps/Secrets that changed, once each, for the next round (plan: refresh-config). */
export function noteConfigChanged(memory: Pick<PlanMemory, 'configChanged'>, changed: readonly ConfigRef[]): void {
  const known = new Set(memory.configChanged.map(refKey));
  for (const c of changed) {
    if (known.has(refKey(c))) continue;
    known.add(refKey(c));
    memory.configChanged.push({ kind: c.kind, name: c.name });
  }
}

export function failureOf(memory: Pick<PlanMemory, 'failures'>, work: WorkId): Failure | undefined {
  return memory.failures.get(workKey(work));
}

/** Whether the work must wait for its backoff to pass. */
export function isHeld(memory: Pick<PlanMemory, 'failures'>, work: WorkId, now: number): boolean {
  const f = failureOf(memory, work);
  return f !== undefined && now < f.retryAt;
}

/** The earliest pending retry, so the agent wakes up for it. */
export function nextRetryAt(memory: Pick<PlanMemory, 'failures'>, now: number): number | undefined {
  let min: number | undefined;
  for (const f of memory.failures.values()) if (f.retryAt > now && (min === undefined || f.retryAt < min)) min = f.retryAt;
  return min;
}

/** Whether a removal of one of the app's containers is still in flight. */
export function isRemoving(memory: Pick<PlanMemory, 'removing'>, app: string): boolean {
  for (const a of memory.removing.values()) if (a === app) return true;
  return false;
}

/** What a pod sandbox's failure shows on each container of its pod. */
export const SANDBOX_MESSAGE_PREFIX = 'pod sandbox: ';

/**
 * The failure a pod container's status shows: its pod sandbox's, while the sandbox cannot be
 * made (nothing of the pod can start then), else its own.
 */
export function shownFailure(memory: Pick<PlanMemory, 'failures'>, work: ContainerWork): Failure | undefined {
  const sandbox = failureOf(memory, { kind: 'sandbox', pod: work.pod });
  if (sandbox) return { ...sandbox, work, message: SANDBOX_MESSAGE_PREFIX + sandbox.message };
  return failureOf(memory, work);
}
