/**
 * The compose file schema (schema-compose*.ts) as precompiled validators
 * (objects/generated/manifest-compose.ts, made by `npm run generate`): no schema is compiled
 * when a compose file is applied. Gives ajv's raw errors; object-errors.ts words them.
 */
import type { ErrorObject } from 'ajv';
import * as generated from '../objects/generated/manifest-compose.js';

export type ComposeDefinition = 'ComposeFile' | 'ComposeService';

type CompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

const VALIDATORS = generated as unknown as Readonly<Record<ComposeDefinition, CompiledValidator>>;

/** Every ajv error of `value` as a `definition` ([] when valid). The schema has no defaults: `value` is not changed. */
export function composeSchemaErrors(definition: ComposeDefinition, value: unknown): ErrorObject[] {
  const validator = VALIDATORS[definition];
  return validator(value) ? [] : [...(validator.errors ?? [])];
}
