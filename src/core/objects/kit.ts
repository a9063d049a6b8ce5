/**
 * Building blocks of the object schemas (TypeBox 0.34 → JSON Schema draft-07, what ajv speaks).
 *
 * Grove's annotation keywords ride along in the schemas; ajv is told they are annotations
 * (generate.ts) and the error formatters (explain.ts, the manifest formatter) read them from
 * the failing schema node:
 * - `errorMessage`: what to say when the node's own check fails (const, enum, not, oneOf, type);
 *   on `{ not: {} }` it is the reason a known field is rejected by name (`unsupported`).
 * - `patternErrorMessage`: what a value matching `pattern` looks like.
 * - `units`: how a quantity is written ("a size such as 64Mi"), for type and syntax messages.
 *
 * Kubernetes' list annotations ride along the same way, on the array schemas (mergeList,
 * setList): how a strategic merge patch and server-side apply merge a list (by which keys), and
 * what the OpenAPI publishes for kubectl. The patch engines read them from here, nowhere else.
 */
import { Type, type Static, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';
import { CONFIG_KEY, CONFIG_KEY_MESSAGE, DNS_LABEL, DNS_LABEL_MESSAGE, DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, LABEL_KEY, LABEL_VALUE, PERCENT } from './names.js';

export const LIST_KEYWORDS = ['x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys'] as const;

export const ANNOTATION_KEYWORDS = ['errorMessage', 'patternErrorMessage', 'units', ...LIST_KEYWORDS] as const;

/**
 * A list whose items are merged by key (Kubernetes' `listType: map`, patchStrategy merge):
 * containers by name, volumeMounts by mountPath, ports by containerPort and protocol. The
 * strategic merge key is the first of `keys`, as in Kubernetes.
 */
export function mergeList(...keys: [string, ...string[]]) {
  return { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': keys[0] };
}

/** A list of unique scalars merged as a set (Kubernetes' `listType: set`: finalizers). */
export function setList() {
  return { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
}

export const NOT_SUPPORTED_YET = 'not supported yet';

/** A field Grove knows but rejects by name: it would change behaviour, so it is never ignored. */
export function unsupported(why: string = NOT_SUPPORTED_YET): TUnsafe<never> {
  return Type.Unsafe<never>({ not: {}, errorMessage: why });
}

/** Marks each name as unsupported, for the long lists of known-but-rejected fields. */
export function unsupportedFields<const N extends readonly string[]>(names: N, why?: string): { [K in N[number]]: ReturnType<typeof optionalNever> } {
  return Object.fromEntries(names.map((n) => [n, optionalNever(why)])) as { [K in N[number]]: ReturnType<typeof optionalNever> };
}

function optionalNever(why?: string) {
  return Type.Optional(unsupported(why));
}

/** Whether `schema` is the `unsupported` marker (the wire drops such fields instead of refusing them). */
export function isUnsupportedMarker(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const not = (schema as { not?: unknown }).not;
  return typeof not === 'object' && not !== null && Object.keys(not).length === 0;
}

/** An object that refuses every field it does not list (the product rule for objects). */
export function closed<P extends Parameters<typeof Type.Object>[0]>(properties: P, options: SchemaOptions = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** A string enum as JSON Schema `enum` (ajv words its errors better than an anyOf of consts). */
export function stringEnum<const V extends readonly string[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}

/** A string matching `regex`, with the message the formatters print when it does not. */
export function pattern(regex: string, message: string, options: SchemaOptions = {}) {
  return Type.String({ pattern: regex, patternErrorMessage: message, ...options });
}

/** A map of string keys (checked by `keys`) to `value`, at most `maxProperties` entries. */
export function stringMap<V extends TSchema>(value: V, options: SchemaOptions & { keys?: TSchema } = {}): TUnsafe<Record<string, Static<V>>> {
  const { keys, ...rest } = options;
  return Type.Unsafe<Record<string, Static<V>>>({ type: 'object', ...(keys ? { propertyNames: keys } : {}), additionalProperties: value, ...rest });
}

/** A `$ref` to a schema that has an `$id`, typed as that schema. */
export function refTo<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  if (!schema.$id) throw new Error('refTo needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** A non-negative whole number up to `max` (Number.MAX_SAFE_INTEGER when absent). */
export function count(options: SchemaOptions & { maximum?: number; minimum?: number } = {}) {
  return Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options });
}

/* ----------------------------------------------------------------- name syntaxes */

export { CONFIG_KEY, CONFIG_KEY_MESSAGE, DNS_LABEL, DNS_LABEL_MESSAGE, DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, LABEL_KEY, LABEL_VALUE, PERCENT };

/** A dotted IPv4 address. */
export const IPV4 = '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$';

export const dnsLabel = (options: SchemaOptions = {}) => pattern(DNS_LABEL, DNS_LABEL_MESSAGE, { maxLength: 63, ...options });
export const dnsSubdomain = (options: SchemaOptions = {}) => pattern(DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, { maxLength: 253, ...options });
export const configKey = () => pattern(CONFIG_KEY, CONFIG_KEY_MESSAGE, { minLength: 1, maxLength: 253 });

/** RFC 3339 as Kubernetes writes times (fractions and offsets accepted, as Go's parser does). */
export const TIMESTAMP = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';
const TIMESTAMP_MESSAGE = 'expected an RFC 3339 time such as 2025-01-02T03:04:05Z';
export const timestamp = (options: SchemaOptions = {}) => pattern(TIMESTAMP, TIMESTAMP_MESSAGE, { maxLength: 64, ...options });

/** A time or null (`kubectl create --dry-run=client -o yaml` writes `creationTimestamp: null`). */
export function nullableTimestamp(): TUnsafe<string | null> {
  return Type.Unsafe<string | null>({ type: ['string', 'null'], pattern: TIMESTAMP, patternErrorMessage: TIMESTAMP_MESSAGE, maxLength: 64 });
}

/** Sizes and CPU amounts: strings ("64Mi", "500m") or plain numbers; the syntax is checked where they are parsed. */
export function quantity(units: string, options: SchemaOptions = {}): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({ type: ['string', 'number'], maxLength: 64, units, ...options });
}

/** Kubernetes' IntOrString: a count or a percentage ("25%"). */
export function intOrPercent(options: SchemaOptions = {}): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    type: ['integer', 'string'],
    minimum: 0,
    maximum: 10000,
    pattern: PERCENT,
    patternErrorMessage: 'must be a whole number or a percentage from 0% to 100%, such as "25%"',
    ...options,
  });
}
