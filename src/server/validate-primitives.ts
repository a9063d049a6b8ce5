/**
 * The building blocks of API input validation: each checks one value's type and bounds and
 * names the field path in its error.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { clipText } from '../core/quote.js';

const MAX_LIST = 1000;
const MAX_STRING = 64 * 1024;

export type Obj = Record<string, unknown>;

export function invalid(path: string, reason: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${path}: ${reason}`, { details: { field: path } });
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw invalid(path, `expected an object, got ${describe(v)}`);
  return v;
}

/** Rejects fields we do not know: a typo ("replica") must not be silently ignored. */
export function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(`${path}.${clipText(k)}`, 'unknown field');
}

export function str(v: unknown, path: string, max = MAX_STRING): string {
  if (typeof v !== 'string') throw invalid(path, `expected a string, got ${describe(v)}`);
  if (v.length > max) throw invalid(path, `longer than ${max} characters`);
  if (v.includes('\0')) throw invalid(path, 'contains a NUL character');
  return v;
}

export function bool(v: unknown, path: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalid(path, `expected a boolean, got ${describe(v)}`);
  return v;
}

export function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(path, `expected a whole number, got ${describe(v)}`);
  if (v < min || v > max) throw invalid(path, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function strList(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) throw invalid(path, `expected an array of strings, got ${describe(v)}`);
  if (v.length > MAX_LIST) throw invalid(path, `more than ${MAX_LIST} items`);
  return v.map((x, i) => str(x, `${path}[${i}]`));
}

