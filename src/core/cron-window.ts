/**
 * PURE cron matching for update windows (docs/manifests.md, grove.io/update-window). A cron
 * expression marks the moments a window opens; the window stays open for a duration. node-cron
 * (which the annotation's syntax follows) can only say "next", and an agent must also know
 * whether a window that opened a while ago is still open, so matching is done here: parse the
 * 5-field (minute) or 6-field (second) expression once, then walk time in the wall clock of a
 * time zone (Intl; default the process's own), skipping non-matching hours.
 *
 * Supported per field: `*`, numbers, `a-b`, lists `a,b`, steps `* /n` and `a-b/n`, month and
 * weekday names (jan, mon …); weekday 0 and 7 are Sunday. As in node-cron (and unlike Vixie
 * cron), day of month and day of week must BOTH match.
 */
import { quoteValue } from './quote.js';
export interface CronSchedule {
  /** The expression as given (trimmed). */
  source: string;
  /** True for 6 fields (seconds first). */
  hasSeconds: boolean;
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of names[0]. */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

/** Thrown for an expression this parser does not accept; `message` says which field and why. */
export class CronSyntaxError extends Error {}

function value(text: string, f: FieldSpec): number {
  const lower = text.toLowerCase();
  const named = f.names?.findIndex((n) => lower.startsWith(n) && lower.length <= 9) ?? -1;
  if (named >= 0 && !/^\d/.test(lower)) return named + (f.nameBase ?? 0);
  if (!/^\d{1,2}$/.test(text)) throw new CronSyntaxError(`${f.name}: ${quoteValue(text)} is not a number`);
  const n = Number(text);
  if (n < f.min || n > f.max) throw new CronSyntaxError(`${f.name}: ${n} is outside ${f.min}..${f.max}`);
  return n;
}

function parseField(text: string, f: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new CronSyntaxError(`${f.name}: ${quoteValue(part)} is not valid`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) === 0) throw new CronSyntaxError(`${f.name}: step ${quoteValue(stepText)} is not valid`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [f.min, f.max];
    else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined || !a || !b) throw new CronSyntaxError(`${f.name}: ${quoteValue(range)} is not a range`);
      [lo, hi] = [value(a, f), value(b, f)];
      if (lo > hi) throw new CronSyntaxError(`${f.name}: range ${quoteValue(range)} runs backwards`);
    } else {
      // node-cron accepts a step only on `*` or a range; "5/20" would mean different things elsewhere.
      if (stepText !== undefined) throw new CronSyntaxError(`${f.name}: a step needs * or a range, got ${quoteValue(part)}`);
      lo = hi = value(range, f);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

const MAX_EXPRESSION = 200;

export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  if (source.length > MAX_EXPRESSION) throw new CronSyntaxError(`longer than ${MAX_EXPRESSION} characters`);
  const parts = source.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new CronSyntaxError(`expected 5 or 6 fields, got ${parts.length}`);
  const hasSeconds = parts.length === 6;
  const fields = hasSeconds ? parts : ['0', ...parts];
  const sets = fields.map((text, i) => parseField(text, FIELDS[i]!));
  const weekdays = sets[5]!;
  if (weekdays.delete(7)) weekdays.add(0);
  return { source, hasSeconds, seconds: sets[0]!, minutes: sets[1]!, hours: sets[2]!, days: sets[3]!, months: sets[4]!, weekdays };
}

/** Whether `name` is a time zone this Node knows (Intl). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(timeZone ? { timeZone } : {}),
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(key, f);
  }
  return f;
}

/** Wall-clock fields of instant `t` in `timeZone` (undefined = the process's local zone). */
function wallAt(t: number, timeZone: string | undefined): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf((parts.weekday ?? '').toLowerCase().slice(0, 3)),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

function hourMatches(s: CronSchedule, w: Wall): boolean {
  return s.months.has(w.month) && s.days.has(w.day) && s.weekdays.has(w.weekday) && s.hours.has(w.hour);
}

