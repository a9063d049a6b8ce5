/**
 * Building blocks of the compose part of the published JSON Schema (draft-07; the Kubernetes
 * part is the object schemas', schema-objects.ts).
 *
 * Two non-standard annotation keywords carry Grove's messages; editors that know them (VS Code's
 * JSON/YAML language services) show them too, and ajv is told they are annotations:
 * - `errorMessage` on `{ not: {} }`: the field is known but rejected (`not supported yet`);
 *   on `const`/`enum`: what to write instead.
 * - `patternErrorMessage` on `pattern`: what the value must look like.
 */

import { DNS_LABEL, LABEL_KEY, LABEL_VALUE } from '../objects/names.js';

export type JsonSchema = { [key: string]: unknown };

export const NOT_SUPPORTED_YET = 'not supported yet';

/** A field Grove knows but rejects by name: it would change behaviour, so never ignore it. */
export function unsupported(why: string = NOT_SUPPORTED_YET): JsonSchema {
  return { not: {}, errorMessage: why };
}

/** Marks each name as unsupported, for the long lists of known-but-rejected fields. */
export function unsupportedFields(names: readonly string[], why?: string): Record<string, JsonSchema> {
  return Object.fromEntries(names.map((n) => [n, unsupported(why)]));
}

export function ref(definition: string): JsonSchema {
  return { $ref: `#/definitions/${definition}` };
}

/** An object that rejects every field it does not list (the product rule for manifests). */
export function closed(properties: Record<string, JsonSchema>, required: string[] = [], extra: JsonSchema = {}): JsonSchema {
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false, ...extra };
}

/** Compose's rule for service names ('_', '.' and capitals allowed); the objects get a DNS label derived from it. */
export const COMPOSE_SERVICE_NAME = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

export const stringList: JsonSchema = { type: 'array', items: { type: 'string' } };

// Kubernetes name syntaxes: one definition, shared with the object schemas.
export { DNS_LABEL, LABEL_KEY, LABEL_VALUE };

/** Sizes and CPU amounts are strings ("64Mi", "500m") or plain numbers; the syntax is checked in code. */
export const quantity: JsonSchema = { type: ['string', 'number'] };
