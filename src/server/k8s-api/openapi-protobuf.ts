/**
 * The OpenAPI v2 document in the protobuf encoding kubectl asks for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, the gnostic openapi_v2
 * messages): kubectl's client-side validation fetches /openapi/v2 only in this form. Only the
 * fields openapi.ts writes are encoded — Document (swagger, info, paths, definitions), Info
 * (title, version) and Schema ($ref, format, description, required, enum, additionalProperties,
 * type, items, properties, vendor extensions) — with field numbers from gnostic's
 * OpenAPIv2.proto. Vendor extension and enum values travel as YAML text; JSON is YAML. Pure.
 */
import type { Json } from './openapi-schema.js';

/** Protobuf wire types used here. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function key(field: number, wire: number): Buffer {
  return varint(field * 8 + wire);
}

/** A length-delimited field: a string or an embedded message (written even when empty: presence). */
function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([key(field, LENGTH_DELIMITED), varint(value.length), value]);
}

function stringField(field: number, value: unknown): Buffer {
  // proto3 omits empty strings.
  return typeof value === 'string' && value !== '' ? bytesField(field, Buffer.from(value, 'utf8')) : Buffer.alloc(0);
}

function boolField(field: number, value: boolean): Buffer {
  return value ? Buffer.concat([key(field, VARINT), varint(1)]) : Buffer.alloc(0);
}

/** gnostic's Any: { yaml = 2 }. */
function anyMessage(value: unknown): Buffer {
  return stringField(2, JSON.stringify(value));
}

/** NamedAny { name = 1; value = 2 }. */
function namedAny(name: string, value: unknown): Buffer {
  return Buffer.concat([stringField(1, name), bytesField(2, anyMessage(value))]);
}

function namedSchemas(field: number, entries: Record<string, unknown>): Buffer {
  return Buffer.concat(Object.entries(entries).map(([name, s]) => bytesField(field, Buffer.concat([stringField(1, name), bytesField(2, schemaMessage(s as Json))]))));
}

/** gnostic's Schema message. */
export function schemaMessage(s: Json): Buffer {
  const parts: Buffer[] = [stringField(1, s.$ref), stringField(2, s.format), stringField(4, s.description)];
  if (Array.isArray(s.required)) for (const r of s.required) parts.push(stringField(19, r));
  if (Array.isArray(s.enum)) for (const e of s.enum) parts.push(bytesField(20, anyMessage(e)));
  const ap = s.additionalProperties;
  if (typeof ap === 'boolean') parts.push(bytesField(21, boolField(2, ap)));
  else if (typeof ap === 'object' && ap !== null) parts.push(bytesField(21, bytesField(1, schemaMessage(ap as Json))));
  if (typeof s.type === 'string') parts.push(bytesField(22, stringField(1, s.type)));
  if (typeof s.items === 'object' && s.items !== null) parts.push(bytesField(23, bytesField(1, schemaMessage(s.items as Json))));
  if (typeof s.properties === 'object' && s.properties !== null) parts.push(bytesField(25, namedSchemas(1, s.properties as Record<string, unknown>)));
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) parts.push(bytesField(31, namedAny(k, v)));
  return Buffer.concat(parts);
}

/** The whole v2 document (openapi.ts openApiV2) as gnostic's Document message. */
export function openApiV2Protobuf(doc: Json): Buffer {
  const info = (doc.info ?? {}) as Json;
  return Buffer.concat([
    stringField(1, doc.swagger),
    bytesField(2, Buffer.concat([stringField(1, info.title), stringField(2, info.version)])),
    bytesField(8, Buffer.alloc(0)),
    bytesField(9, namedSchemas(1, (doc.definitions ?? {}) as Record<string, unknown>)),
  ]);
}
