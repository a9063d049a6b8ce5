/**
 * Update windows and update locks (docs/manifests.md): the app annotations that say WHEN an
 * agent may replace an app's running containers, turned into the small `update` policy that
 * travels in each PodTarget. PURE; the server validates with `updatePolicyFromAnnotations` at
 * apply (a typo fails the apply) and builds targets with it, the agent reads the wire copy.
 */
import { ErrorCode, GroveError } from './errors.js';
import { CronSyntaxError, isTimeZone, parseCron } from './cron-window.js';
import { parseDurationSeconds } from './quantity.js';
import { quoteValue } from './quote.js';

export const UPDATE_WINDOW_ANNOTATION = 'grove.io/update-window';
export const UPDATE_WINDOW_DURATION_ANNOTATION = 'grove.io/update-window-duration';
export const UPDATE_WINDOW_TIMEZONE_ANNOTATION = 'grove.io/update-window-timezone';
export const UPDATE_LOCK_MAX_ANNOTATION = 'grove.io/update-lock-max';

/** A window without a duration annotation stays open this long. */
export const DEFAULT_WINDOW_SECONDS = 3600;
/** Longest window and longest lock hold an app may ask for. */
export const MAX_UPDATE_SECONDS = 7 * 24 * 3600;

export interface UpdateWindow {
  /** node-cron expression, 5 fields (minute) or 6 (second first): when the window opens. */
  schedule: string;
  durationSeconds: number;
  /** IANA zone the schedule is read in; absent = the node's local time. */
  timeZone?: string;
}

/** Absent fields mean the agent's defaults: no window (always), its default lock maximum. */
export interface UpdatePolicy {
  window?: UpdateWindow;
  /** How long a held update lock may defer a stop; 0 = the app's locks are ignored. */
  lockMaxSeconds?: number;
}

function bad(key: string, reason: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `annotation ${key}: ${reason}`, { details: { annotation: key } });
}

function seconds(raw: string, key: string, allowZero: boolean): number {
  if (allowZero && /^0[smhd]?$/.test(raw.trim())) return 0;
  let n: number;
  try {
    n = parseDurationSeconds(raw, key);
  } catch {
    throw bad(key, `${quoteValue(raw)} is not a duration (use e.g. 90s, 2h, 1h30m)`);
  }
  if (n > MAX_UPDATE_SECONDS) throw bad(key, `${quoteValue(raw)} is longer than 7d`);
  return n;
}

/**
 * The app's update policy from its annotations (meta first, then the template's), or
 * undefined when it sets none. Throws InvalidArgument naming the annotation when a value is bad.
 */
export function updatePolicyFromAnnotations(...sources: Record<string, string>[]): UpdatePolicy | undefined {
  const get = (key: string): string | undefined => sources.find((s) => s[key] !== undefined)?.[key];
  const schedule = get(UPDATE_WINDOW_ANNOTATION);
  const duration = get(UPDATE_WINDOW_DURATION_ANNOTATION);
  const timeZone = get(UPDATE_WINDOW_TIMEZONE_ANNOTATION);
  const lockMax = get(UPDATE_LOCK_MAX_ANNOTATION);
  const out: UpdatePolicy = {};
  if (schedule !== undefined) {
    try {
      parseCron(schedule);
    } catch (err) {
      if (err instanceof CronSyntaxError) throw bad(UPDATE_WINDOW_ANNOTATION, `${quoteValue(schedule)}: ${err.message}`);
      throw err;
    }
    if (timeZone !== undefined && !isTimeZone(timeZone)) throw bad(UPDATE_WINDOW_TIMEZONE_ANNOTATION, `${quoteValue(timeZone)} is not a known time zone`);
    out.window = {
      schedule: schedule.trim(),
      durationSeconds: duration === undefined ? DEFAULT_WINDOW_SECONDS : seconds(duration, UPDATE_WINDOW_DURATION_ANNOTATION, false),
      ...(timeZone !== undefined ? { timeZone } : {}),
    };
  } else if (duration !== undefined || timeZone !== undefined) {
    throw bad(duration !== undefined ? UPDATE_WINDOW_DURATION_ANNOTATION : UPDATE_WINDOW_TIMEZONE_ANNOTATION, `needs ${UPDATE_WINDOW_ANNOTATION}`);
  }
  if (lockMax !== undefined) out.lockMaxSeconds = seconds(lockMax, UPDATE_LOCK_MAX_ANNOTATION, true);
  return out.window || out.lockMaxSeconds !== undefined ? out : undefined;
}

/** "0 2 * * * (2h)" / "… (2h, Europe/Berlin)": how describe shows a window. */
export function windowText(w: UpdateWindow): string {
  const d = w.durationSeconds;
  const dur = d % 3600 === 0 ? `${d / 3600}h` : d % 60 === 0 ? `${d / 60}m` : `${d}s`;
  return `${w.schedule} (${dur}${w.timeZone ? `, ${w.timeZone}` : ''})`;
}
