/**
 * ajv's errors (from the generated validators, compiled `verbose`) → one problem each: the
 * field's path, and a reason worded from the schema node that failed, including Grove's
 * annotation keywords (errorMessage, patternErrorMessage, units; kit.ts). Used by the wire
 * decoders and the server; the client's manifest errors add file and line on top.
 *
 * Values are never echoed except numbers against a bound ("must be ≤ 3600, got 3601") and, when
 * `showValues` is set, short strings of the fields that allow it (never Secret data).
 */
import type { ErrorObject } from 'ajv';
import { quoteValue } from '../quote.js';

export type PathSegment = string | number;

export interface SchemaProblem {
  /** Where in the validated value ([] = the value itself). */
  path: PathSegment[];
  reason: string;
  /** 'key': the field's name is the problem (unknown, rejected by name); 'value': its value. */
  at: 'key' | 'value';
  /** 0: a field that must go (unknown or rejected by name), which usually explains the rest; 1: anything else. */
  rank: 0 | 1;
}

type Node = Record<string, unknown>;

/** `pods[2].containers[0].state` (the wire's and the server's spelling of a path). */
export function pathText(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** ajv's instancePath (a JSON pointer) as segments; array indexes are numbers (the data tells which). */
export function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (!pointer) return [];
  const out: PathSegment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: PathSegment = Array.isArray(node) ? Number(key) : key;
    out.push(seg);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return out;
}

/** What a value is, in the wire's words: "string", "map", "array", "bytes", "Map"… */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'symbol') return v.description ?? 'symbol';
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null ? 'map' : ((v as object).constructor?.name ?? 'object');
  }
  return typeof v;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a map',
  array: 'an array',
  null: 'null',
};

function annotation(err: ErrorObject, keyword: string): string | undefined {
  const value = (err.parentSchema as Node | undefined)?.[keyword];
  return typeof value === 'string' ? value : undefined;
}

function typeReason(err: ErrorObject): string {
  const expected = ([] as string[]).concat(err.params.type as string | string[]);
  const data = err.data;
  if (typeof data === 'number') {
    // A number that is not a whole one (or not finite) where an integer belongs.
    if (!Number.isFinite(data)) return `expected a number, got ${data}`;
    if (expected.includes('integer')) return `expected an integer, got ${data}`;
  }
  const wanted = expected.map((t) => (t === 'integer' ? 'a number' : (TYPE_WORDS[t] ?? t))).join(' or ');
  const units = annotation(err, 'units');
  return `expected ${wanted}${units ? ` (${units})` : ''}, got ${describeValue(data)}`;
}

/** Edit distance, for "did you mean": small inputs only (field and key names). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name a typo most likely meant: at most `maxEdits` edits (or a case slip) away. */
export function closestName(name: string, known: readonly string[], maxEdits = 2): string | undefined {
  if (name.length > 64) return undefined;
  let best: { field: string; d: number } | undefined;
  for (const field of known) {
    const d = field.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, field);
    if (d <= maxEdits && d < name.length / 2 && (!best || d < best.d)) best = { field, d };
  }
  return best?.field;
}

function discriminatorValues(err: ErrorObject): string[] {
  const tag = String(err.params.tag);
  const branches = ((err.parentSchema as Node | undefined)?.oneOf ?? []) as Node[];
  return branches.map((b) => ((b.properties as Node | undefined)?.[tag] as Node | undefined)?.const).filter((v): v is string => typeof v === 'string');
}

export interface ExplainOptions {
  /** Quote short string values in messages ('"sleeping" …'): the client and server, never the wire. */
  showValues?: boolean;
}

function shown(data: unknown, opts: ExplainOptions): string {
  return opts.showValues && (typeof data === 'string' || typeof data === 'number' || typeof data === 'boolean') ? `${quoteValue(String(data))} ` : '';
}