function maxAtMost(set: ReadonlySet<number>, bound: number): number | undefined {
  let best: number | undefined;
  for (const v of set) if (v <= bound && (best === undefined || v > best)) best = v;
  return best;
}

function minAtLeast(set: ReadonlySet<number>, bound: number): number | undefined {
  let best: number | undefined;
  for (const v of set) if (v >= bound && (best === undefined || v < best)) best = v;
  return best;
}

/**
 * The latest moment ≤ `now` the schedule fires, looking back no further than `lookbackMs`, or
 * undefined. Steps back by whole wall-clock hours while the hour cannot match, else by minutes.
 */
export function lastFiring(s: CronSchedule, now: number, lookbackMs: number, timeZone?: string): number | undefined {
  const floor = now - lookbackMs;
  let t = now - (now % SECOND);
  while (t >= floor) {
    const w = wallAt(t, timeZone);
    const minuteStart = t - w.second * SECOND;
    if (!hourMatches(s, w)) {
      t = minuteStart - w.minute * MINUTE - SECOND; // the last second of the previous hour
      continue;
    }
    if (s.minutes.has(w.minute)) {
      const sec = maxAtMost(s.seconds, w.second);
      if (sec !== undefined) {
        const at = minuteStart + sec * SECOND;
        return at >= floor ? at : undefined;
      }
    }
    t = minuteStart - SECOND;
  }
  return undefined;
}

/** The first moment > `after` the schedule fires, within `horizonMs`, or undefined. */
export function nextFiring(s: CronSchedule, after: number, horizonMs: number, timeZone?: string): number | undefined {
  const end = after + horizonMs;
  let t = after - (after % SECOND) + SECOND;
  while (t <= end) {
    const w = wallAt(t, timeZone);
    const minuteStart = t - w.second * SECOND;
    if (!hourMatches(s, w)) {
      t = minuteStart + (60 - w.minute) * MINUTE; // the start of the next hour
      continue;
    }
    if (s.minutes.has(w.minute)) {
      const sec = minAtLeast(s.seconds, w.second);
      if (sec !== undefined) return minuteStart + sec * SECOND;
    }
    t = minuteStart + MINUTE;
  }
  return undefined;
}

export interface WindowState {
  open: boolean;
  /** While open: when it closes. */
  closesAt?: number;
  /** While closed: when it next opens (within a year), if it ever does. */
  opensAt?: number;
}

const YEAR_MS = 366 * 24 * 60 * MINUTE;

/**
 * Closed windows, remembered until they can next open: looking a year ahead for a schedule that
 * rarely fires costs ~0.1 s of CPU (more on a small board), and the agent asks on every poll
 * while an update waits. Only closed answers are kept: by construction nothing fires before
 * `opensAt`. An open window is not cached, as a firing inside it may extend it.
 */
const closedCache = new Map<string, { from: number; until: number; state: WindowState }>();
const CACHE_ENTRIES = 256;
const DAY_MS = 24 * 60 * MINUTE;

/** Whether `now` lies in [start, start + duration) of some firing of `s`. */
export function windowState(s: CronSchedule, durationMs: number, now: number, timeZone?: string): WindowState {
  const key = `${s.source}|${durationMs}|${timeZone ?? ''}`;
  const cached = closedCache.get(key);
  if (cached && now >= cached.from && now < cached.until) return cached.state;
  const start = lastFiring(s, now, Math.max(0, durationMs - 1), timeZone);
  if (start !== undefined && now < start + durationMs) return { open: true, closesAt: start + durationMs };
  const next = nextFiring(s, now, YEAR_MS, timeZone);
  const state: WindowState = next === undefined ? { open: false } : { open: false, opensAt: next };
  if (closedCache.size >= CACHE_ENTRIES) closedCache.clear();
  closedCache.set(key, { from: now, until: next ?? now + DAY_MS, state });
  return state;
}
