/**
 * The validators' findings about one manifest object, worded for people and located in the
 * file: ajv's errors of the precompiled object schemas (objects/validate.ts) and the rules'
 * problems (objects/rules.ts) → one ManifestProblem each, `file:line (document n, Kind "name"):
 * field.path: reason`, every one of them (rejected fields first within a field's problems).
 *
 * The wording is the client's (values quoted, "quote it" when YAML read a number where a string
 * belongs, units, did-you-mean); the server words the same errors tersely (objects/explain.ts).
 * Which errors are worth wording is shared with it (relevantErrors).
 */
import type { ErrorObject } from 'ajv';
import { closestName, pointerToPath, relevantErrors } from '../objects/explain.js';
import type { RuleProblem } from '../objects/rules.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { problemOf, type ManifestProblem } from './problems.js';

interface Worded {
  path: FieldPath;
  /** Where the line comes from (a missing field has none of its own: its parent's). */
  linePath: FieldPath;
  at: 'key' | 'value';
  message: string;
  /** A field refused by name or unknown: it usually explains what its parent then lacks. */
  rejected?: boolean;
  /** "needs one of …": what a rejected field in the same map explains. */
  lacksHandler?: boolean;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

type SchemaNode = Record<string, unknown>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
}

function describeValue(value: unknown, sensitive: boolean): string {
  const type = typeOf(value);
  if (type === 'null') return 'an empty value';
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  const name = type === 'integer' ? 'number' : type;
  return sensitive ? `a ${name}` : `${name} ${quote(value)}`;
}

export function annotation(err: ErrorObject, keyword: string): string | undefined {
  const value = (err.parentSchema as SchemaNode | undefined)?.[keyword];
  return typeof value === 'string' ? value : undefined;
}

function holdsFields(err: ErrorObject): boolean {
  const types = ([] as unknown[]).concat((err.parentSchema as SchemaNode | undefined)?.type);
  return types.includes('object') || types.includes('array');
}

/** A wrong type, as the client says it: `must be an integer (got string "three")`, `…: quote it`. */
export function typeMessage(err: ErrorObject, sensitive: boolean): string {
  const custom = annotation(err, 'errorMessage');
  // A scalar field's own message ("must be a port number 1-65535 …") says more than its type.
  if (custom !== undefined && !holdsFields(err)) return `${sensitive ? '' : `${quote(err.data)} `}${custom}`;
  const expected = ([] as string[]).concat(err.params.type as string | string[]);
  const names = [...new Set(expected.map((t) => TYPE_NAMES[t === 'integer' && expected.includes('number') ? 'number' : t] ?? t))];
  const got = typeOf(err.data);
  // YAML reads 8080 and true as a number and a boolean; Kubernetes wants strings there.
  const hint = expected.includes('string') && (got === 'integer' || got === 'number' || got === 'boolean') ? ': quote it' : '';
  // A quantity says how it is written ("a size such as 64Mi, 1Gi or 500M") rather than its JSON types.
  const units = annotation(err, 'units');
  return `must be ${units ?? names.join(' or ')} (got ${describeValue(err.data, sensitive)})${hint}`;
}

/** "exactly one of a, b, c" (pod-volumes.ts exactlyOne): say which are there, or that none is. */
function exactlyOneMessage(err: ErrorObject, custom: string): string {
  const branches = ((err.parentSchema as SchemaNode | undefined)?.oneOf ?? []) as SchemaNode[];
  const names = branches.map((b) => (b.required as string[] | undefined)?.[0]).filter((n): n is string => typeof n === 'string');
  if (names.length !== branches.length || typeof err.data !== 'object' || err.data === null) return custom;
  const present = names.filter((n) => Object.prototype.hasOwnProperty.call(err.data, n));
  if (present.length === 0) return `needs one of ${names.join(', ')}`;
  return `has ${present.join(' and ')}: only one of ${names.join(', ')} is allowed`;
}

