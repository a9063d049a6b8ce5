/**
 * Validation of the Job / CronJob fields of the sync protocol (PodTarget.job, PodTarget.cron,
 * PodStatus.job) and of the same specs arriving over the API (src/server/validate.ts). Kept
 * apart from wire.ts (full); same rules: every field checked, bounds enforced, a fresh object
 * holding only known fields returned. The bounds are the manifest's, so whatever a server
 * accepted an agent accepts.
 */
import type { CronSpec, JobSpec } from './model.js';
import type { JobRunStatus, JobStatus } from './wire-types.js';

/** Raises the caller's field error; never returns. */
export type FailField = (path: string, reason: string) => never;

type Obj = Record<string, unknown>;

export const JOB_LIMITS = Object.freeze({
  completions: 1000,
  parallelism: 100,
  backoffLimit: 1000,
  /** A year: longer deadlines and TTLs are indistinguishable from none on an edge node. */
  seconds: 366 * 24 * 3600,
  historyLimit: 100,
  schedule: 128,
  timeZone: 64,
  /** Runs a CronJob status lists (history limits ≤ 100 each, plus active runs). */
  runs: 300,
  reason: 64,
  name: 253,
  timestamp: 64,
});

/** node-cron syntax characters; the agent parses the expression itself (invalid → status reason). */
const SCHEDULE = /^[0-9A-Za-z*/,\-?# ]+$/;
const TIME_ZONE = /^[A-Za-z0-9_+\-/]+$/;

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

function time(o: Obj, key: string, p: string, fail: FailField): string {
  const v = str(o, key, p, fail, JOB_LIMITS.timestamp);
  return Number.isNaN(Date.parse(v)) ? fail(at(p, key), 'expected an ISO 8601 timestamp') : v;
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
  if (present(o, 'timeZone')) out.timeZone = str(o, 'timeZone', p, fail, JOB_LIMITS.timeZone, TIME_ZONE);
  return out;
}

function counts(o: Obj, p: string, fail: FailField): { active: number; succeeded: number; failed: number } {
  return {
    active: int(o, 'active', p, fail, 0, JOB_LIMITS.runs),
    succeeded: int(o, 'succeeded', p, fail, 0, Number.MAX_SAFE_INTEGER),
    failed: int(o, 'failed', p, fail, 0, Number.MAX_SAFE_INTEGER),
  };
}

function condition(o: Obj, p: string, fail: FailField): { condition?: 'Complete' | 'Failed' } {
  return present(o, 'condition') ? { condition: oneOf(o, 'condition', p, fail, ['Complete', 'Failed'] as const) } : {};
}

function runStatus(v: unknown, p: string, fail: FailField): JobRunStatus {
  const o = obj(v, p, fail);
  return {
    name: str(o, 'name', p, fail, JOB_LIMITS.name),
    ...counts(o, p, fail),
    startTime: time(o, 'startTime', p, fail),
    ...(present(o, 'completionTime') ? { completionTime: time(o, 'completionTime', p, fail) } : {}),
    ...condition(o, p, fail),
  };
}

export function decodeJobStatus(v: unknown, p: string, fail: FailField): JobStatus {
  const o = obj(v, p, fail);
  const out: JobStatus = { ...counts(o, p, fail), ...condition(o, p, fail) };
  for (const key of ['startTime', 'completionTime', 'lastScheduleTime', 'lastSuccessfulTime'] as const) {
    if (present(o, key)) out[key] = time(o, key, p, fail);
  }
  if (present(o, 'reason')) out.reason = str(o, 'reason', p, fail, JOB_LIMITS.reason);
  if (present(o, 'jobs')) {
    const jobs = o.jobs;
    if (!Array.isArray(jobs)) fail(at(p, 'jobs'), 'expected an array');
    const list = jobs as unknown[];
    if (list.length > JOB_LIMITS.runs) fail(at(p, 'jobs'), `more than ${JOB_LIMITS.runs} items`);
    out.jobs = list.map((x, i) => runStatus(x, `${p}.jobs[${i}]`, fail));
  }
  return out;
}
