/**
 * A CronJob's schedule and time zone as only a parser can check them: Kubernetes' macros
 * (@daily …) written out for node-cron, no CRON_TZ= prefix, an expression node-cron runs, a
 * time zone the node knows. Used by both manifest translators.
 */
import cron from 'node-cron';
import { isKnownTimeZone } from '../wire-jobs.js';
import { quote } from './location.js';

/** Kubernetes' schedule macros, written out for node-cron. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The expression as node-cron takes it: macros expanded, spaces normalised. */
export function normalizeSchedule(schedule: string): string {
  const s = schedule.trim().replace(/\s+/g, ' ');
  return MACROS[s] ?? s;
}

/** Why `schedule` (as written) cannot run, or undefined. */
export function scheduleProblem(schedule: string): string | undefined {
  const normal = normalizeSchedule(schedule);
  if (normal.startsWith('CRON_TZ=') || normal.startsWith('TZ=')) return 'must not set a time zone: use spec.timeZone';
  if (!cron.validate(normal)) return `${quote(schedule)} is not a cron expression (5 fields, or 6 with seconds first)`;
  return undefined;
}

/** Why `timeZone` is not usable, or undefined. */
export function timeZoneProblem(timeZone: string): string | undefined {
  return isKnownTimeZone(timeZone) ? undefined : `${quote(timeZone)} is not a known time zone (e.g. Europe/Berlin, UTC)`;
}