function word(err: ErrorObject, root: unknown, ctx: DocContext, base: FieldPath): Worded | undefined {
  const here = [...base, ...pointerToPath(err.instancePath, root)];
  // Only Secret values are hidden: the type, names and labels of a Secret may be quoted.
  const sensitive = ctx.sensitive === true && (here[base.length] === 'data' || here[base.length] === 'stringData');
  const shown = (v: unknown) => (sensitive ? '' : `${quote(v)} `);
  const plain = (message: string): Worded => ({ path: here, linePath: here, at: 'value', message });
  const custom = annotation(err, 'errorMessage');
  // Errors about a property *name* (propertyNames) carry it separately: point at the key.
  if (err.propertyName !== undefined) {
    if (err.keyword === 'propertyNames') return undefined;
    const path = [...here, err.propertyName];
    const rule = err.keyword === 'pattern' ? (annotation(err, 'patternErrorMessage') ?? `must match ${err.params.pattern}`) : (err.message ?? 'is not valid');
    return { path, linePath: path, at: 'key', message: `key ${quote(err.propertyName)} ${rule}` };
  }
  switch (err.keyword) {
    case 'propertyNames':
    case 'if':
      return undefined; // the nested error (the key's, the then/else branch's) says it
    case 'additionalProperties': {
      const name = String(err.params.additionalProperty);
      const path = [...here, name];
      const known = Object.keys(((err.parentSchema as SchemaNode | undefined)?.properties ?? {}) as object);
      const near = closestName(name, known);
      return { path, linePath: path, at: 'key', message: `unknown field${near ? ` (did you mean ${near}?)` : ''}`, rejected: true };
    }
    case 'not': {
      // `{not: {}}` rejects a known field by name (kit.ts unsupported); other `not`s reject a value.
      const byName = Object.keys((err.schema ?? {}) as object).length === 0;
      return byName ? { path: here, linePath: here, at: 'key', message: custom ?? 'is not allowed', rejected: true } : plain(`${shown(err.data)}${custom ?? 'is not allowed'}`);
    }
    case 'required': {
      const path = [...here, String(err.params.missingProperty)];
      return { path, linePath: here, at: 'key', message: 'required field is missing' };
    }
    case 'dependencies':
      return { path: [...here, String(err.params.property)], linePath: [...here, String(err.params.property)], at: 'key', message: `needs ${err.params.deps}` };
    case 'type':
      return plain(typeMessage(err, sensitive));
    case 'const':
      return plain(`${shown(err.data)}${custom ?? `must be ${quote(err.params.allowedValue)}`}`);
    case 'enum': {
      const values = (err.params.allowedValues as unknown[]).map(String);
      const near = typeof err.data === 'string' && !sensitive ? closestName(err.data, values) : undefined;
      const allowed = values.map((v) => quote(v)).join(', ');
      return plain(`${shown(err.data)}${custom ?? `must be one of ${allowed}`}${near ? ` (did you mean ${near}?)` : ''}`);
    }
    case 'pattern':
      return plain(`${shown(err.data)}${annotation(err, 'patternErrorMessage') ?? `must match ${err.params.pattern}`}`);
    case 'maxLength':
      return plain(`must be at most ${err.params.limit} characters long`);
    case 'minLength':
      return plain(err.params.limit === 1 ? 'must not be empty' : `must be at least ${err.params.limit} characters long`);
    case 'minimum':
      return plain(`${shown(err.data)}${custom ?? `must be at least ${err.params.limit}`}`);
    case 'maximum':
      return plain(`${shown(err.data)}${custom ?? `must be at most ${err.params.limit}`}`);
    case 'minItems':
      return plain(`must have at least ${err.params.limit} item${err.params.limit === 1 ? '' : 's'}`);
    case 'maxItems':
      return plain(`must have at most ${err.params.limit} items`);
    case 'minProperties':
      return plain(err.params.limit === 1 ? 'must not be empty' : `must have at least ${err.params.limit} entries`);
    case 'maxProperties':
      return plain(err.params.limit === 1 ? 'must have at most one field' : `must have at most ${err.params.limit} entries`);
    case 'oneOf':
    case 'anyOf':
    {
      if (custom === undefined) return plain('matches none of the allowed forms');
      const message = exactlyOneMessage(err, custom);
      return { ...plain(message), lacksHandler: message.startsWith('needs one of ') };
    }
    case 'false schema':
      return plain('is not allowed');
    default:
      return plain(custom ?? err.message ?? 'is not valid');
  }
}

function located(ctx: DocContext, w: Worded): ManifestProblem {
  return problemOf(manifestError(ctx, w.path, w.message, { at: w.at, linePath: w.linePath }));
}

/**
 * Every schema problem of `root` (the object at `base` in its document), worded and located:
 * one per field and message; a field missing because a typo stands in its place ("imagee") is
 * said once, by the typo's "did you mean".
 */
export function schemaProblems(errors: readonly ErrorObject[], root: unknown, ctx: DocContext, base: FieldPath = []): ManifestProblem[] {
  const worded = relevantErrors(errors)
    .map((e) => word(e, root, ctx, base))
    .filter((w): w is Worded => w !== undefined);
  const parentOf = (w: Worded) => JSON.stringify(w.path.slice(0, -1));
  const withRejected = new Set(worded.filter((w) => w.rejected).map(parentOf));
  const meant = new Set(worded.map((w) => /did you mean (\S+)\?/.exec(w.message)).flatMap((m, i) => (m ? [`${JSON.stringify(worded[i]!.path.slice(0, -1))}/${m[1]}`] : [])));
  const seen = new Set<string>();
  const out: ManifestProblem[] = [];
  for (const w of worded) {
    if (w.message === 'required field is missing' && meant.has(`${JSON.stringify(w.path.slice(0, -1))}/${String(w.path[w.path.length - 1])}`)) continue;
    // `grpc:` (refused) or `execc:` (a typo) is why the probe has no handler: say that once.
    if (w.lacksHandler && withRejected.has(JSON.stringify(w.path))) continue;
    const key = `${JSON.stringify(w.path)}\u0000${w.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(located(ctx, w));
  }
  return out;
}

/** The rules' problems (paths from the object's root) of the object at `base`, located. */
export function ruleProblems(problems: readonly RuleProblem[], ctx: DocContext, base: FieldPath = []): ManifestProblem[] {
  return problems.map((p) => located(ctx, { path: [...base, ...p.path], linePath: [...base, ...p.path], at: 'value', message: p.reason }));
}
