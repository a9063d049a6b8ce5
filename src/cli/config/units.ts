/**
 * The units options are written in. One unit reads a value the same way whether it comes from a
 * flag, a GROVE_* variable or the YAML config file, and names where it came from when it is
 * wrong (one line: `--restart-backoff: "10x" is not a duration (use e.g. 500ms, 90s, 30m, 24h)`).
 * `format` writes a value back the way it is read (for --print-config and the docs).
 */
import { isIP } from 'node:net';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { formatDuration, parseBytes, parseCpus, parseDurationMs } from '../../core/quantity.js';
import { clipText, quoteValue } from '../../core/quote.js';

export interface Unit<T> {
  /** What the docs call it: "duration", "size", "count", … */
  readonly name: string;
  /** The flag's value placeholder in help: `--node-grace <duration>`. */
  readonly placeholder: string;
  /**
   * Reads a value: a flag's string (a list flag's strings), a variable's string, or what the
   * YAML file holds (a scalar or a list). `where` names the flag, variable or file key.
   */
  parse(raw: unknown, where: string): T;
  format(value: T): string;
  /** A flag without a value (`--tls`); in a variable or the file: true/false. */
  readonly switch?: true;
  /** A repeatable flag collected into a list; comma-separated in a variable, a list in the file. */
  readonly list?: true;
  /** A list's value when nothing gives one. */
  readonly empty?: T;
}

