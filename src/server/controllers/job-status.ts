/**
 * PURE: a Job's status from what its pod's node reports (WireJobStatus / WireJobRunStatus): the
 * counts, start and completion times, and the Complete or Failed condition once finished. The
 * agent runs completions, parallelism and backoffLimit itself, so the report is the truth.
 */
import type { KindObject } from '../../core/objects/validate.js';
import type { WireJobRunStatus, WireJobStatus } from '../../core/objects/wire.js';
import { conditionOf, isoTime, parseTime, setCondition } from './object-kit.js';

type Job = KindObject<'Job'>;
export type JobStatus = NonNullable<Job['status']>;

function time(t: string | undefined): string | undefined {
  const ms = parseTime(t);
  return ms === undefined ? undefined : isoTime(ms);
}

export function jobStatusFromReport(before: JobStatus | undefined, r: WireJobStatus | WireJobRunStatus, now: number): JobStatus {
  const status: JobStatus = { active: r.active, succeeded: r.succeeded, failed: r.failed };
  const start = time(r.startTime);
  if (start !== undefined) status.startTime = start;
  const done = time(r.completionTime);
  // Kubernetes sets completionTime only on success.
  if (done !== undefined && r.condition === 'Complete') status.completionTime = done;
  let conditions = before?.conditions;
  if (r.condition === 'Complete') conditions = setCondition(conditions, { type: 'Complete', status: 'True' }, parseTime(done) ?? now);
  if (r.condition === 'Failed') {
    const reason = 'reason' in r && r.reason !== undefined ? r.reason : 'BackoffLimitExceeded';
    const message = reason === 'DeadlineExceeded' ? 'Job was active longer than specified deadline' : 'Job has reached the specified backoff limit';
    conditions = setCondition(conditions, { type: 'Failed', status: 'True', reason, message }, parseTime(done) ?? now);
  }
  if (conditions?.length) status.conditions = conditions;
  return status;
}

/** When the Job finished (Complete or Failed), in ms; undefined while it runs. */
export function finishedAt(status: JobStatus | undefined): number | undefined {
  const c = conditionOf(status?.conditions, 'Complete') ?? conditionOf(status?.conditions, 'Failed');
  if (c?.status !== 'True') return undefined;
  return parseTime(status?.completionTime) ?? parseTime(c.lastTransitionTime);
}

export function isFinished(status: JobStatus | undefined): boolean {
  return finishedAt(status) !== undefined;
}
