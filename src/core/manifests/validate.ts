/**
 * Checks a document against one definition of the embedded schema and turns ajv's findings into
 * a single located ManifestInvalid error.
 *
 * ajv runs with allErrors so that the error reported is chosen, not whichever ajv met first:
 * rejected fields (unknown or not supported) win, because they usually explain the rest (a
 * typo `imagee` also makes `image` missing); then the error that comes first in the file.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { GroveError } from '../errors.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { MANIFEST_SCHEMA_ID, manifestSchema, type ManifestDefinition } from './schema.js';
import { ANNOTATION_KEYWORDS } from './schema-parts.js';
import { closestName, pointerToPath } from '../objects/explain.js';
import { annotation, typeMessage } from './object-errors.js';

export interface ManifestValidator {
  /** Throws ManifestInvalid for the most useful problem of `value`, which sits at `base` in the document. */
  check(definition: ManifestDefinition, value: unknown, ctx: DocContext, base?: FieldPath): void;
}

/** Compiles lazily: each definition on its first use. Create one per parse, or share one. */
export function createManifestValidator(): ManifestValidator {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, keywords: [...ANNOTATION_KEYWORDS] });
  ajv.addSchema(manifestSchema());
  const compiled = new Map<ManifestDefinition, ValidateFunction>();
  const get = (definition: ManifestDefinition): ValidateFunction => {
    let validate = compiled.get(definition);
    if (!validate) {
      validate = ajv.getSchema(`${MANIFEST_SCHEMA_ID}#/definitions/${definition}`);
      if (!validate) throw new Error(`schema definition ${definition} is missing`);
      compiled.set(definition, validate);
    }
    return validate;
  };
  return {
    check(definition, value, ctx, base = []) {
      const validate = get(definition);
      if (validate(value)) return;
      throw bestError(validate.errors ?? [], value, ctx, base);
    },
  };
}

interface Problem {
  path: FieldPath;
  linePath: FieldPath;
  at: 'key' | 'value';
  message: string;
  /** 0: a field that must go (unknown or unsupported); 1: anything else. */
  rank: number;
}

function toProblem(err: ErrorObject, root: unknown, ctx: DocContext, base: FieldPath): Problem | undefined {
  const here = [...base, ...pointerToPath(err.instancePath, root)];
  // Only Secret values are hidden: the type, names and labels of a Secret may be quoted.
  const sensitive = ctx.sensitive === true && (here[base.length] === 'data' || here[base.length] === 'stringData');
  const shown = (v: unknown) => (sensitive ? 'the value' : quote(v));
  const plain = (message: string, rank = 1): Problem => ({ path: here, linePath: here, at: 'value', message, rank });
  // Errors about a property *name* (propertyNames) carry it separately: point at the key.
  if (err.propertyName !== undefined) {
    const path = [...here, err.propertyName];
    const rule = err.keyword === 'pattern' ? annotation(err, 'patternErrorMessage') ?? `must match ${err.params.pattern}` : err.message ?? 'is not valid';
    return { path, linePath: path, at: 'key', message: `key ${quote(err.propertyName)} ${rule}`, rank: 1 };
  }
  switch (err.keyword) {
    case 'propertyNames':
      return undefined; // reported through the nested error above
    case 'additionalProperties': {
      const name = String(err.params.additionalProperty);
      const path = [...here, name];
      const known = Object.keys(((err.parentSchema as Record<string, unknown> | undefined)?.properties ?? {}) as object);
      const near = closestName(name, known);
      return { path, linePath: path, at: 'key', message: `unknown field${near ? ` (did you mean ${near}?)` : ''}`, rank: 0 };
    }
    case 'not':
      return { path: here, linePath: here, at: 'key', message: annotation(err, 'errorMessage') ?? 'is not allowed', rank: 0 };
    case 'required': {
      const path = [...here, String(err.params.missingProperty)];
      return { path, linePath: here, at: 'key', message: 'required field is missing', rank: 1 };
    }
    case 'type':
      return plain(typeMessage(err, sensitive));
    case 'const':
      return plain(`${shown(err.data)} ${annotation(err, 'errorMessage') ?? `must be ${quote(err.params.allowedValue)}`}`);
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[]).map((v) => quote(v)).join(', ');
      return plain(`${shown(err.data)} ${annotation(err, 'errorMessage') ?? `must be one of ${allowed}`}`);
    }
    case 'pattern':
      return plain(`${shown(err.data)} ${annotation(err, 'patternErrorMessage') ?? `must match ${err.params.pattern}`}`);
    case 'maxLength':
      return plain(`must be at most ${err.params.limit} characters long`);
    case 'minLength':
      return plain(err.params.limit === 1 ? 'must not be empty' : `must be at least ${err.params.limit} characters long`);
    case 'minimum':
      return plain(`${shown(err.data)} must be at least ${err.params.limit}`);
    case 'maximum':
      return plain(`${shown(err.data)} must be at most ${err.params.limit}`);
    case 'minItems':
      return plain(`must have at least ${err.params.limit} item${err.params.limit === 1 ? '' : 's'}`);
    case 'minProperties':
      return plain('must not be empty');
    default:
      return plain(err.message ?? 'is not valid');
  }
}

function bestError(errors: ErrorObject[], root: unknown, ctx: DocContext, base: FieldPath): GroveError {
  let best: { problem: Problem; line: number } | undefined;
  for (const err of errors) {
    const problem = toProblem(err, root, ctx, base);
    if (!problem) continue;
    const line = ctx.doc.lineOf(problem.linePath, problem.at) ?? Number.MAX_SAFE_INTEGER;
    if (!best || problem.rank < best.problem.rank || (problem.rank === best.problem.rank && line < best.line)) {
      best = { problem, line };
    }
  }
  if (!best) return manifestError(ctx, base, 'is not valid');
  const { path, linePath, at, message } = best.problem;
  return manifestError(ctx, path, message, { at, linePath });
}
