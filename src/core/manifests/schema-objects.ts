/**
 * The Kubernetes part of the published manifest schema, made from the object schemas
 * themselves (src/core/objects: the kinds a manifest may hold and what they reference), so the
 * schema editors check against is the one the client and the server validate with. TypeBox
 * schemas reference each other by `$id`; here each becomes a definition of the document,
 * referenced as `#/definitions/<id>`.
 */
import type { TSchema } from '@sinclair/typebox';
import { APPLIED_KINDS, KIND_TABLE } from '../objects/kind-table.js';
import { SHARED_SCHEMAS } from '../objects/shared-schemas.js';
import { ref, type JsonSchema } from './schema-parts.js';

/** `schema` as plain JSON: `$id`s dropped (the definition's name is its id), `$ref`s into the document. */
function published(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(published);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id') continue;
    out[key] = key === '$ref' && typeof value === 'string' && !value.startsWith('#') ? `#/definitions/${value}` : published(value);
  }
  return out;
}

/** Every `$ref` id in `schema`. */
function refsOf(schema: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => refsOf(s, into));
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) into.add(value);
      else refsOf(value, into);
    }
  }
  return into;
}

/** The applied kinds, what they reference, and a v1 List of them (`kubectl get -o yaml` writes one). */
export function objectDefinitions(): Record<string, JsonSchema> {
  const byId = new Map<string, TSchema>(SHARED_SCHEMAS.map((s) => [String(s.$id), s]));
  const definitions: Record<string, JsonSchema> = {};
  const pending: [string, TSchema][] = APPLIED_KINDS.map((kind) => [kind, KIND_TABLE[kind].schema]);
  while (pending.length) {
    const [name, schema] = pending.shift()!;
    if (definitions[name]) continue;
    definitions[name] = published(schema) as JsonSchema;
    for (const id of refsOf(schema, new Set())) {
      const target = byId.get(id);
      if (!target) throw new Error(`the published schema needs "${id}", which is not a shared object schema`);
      pending.push([id, target]);
    }
  }
  definitions.List = {
    type: 'object',
    properties: {
      apiVersion: { const: 'v1' },
      kind: { const: 'List' },
      metadata: { type: 'object' },
      items: { type: 'array', items: { oneOf: APPLIED_KINDS.map((k) => ref(k)) } },
    },
    required: ['apiVersion', 'kind', 'items'],
    additionalProperties: false,
  };
  return definitions;
}

/** The top-level choices of a Kubernetes document. */
export const OBJECT_DOCUMENTS: readonly string[] = [...APPLIED_KINDS, 'List'];
