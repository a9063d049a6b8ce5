/**
 * Durations and ages as kubectl prints them (AGE, DURATION, LAST SCHEDULE, "2 (5m ago)"):
 * apimachinery's HumanDuration, whose precision shrinks as the duration grows — 45s, 3m2s,
 * 12m, 4h5m, 10h, 3d4h, 12d, 2y3d. Written from its documented behaviour, not copied.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** `ms` as kubectl writes a duration; a clock skew of up to a second reads as "0s". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** How long ago `timestamp` was (kubectl's AGE); "<unknown>" without one. */
export function since(timestamp: string | null | undefined, now: Date): string {
  const at = timestamp ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(at)) return '<unknown>';
  return humanDuration(now.getTime() - at);
}

/** The time between two timestamps (a Job's DURATION). */
export function between(start: string, end: string): string {
  return humanDuration(Date.parse(end) - Date.parse(start));
}
