/**
 * Kubernetes' PodLogOptions from the query of `GET …/pods/{name}/log`, validated as the API
 * server does (one message per problem, naming the parameter), and the text of each log line as
 * kubectl expects it. PURE.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { invalid } from '../request-fields.js';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  /** Exactly one of these two, or neither. */
  sinceSeconds?: number;
  /** ISO 8601 (normalised from the RFC 3339 given). */
  sinceTime?: string;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** RFC 3339, as Go's time.RFC3339 parses it (fractional seconds allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Go's strconv.ParseBool, which the API server's query decoding uses; absent = false. */
export function queryBool(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw invalid(key, `Invalid value: ${JSON.stringify(v.slice(0, 64))}: expected true or false`);
}

/** A whole number of at least `min`, or undefined when absent. */
export function queryInt(query: URLSearchParams, key: string, min: number): number | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  if (!/^-?\d{1,15}$/.test(v)) throw invalid(key, `Invalid value: ${JSON.stringify(v.slice(0, 64))}: expected a whole number`);
  const n = Number(v);
  if (n < min) throw invalid(key, `Invalid value: ${n}: must be greater than${min === 0 ? ' or equal to 0' : ` ${min - 1}`}`);
  return n;
}

/** An RFC 3339 time as ISO 8601 (what the node compares with its log times), or undefined when absent. */
export function queryTime(query: URLSearchParams, key: string): string | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  const ms = RFC3339.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw invalid(key, `Invalid value: ${JSON.stringify(v.slice(0, 64))}: expected an RFC 3339 time such as 2024-05-01T10:00:00Z`);
  return new Date(ms).toISOString();
}

export function parsePodLogOptions(query: URLSearchParams): PodLogOptions {
  const container = query.get('container');
  if (container !== null && container !== '' && !DNS_LABEL.test(container)) {
    throw invalid('container', `Invalid value: ${JSON.stringify(container.slice(0, 64))}: not a container name`);
  }
  const sinceSeconds = queryInt(query, 'sinceSeconds', 1);
  const sinceTime = queryTime(query, 'sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, 'at most one of `sinceTime` or `sinceSeconds` may be specified', { details: { field: 'sinceTime' } });
  }
  const tailLines = queryInt(query, 'tailLines', 0);
  const limitBytes = queryInt(query, 'limitBytes', 1);
  return {
    ...(container ? { container } : {}),
    follow: queryBool(query, 'follow'),
    previous: queryBool(query, 'previous'),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(sinceTime !== undefined ? { sinceTime } : {}),
    timestamps: queryBool(query, 'timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/**
 * A log line as the API server streams it: its text and a newline, after the line's RFC 3339
 * time (with nanoseconds, as the node recorded it) when `timestamps` is asked for.
 */
export function logLineText(line: { time: string; text: string }, timestamps: boolean): string {
  return timestamps ? `${line.time} ${line.text}\n` : `${line.text}\n`;
}

/**
 * Cuts a stream at `limit` bytes (limitBytes): hands on what fits and says when the limit is
 * reached (the last line may be cut short, as Kubernetes does).
 */
export class ByteLimit {
  private left: number;

  constructor(limit: number | undefined) {
    this.left = limit ?? Number.POSITIVE_INFINITY;
  }

  get reached(): boolean {
    return this.left <= 0;
  }

  /** The part of `text` still within the limit. */
  take(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length <= this.left) {
      this.left -= bytes.length;
      return bytes;
    }
    const cut = bytes.subarray(0, Math.max(0, this.left));
    this.left = 0;
    return cut;
  }
}
