/**
 * The query of a list or watch (`GET …/pods?…`), read and checked as the API server does:
 * syntax errors are 400 BadRequest; combinations Kubernetes forbids (resourceVersionMatch without
 * resourceVersion, sendInitialEvents on a list …) are 422 Invalid ListOptions with one cause per
 * problem, worded as the API server words them. Every parameter is size-limited.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { parseSelector, type Selector } from '../objects/label-selector.js';
import { decodeContinue, type ContinueToken } from './continue-token.js';
import { parseFieldSelector, type FieldRequirement } from './field-selector.js';

export type ResourceVersionMatch = 'Exact' | 'NotOlderThan';

export interface ListOptions {
  watch: boolean;
  labelSelector: Selector;
  fieldSelector: FieldRequirement[];
  /** Absent: no limit (a limit of 0 or less means none, as in Kubernetes). */
  limit?: number;
  continue?: ContinueToken;
  /** As sent ("0" = any state); absent when not sent or empty. */
  resourceVersion?: string;
  resourceVersionMatch?: ResourceVersionMatch;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

/** A resourceVersion is opaque, but never longer than this (a store revision has 20 digits at most). */
const MAX_VERSION_LENGTH = 64;
/** Larger limits are the same as none; the number must still be a number. */
const MAX_LIMIT = 2 ** 31 - 1;

function badRequest(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

/** strconv.ParseBool, which the API server uses for its flags. */
function flag(query: URLSearchParams, name: string): boolean | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(v)) return false;
  throw badRequest(`${name}: invalid value ${JSON.stringify(v.slice(0, 40))}: expected true or false`);
}

function integer(query: URLSearchParams, name: string, max: number): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d{1,19}$/.test(v)) throw badRequest(`${name}: invalid value ${JSON.stringify(v.slice(0, 40))}: expected a whole number`);
  return Math.min(Number(v), max);
}

interface Cause {
  field: string;
  reason: 'FieldValueForbidden' | 'FieldValueNotSupported';
  message: string;
}

const forbidden = (field: string, why: string): Cause => ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${why}` });

function notSupported(field: string, value: string, supported: string[]): Cause {
  return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` };
}

/** The Kubernetes rules for which options go together (ValidateListOptions, watch list enabled). */
function combinationProblems(watch: boolean, rv: string, match: string, cont: string, sendInitialEvents: boolean | undefined): Cause[] {
  const causes: Cause[] = [];
  if (watch) {
    if (sendInitialEvents !== undefined && match !== 'NotOlderThan') causes.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    if (match !== '') {
      if (sendInitialEvents === undefined) causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') causes.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (cont !== '') causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return causes;
  }
  if (match !== '') {
    if (rv === '') causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont !== '') causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') causes.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0') causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (sendInitialEvents !== undefined) causes.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return causes;
}

function invalidOptions(causes: Cause[]): GroveError {
  const lines = causes.map((c) => `${c.field}: ${c.message}`);
  const message = `ListOptions.meta.k8s.io "" is invalid: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`;
  return new GroveError(ErrorCode.InvalidArgument, message, { details: { reason: 'Invalid', causes } });
}

/** Reads the list/watch parameters of `query`. Throws InvalidArgument (400, or 422 with causes). */
export function parseListOptions(query: URLSearchParams): ListOptions {
  const watch = flag(query, 'watch') ?? false;
  const rv = query.get('resourceVersion') ?? '';
  if (rv.length > MAX_VERSION_LENGTH) throw badRequest(`resourceVersion: longer than ${MAX_VERSION_LENGTH} characters`);
  const match = query.get('resourceVersionMatch') ?? '';
  if (match.length > MAX_VERSION_LENGTH) throw badRequest(`resourceVersionMatch: longer than ${MAX_VERSION_LENGTH} characters`);
  const cont = query.get('continue') ?? '';
  const sendInitialEvents = flag(query, 'sendInitialEvents');
  const causes = combinationProblems(watch, rv, match, cont, sendInitialEvents);
  if (causes.length > 0) throw invalidOptions(causes);
  if (!watch && cont !== '' && rv !== '' && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');

  const limit = integer(query, 'limit', MAX_LIMIT);
  const timeoutSeconds = integer(query, 'timeoutSeconds', MAX_LIMIT);
  if (timeoutSeconds !== undefined && timeoutSeconds < 0) throw badRequest('timeoutSeconds: must not be negative');
  return {
    watch,
    labelSelector: parseSelector(query.get('labelSelector')),
    fieldSelector: parseFieldSelector(query.get('fieldSelector')),
    ...(limit !== undefined && limit > 0 ? { limit } : {}),
    ...(cont !== '' && !watch ? { continue: decodeContinue(cont) } : {}),
    ...(rv !== '' ? { resourceVersion: rv } : {}),
    ...(match !== '' ? { resourceVersionMatch: match as ResourceVersionMatch } : {}),
    allowWatchBookmarks: flag(query, 'allowWatchBookmarks') ?? false,
    ...(timeoutSeconds !== undefined && timeoutSeconds > 0 ? { timeoutSeconds } : {}),
    ...(sendInitialEvents !== undefined ? { sendInitialEvents } : {}),
  };
}
