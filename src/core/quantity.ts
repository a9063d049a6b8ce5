import { ErrorCode, GroveError } from './errors.js';
import { quoteValue } from './quote.js';

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, ki: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gi: 1024 ** 3, gib: 1024 ** 3,
};

/**
 * Parses a memory size the way docker (-m 32m) and Kubernetes (32Mi) write it.
 * `field` names the flag or manifest field for the error message.
 */
export function parseBytes(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
    throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a whole number of bytes`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a size (use e.g. 512k, 32m, 1g, 64Mi)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is too large`);
  return bytes;
}

/** Parses a CPU amount: "0.5", "2", or Kubernetes millicores "500m". Returns cores. */
export function parseCpus(value: string | number, field: string): number {
  const text = String(value).trim();
  let cpus: number;
  if (/^\d+m$/.test(text)) cpus = Number(text.slice(0, -1)) / 1000;
  else if (/^\d+(\.\d+)?$/.test(text)) cpus = Number(text);
  else throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a CPU amount (use e.g. 0.5, 2 or 500m)`);
  if (cpus <= 0 || cpus > 1024) throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} must be above 0`);
  return cpus;
}

const MI = 1024 * 1024;

/** Bytes as a Kubernetes quantity: "32Mi" when whole mebibytes (Gi, Ki likewise), else the byte count. */
export function bytesQuantity(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [unit, size] of [['Gi', 1024 * MI], ['Mi', MI], ['Ki', 1024]] as const) if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)}${units[i]}`;
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Sums "1h30m"-style parts written with `units` (longest alternative first); undefined when the text is not that. */
function durationMs(text: string, units: RegExp): number | undefined {
  const parts = [...text.matchAll(new RegExp(`(\\d+)(${units.source})`, 'g'))];
  if (!text || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_MS[p[2]!]!, 0);
}

/** Parses "90s", "30m", "24h", "7d" or "1h30m" into whole seconds. */
export function parseDurationSeconds(value: string, field: string): number {
  const ms = durationMs(value.trim(), /[smhd]/);
  if (ms === undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a duration (use e.g. 90s, 30m, 24h, 7d)`);
  }
  if (ms <= 0) throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} must be longer than 0s`);
  return ms / 1000;
}

/** Parses "500ms", "90s", "30m", "24h", "7d" or "1m30s" into milliseconds (more than 0). */
export function parseDurationMs(value: string, field: string): number {
  const ms = durationMs(value.trim(), /ms|[smhd]/);
  if (ms === undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a duration (use e.g. 500ms, 90s, 30m, 24h)`);
  }
  if (ms <= 0 || !Number.isSafeInteger(ms)) throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} must be longer than 0s`);
  return ms;
}

/** Milliseconds as parseDurationMs reads them back: 90000 → "1m30s", 500 → "500ms". */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = DURATION_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out || '0s';
}
