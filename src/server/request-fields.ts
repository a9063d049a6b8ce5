/**
 * How Grove's own API routes refuse a bad request field (a query parameter, a path segment, a
 * field of a small JSON body such as a join or a token request): an InvalidArgument GroveError
 * naming the field (details.field), one line. Objects are not checked here: they go through
 * their kind's generated validator and rules (src/core/objects, objects/admit.ts).
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { quoteValue } from '../core/quote.js';
import { isValidName } from '../core/topics.js';

export type Obj = Record<string, unknown>;

export function invalid(path: string, reason: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${path}: ${reason}`, { details: { field: path } });
}

/**
 * A node, cluster, namespace or volume name given in a request: a DNS label (the names that go
 * into MQTT topics, src/core/topics.ts), so it can never address anything else.
 */
export function validName(v: unknown, path: string): string {
  if (!isValidName(v)) {
    const shown = typeof v === 'string' ? quoteValue(v) : v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    throw invalid(path, `${shown} is not a valid name (1-63 lowercase letters, digits and '-', starting and ending with a letter or digit)`);
  }
  return v;
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Refuses fields the request does not have: a typo must not be silently ignored. */
export function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(path ? `${path}.${k}` : k, 'unknown field');
}