function invalid(where: string, raw: unknown, what: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${where}: ${typeof raw === 'string' ? quoteValue(raw) : clipText(JSON.stringify(raw) ?? String(raw))} ${what}`);
}

/** A string as a flag or variable gives it; a YAML scalar (number, boolean) as its text. */
function scalar(raw: unknown, where: string, what: string): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw invalid(where, raw, what);
}

/** Milliseconds, written with units: 500ms, 90s, 30m, 24h, 1h30m. */
export const duration: Unit<number> = {
  name: 'duration',
  placeholder: 'duration',
  parse: (raw, where) => parseDurationMs(scalar(raw, where, 'is not a duration (use e.g. 500ms, 90s, 30m, 24h)'), where),
  format: formatDuration,
};

/** Bytes, written as docker and Kubernetes do: 512k, 32m, 1g, 64Mi, or a plain number of bytes. */
export const bytes: Unit<number> = {
  name: 'size',
  placeholder: 'size',
  parse: (raw, where) => parseBytes(typeof raw === 'number' ? raw : scalar(raw, where, 'is not a size (use e.g. 512k, 32m, 1g, 64Mi)'), where),
  format: (value) => {
    for (const [suffix, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) if (value >= size && value % size === 0) return `${value / size}${suffix}`;
    return String(value);
  },
};

/** CPU cores: 0.5, 2 or millicores 500m. */
export const cpus: Unit<number> = {
  name: 'cpus',
  placeholder: 'n',
  parse: (raw, where) => parseCpus(scalar(raw, where, 'is not a CPU amount (use e.g. 0.5, 2 or 500m)'), where),
  format: String,
};

/** A whole number within [min, max]. */
export function count(min: number, max: number, placeholder = 'n'): Unit<number> {
  const what = max === Number.MAX_SAFE_INTEGER ? `is not a whole number of at least ${min}` : `is not a whole number from ${min} to ${max}`;
  return {
    name: 'count',
    placeholder,
    parse: (raw, where) => {
      const text = scalar(raw, where, what).trim();
      const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(where, raw, what);
      return n;
    },
    format: String,
  };
}

/** Text of at most `max` characters, not empty. */
export function text(placeholder: string, max = 4096): Unit<string> {
  return {
    name: 'text',
    placeholder,
    parse: (raw, where) => {
      const value = scalar(raw, where, 'is not text');
      if (value === '' || value.length > max) throw invalid(where, raw, value === '' ? 'is empty' : `is longer than ${max} characters`);
      return value;
    },
    format: (value) => value,
  };
}

/** A file or directory path, as given (relative paths are from where grove runs). */
export const path: Unit<string> = { ...text('path'), name: 'path' };

/** An http(s) or mqtt(s) URL. */
export const url: Unit<string> = {
  name: 'URL',
  placeholder: 'url',
  parse: (raw, where) => {
    const value = text('url').parse(raw, where);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw invalid(where, raw, 'is not a URL');
    }
    if (!/^(https?|mqtts?):$/.test(parsed.protocol)) throw invalid(where, raw, 'is not an http(s) or mqtt(s) URL');
    return value;
  },
  format: (value) => value,
};

export interface Address {
  host: string;
  port: number;
}

/** HOST:PORT, [IPv6]:PORT. */
export const address: Unit<Address> = {
  name: 'address',
  placeholder: 'host:port',
  parse: (raw, where) => {
    const value = scalar(raw, where, 'is not HOST:PORT');
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) throw invalid(where, raw, 'is not HOST:PORT');
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  },
  format: (a) => `${isIP(a.host) === 6 ? `[${a.host}]` : a.host}:${a.port}`,
};

/**
 * An IPv4 address pods reach on their node (a unicast address that is not loopback: a pod's
 * loopback is its own), or none (`--cluster-dns none`; also '' where one can be given: an
 * empty variable counts as unset). None is the value ''.
 */
export const nodeAddressOrNone: Unit<string> = {
  name: 'IPv4 address',
  placeholder: 'ip',
  parse: (raw, where) => {
    const value = scalar(raw, where, 'is not an IPv4 address').trim();
    if (value === '' || value === 'none') return '';
    const first = Number(value.split('.')[0]);
    if (isIP(value) !== 4) throw invalid(where, raw, 'is not an IPv4 address (or none)');
    if (value === '0.0.0.0' || first === 127 || first >= 224) throw invalid(where, raw, 'is not a unicast address pods can reach on the node (loopback, multicast and 0.0.0.0 are not)');
    return value;
  },
  format: (value) => value || 'none',
};

/** One of a fixed set of words. */
export function oneOf<const W extends string>(words: readonly W[], placeholder = words.join('|')): Unit<W> {
  const what = `is not one of ${words.join(', ')}`;
  return {
    name: words.join('|'),
    placeholder,
    parse: (raw, where) => {
      const value = scalar(raw, where, what);
      if (!(words as readonly string[]).includes(value)) throw invalid(where, raw, what);
      return value as W;
    },
    format: (value) => value,
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** On or off: a flag without a value; true/false (also 1/0, yes/no, on/off) elsewhere. */
export const boolean: Unit<boolean> = {
  name: 'boolean',
  placeholder: '',
  switch: true,
  parse: (raw, where) => {
    if (typeof raw === 'boolean') return raw;
    const value = scalar(raw, where, 'is not true or false').trim().toLowerCase();
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
    throw invalid(where, raw, 'is not true or false');
  },
  format: String,
};

/** A repeatable option's unit: it always has a value (`empty` unless given). */
export type ListUnit<T> = Unit<T> & { readonly list: true; readonly empty: T };

/** Longest list a flag, variable or file key may hold. */
const MAX_ITEMS = 256;

/** Several values: a repeatable flag, a comma-separated variable ("a=1, b=2"), a list in the file. */
export function list(placeholder: string, maxChars = 64 * 1024): ListUnit<string[]> {
  const item = text(placeholder, maxChars);
  return {
    name: 'list',
    placeholder,
    list: true,
    empty: [],
    parse: (raw, where) => {
      let items: unknown[];
      if (Array.isArray(raw)) items = raw;
      else if (typeof raw === 'string') items = raw.split(',').map((v) => v.trim()).filter(Boolean);
      else throw invalid(where, raw, 'is not a list');
      if (items.length > MAX_ITEMS) throw new GroveError(ErrorCode.InvalidArgument, `${where}: more than ${MAX_ITEMS} values`);
      return items.map((v) => item.parse(v, where));
    },
    format: (values) => values.join(','),
  };
}

/** key=value pairs: `--label zone=a --label tier=edge`, `GROVE_LABELS="zone=a, tier=edge"`, a list in the file. */
export function keyValues(placeholder = 'k=v'): ListUnit<Record<string, string>> {
  const items = list(placeholder);
  return {
    name: 'key=value list',
    placeholder,
    list: true,
    empty: {},
    parse: (raw, where) => {
      const out: Record<string, string> = {};
      for (const pair of items.parse(raw, where)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw invalid(where, pair, 'is not key=value');
        Object.defineProperty(out, pair.slice(0, eq), { value: pair.slice(eq + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    },
    format: (values) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(','),
  };
}