/** One ajv error as a problem, or undefined for errors another error of the same failure words better. */
export function explainError(err: ErrorObject, root: unknown, opts: ExplainOptions = {}): SchemaProblem | undefined {
  const here = pointerToPath(err.instancePath, root);
  const value = (reason: string, rank: 0 | 1 = 1): SchemaProblem => ({ path: here, reason, at: 'value', rank });
  // Errors about a property *name* (propertyNames) carry it separately: point at the key.
  if (err.propertyName !== undefined) {
    if (err.keyword === 'propertyNames') return undefined;
    const rule = err.keyword === 'pattern' ? (annotation(err, 'patternErrorMessage') ?? `must match ${err.params.pattern}`) : explainKeyword(err, opts);
    return { path: [...here, err.propertyName], reason: `key ${quoteValue(err.propertyName)} ${rule}`, at: 'key', rank: 1 };
  }
  switch (err.keyword) {
    case 'propertyNames':
    case 'if':
      return undefined; // the nested error (the key's, the then/else branch's) says it
    case 'additionalProperties': {
      const name = String(err.params.additionalProperty);
      const known = Object.keys(((err.parentSchema as Node | undefined)?.properties ?? {}) as object);
      const near = closestName(name, known);
      return { path: [...here, name], reason: `unknown field${near ? ` (did you mean ${near}?)` : ''}`, at: 'key', rank: 0 };
    }
    case 'not': {
      const unsupported = Object.keys((err.schema ?? {}) as object).length === 0;
      return { path: here, reason: annotation(err, 'errorMessage') ?? 'is not allowed', at: unsupported ? 'key' : 'value', rank: unsupported ? 0 : 1 };
    }
    case 'required':
      return { path: [...here, String(err.params.missingProperty)], reason: 'required', at: 'key', rank: 1 };
    case 'dependencies':
      return { path: [...here, String(err.params.property)], reason: `needs ${err.params.deps}`, at: 'key', rank: 1 };
    case 'discriminator': {
      const tag = String(err.params.tag);
      const values = discriminatorValues(err);
      return { path: [...here, tag], reason: values.length ? `expected one of ${values.join(', ')}` : 'is not valid', at: 'value', rank: 1 };
    }
    default:
      return value(explainKeyword(err, opts));
  }
}

function holdsFields(err: ErrorObject): boolean {
  const types = ([] as unknown[]).concat((err.parentSchema as Node | undefined)?.type);
  return types.includes('object') || types.includes('array');
}

function explainKeyword(err: ErrorObject, opts: ExplainOptions): string {
  const p = err.params as Record<string, unknown>;
  const custom = annotation(err, 'errorMessage');
  switch (err.keyword) {
    case 'type':
      // A map or list node's message is about its fields ("exactly one of …"), not its type.
      return custom !== undefined && !holdsFields(err) ? custom : typeReason(err);
    case 'enum':
      return `${shown(err.data, opts)}${custom ?? `expected one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`}`;
    case 'const':
      return `${shown(err.data, opts)}${custom ?? `expected ${JSON.stringify(p.allowedValue)}`}`;
    case 'pattern':
      return `${shown(err.data, opts)}${annotation(err, 'patternErrorMessage') ?? `must match ${p.pattern}`}`;
    case 'maxLength':
      return `longer than ${p.limit} characters`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `shorter than ${p.limit} characters`;
    case 'minimum':
      return `must be ≥ ${p.limit}, got ${err.data}`;
    case 'maximum':
      return `must be ≤ ${p.limit}, got ${err.data}`;
    case 'maxItems':
      return `more than ${p.limit} items`;
    case 'minItems':
      return `at least ${p.limit} item${p.limit === 1 ? '' : 's'} required`;
    case 'maxProperties':
      return p.limit === 1 ? 'expected at most one field' : `more than ${p.limit} entries`;
    case 'minProperties':
      return p.limit === 1 ? 'must not be empty' : `at least ${p.limit} entries required`;
    case 'oneOf':
    case 'anyOf':
      return custom ?? 'matches none of the allowed forms';
    case 'false schema':
      return 'is not allowed';
    default:
      return custom ?? err.message ?? `fails ${err.keyword}`;
  }
}

/**
 * Every problem of a failed validation, each once, rejected fields first, then in the order of
 * the paths. `errors` are the validator's (`validate.errors`), `root` the value it checked.
 */
export function explainErrors(errors: readonly ErrorObject[], root: unknown, opts: ExplainOptions = {}): SchemaProblem[] {
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const err of relevantErrors(errors)) {
    const problem = explainError(err, root, opts);
    if (!problem) continue;
    const key = `${pathText(problem.path)}\u0000${problem.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out.sort((a, b) => a.rank - b.rank);
}

/**
 * The errors worth wording, of all ajv reports for one value (the client's manifest formatter
 * words them its own way, so the choice is shared here): an error inside a oneOf/anyOf branch
 * whose node has its own message ("expected exactly one of …") is said by that message, and a
 * value of the wrong type fails whatever else its node says (oneOf branches, patterns), which
 * the type error says.
 */
export function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const worded = errors.filter((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && annotation(e, 'errorMessage') !== undefined);
  const inWordedBranch = (e: ErrorObject) => worded.some((w) => w !== e && e.instancePath.startsWith(w.instancePath) && e.schemaPath.startsWith(`${w.schemaPath}/`));
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  return errors.filter((err) => !inWordedBranch(err) && (err.keyword === 'type' || !mistyped.has(err.instancePath)));
}
