/**
 * The only way code checks an object against its kind's schema: the precompiled validators of
 * generated/objects.ts behind a typed wrapper. Validating also defaults (Kubernetes' defaults
 * are schema defaults); the input is never changed, the defaulted copy is returned.
 *
 * `validate` gives ajv's raw errors (the client's manifest formatter words them with file and
 * line); `checkObject` gives every problem, schema and rules, as paths and reasons.
 */
import type { ErrorObject } from 'ajv';
import type { Static } from '@sinclair/typebox';
import * as generated from './generated/objects.js';
import { explainErrors, type PathSegment, type SchemaProblem } from './explain.js';
import type { PodSpec } from './pod.js';
import { objectProblems } from './rules.js';
import type { KindName, KindSchemas } from './kind-table.js';

export type { KindName };

/** The object type of a kind: `KindObject<'Deployment'>`. */
export type KindObject<K extends KindName> = Static<KindSchemas[K]>;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ErrorObject[] };

/** What ajv standalone emits: a function that records its errors on itself. */
type CompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

const VALIDATORS = generated as unknown as Readonly<Record<KindName | 'PodSpec', CompiledValidator>>;

function run<T>(validator: CompiledValidator, value: unknown): ValidationResult<T> {
  const copy = structuredClone(value);
  if (validator(copy)) return { ok: true, value: copy as T };
  return { ok: false, errors: [...(validator.errors ?? [])] };
}

/** Checks `value` against `kind`'s schema; on success the defaulted copy. */
export function validate<K extends KindName>(kind: K, value: unknown): ValidationResult<KindObject<K>> {
  const validator = VALIDATORS[kind];
  if (!validator) throw new Error(`no validator for kind ${kind}`);
  return run<KindObject<K>>(validator, value);
}

/** Checks a PodSpec alone (what a node target carries); on success the defaulted copy. */
export function validatePodSpec(value: unknown): ValidationResult<PodSpec> {
  return run<PodSpec>(VALIDATORS.PodSpec, value);
}

export type ObjectProblem = Pick<SchemaProblem, 'path' | 'reason'> & Partial<Pick<SchemaProblem, 'at' | 'rank'>>;

export type CheckResult<T> = { ok: true; value: T } | { ok: false; problems: ObjectProblem[] };

/**
 * Schema, then rules: every problem of `value` as a `kind` object (rules only run on what passed
 * the schema, since they read typed fields). `showValues` quotes offending values in reasons;
 * Secret data values are never quoted.
 */
export function checkObject<K extends KindName>(kind: K, value: unknown, opts: { showValues?: boolean } = {}): CheckResult<KindObject<K>> {
  const result = validate(kind, value);
  if (!result.ok) return { ok: false, problems: explainErrors(result.errors, value, { showValues: opts.showValues === true && kind !== 'Secret' }) };
  const problems = objectProblems(kind, result.value as Record<string, unknown>);
  return problems.length ? { ok: false, problems } : result;
}

export type { PathSegment };
