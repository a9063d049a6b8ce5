/**
 * What a Reconciler is made from, the state it is given, and the plan settings its options make.
 */
import type { Logger } from '../../../src/core/logger.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { Clock } from '../../../src/core/clock.js';
import type { JobRunner } from './jobs/runner.js';
import type { NodeRuntime } from './node-runtime.js';
import { DEFAULT_BACKOFF } from './plan/backoff.js';
import { DEFAULT_LOCK_MAX_SECONDS, type PlanSettings } from './plan/plan.js';
import type { StatusReport } from './report.js';
import type { UpdateLocks } from './update-locks.js';

export interface DesiredState {
  revision: number;
  pods: WirePodTarget[];
}

export type TriggerReason = 'start' | 'target' | 'poll' | 'retry' | 'manual' | 'probe' | 'lock' | 'removed' | 'job' | 'init' | 'config';

export interface ReconcilerOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  onStatus: (report: StatusReport) => void;
  /** How often the runtime is looked at for exits nobody told us about (default 5 s). */
  pollSeconds?: number;
  /** Stop grace for pods without terminationGracePeriodSeconds (default 30 s). */
  stopGraceSeconds?: number;
  /** First delay before restarting an exited container, doubling to 5 min (default 10 s). */
  restartBackoffMs?: number;
  /** Update locks of the node's apps (update-locks.ts); without them no app is ever locked. */
  locks?: UpdateLocks;
  /** Lock maximum for apps that set none (default 1 h). */
  defaultLockMaxSeconds?: number;
  /** Zone update windows are read in when the app names none (default: the process's local zone). */
  timeZone?: string;
  /** Job records in the agent's store and CronJob schedules; without it records stay in memory and schedules never fire. */
  jobs?: JobRunner;
}

export function planSettings(options: ReconcilerOptions): PlanSettings {
  return {
    backoff: { ...DEFAULT_BACKOFF, ...(options.restartBackoffMs !== undefined ? { restartMs: options.restartBackoffMs } : {}) },
    defaultLockMaxSeconds: options.defaultLockMaxSeconds ?? DEFAULT_LOCK_MAX_SECONDS,
    ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
  };
}
