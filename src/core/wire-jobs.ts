/**
 * Validation of the Job / CronJob fields of schema-1 targets (PodTarget.job, PodTarget.cron:
 * Grove 0.1's wire, decoded by wire.ts only to be converted to schema 2); PodStatus.job is
 * checked by the generated validator of its schema (src/core/objects/wire.ts). Kept apart from
 * wire.ts (full); same rules: every field checked, bounds enforced, a fresh object holding only
 * known fields returned. `isKnownTimeZone` and JOB_LIMITS are shared with the object rules.
 */
import type { CronSpec, JobSpec } from './resolved-pod.js';
import { CRON_SCHEDULE, JOB_LIMITS, TIME_ZONE } from './objects/limits.js';

/** Raises the caller's field error; never returns. */
export type FailField = (path: string, reason: string) => never;

type Obj = Record<string, unknown>;

export { JOB_LIMITS };

const SCHEDULE = new RegExp(CRON_SCHEDULE);
const TIME_ZONE_RE = new RegExp(TIME_ZONE);

const at = (path: string, key: string): string => `${path}.${key}`;
const present = (o: Obj, key: string): boolean => o[key] !== undefined && o[key] !== null;

function obj(v: unknown, p: string, fail: FailField): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'expected a map');
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? (v as Obj) : fail(p, 'expected a map');
}

function int(o: Obj, key: string, p: string, fail: FailField, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return fail(at(p, key), 'expected an integer');
  if (v < min || v > max) return fail(at(p, key), `must be ${min}..${max}, got ${v}`);
  return v;
}

function str(o: Obj, key: string, p: string, fail: FailField, max: number, re?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) return fail(at(p, key), 'expected a non-empty string');
  if (v.length > max) return fail(at(p, key), `longer than ${max} characters`);
  if (re && !re.test(v)) return fail(at(p, key), 'contains characters that are not allowed');
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, p: string, fail: FailField, values: readonly T[]): T {
  const v = o[key];
  return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(at(p, key), `expected one of ${values.join(', ')}`);
}

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function decodeJobSpec(v: unknown, p: string, fail: FailField): JobSpec {
  const o = obj(v, p, fail);
  const out: JobSpec = {
    completions: int(o, 'completions', p, fail, 1, JOB_LIMITS.completions),
    parallelism: int(o, 'parallelism', p, fail, 1, JOB_LIMITS.parallelism),
    backoffLimit: int(o, 'backoffLimit', p, fail, 0, JOB_LIMITS.backoffLimit),
  };
  if (present(o, 'activeDeadlineSeconds')) out.activeDeadlineSeconds = int(o, 'activeDeadlineSeconds', p, fail, 1, JOB_LIMITS.seconds);
  if (present(o, 'ttlSecondsAfterFinished')) out.ttlSecondsAfterFinished = int(o, 'ttlSecondsAfterFinished', p, fail, 0, JOB_LIMITS.seconds);
  return out;
}

export function decodeCronSpec(v: unknown, p: string, fail: FailField): CronSpec {
  const o = obj(v, p, fail);
  const suspend = o.suspend;
  if (typeof suspend !== 'boolean') fail(at(p, 'suspend'), 'expected a boolean');
  const out: CronSpec = {
    schedule: str(o, 'schedule', p, fail, JOB_LIMITS.schedule, SCHEDULE),
    concurrencyPolicy: oneOf(o, 'concurrencyPolicy', p, fail, ['Allow', 'Forbid', 'Replace'] as const),
    successfulJobsHistoryLimit: int(o, 'successfulJobsHistoryLimit', p, fail, 0, JOB_LIMITS.historyLimit),
    failedJobsHistoryLimit: int(o, 'failedJobsHistoryLimit', p, fail, 0, JOB_LIMITS.historyLimit),
    suspend: suspend as boolean,
  };
  if (present(o, 'timeZone')) out.timeZone = str(o, 'timeZone', p, fail, JOB_LIMITS.timeZone, TIME_ZONE_RE);
  return out;
}
