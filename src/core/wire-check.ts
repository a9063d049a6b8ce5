/**
 * The decoding pipeline every sync message goes through: size check, CBOR parse, a map at the
 * root, the schema version, then the message's generated validator (src/core/objects/generated)
 * on a fresh plain copy. Any failure becomes one WireInvalid error naming the message, its
 * sender and the field: "node status from pi-1: pods[2].containers[0].state: expected one of …".
 *
 * The copy is what makes a validator safe on untrusted input: only plain maps and arrays are
 * kept (a CBOR Map, Date, typed array or tagged value becomes an opaque marker every type check
 * refuses, bytes only where a message carries them), nil and undefined fields count as absent
 * (peers that encode "no value" as nil are accepted), and every map is new, so nothing a peer
 * sends can reach a prototype. The validators remove unknown fields and apply defaults in place.
 */
import type { ErrorObject } from 'ajv';
import { ErrorCode, GroveError } from './errors.js';
import { describeValue, explainErrors, pathText } from './objects/explain.js';
import { createWireDecoder } from './wire-codec.js';
import { validateName } from './topics.js';
import { quoteValue } from './quote.js';
import { WIRE_LIMITS } from './wire-limits.js';

/** A failure inside a decoder; converted to a GroveError that names the message and sender. */
export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

export type Obj = Record<string, unknown>;

/** What ajv standalone emits: a function that records its errors on itself. */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A value no schema type accepts, carrying what it was for the message ("got Map"). */
const opaque = (v: unknown): symbol => Symbol(describeValue(v));

/**
 * A fresh copy of decoded CBOR holding plain data only: maps (nil fields dropped), arrays,
 * strings, numbers, booleans, nulls in arrays; bytes when `bytes` is set; anything else opaque.
 */
export function plainCopy(v: unknown, bytes = false): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => plainCopy(x, bytes));
  if (bytes && v instanceof Uint8Array) return v;
  if (!isPlainObject(v)) return opaque(v);
  const out: Obj = {};
  for (const key of Object.keys(v)) {
    const x = v[key];
    if (x === null || x === undefined) continue;
    // defineProperty semantics: a "__proto__" key stays an ordinary key.
    Object.defineProperty(out, key, { value: plainCopy(x, bytes), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * `raw` checked by `validator` (on a plain copy, which it defaults and strips of unknown
 * fields); throws FieldError for the first problem.
 */
export function checkWith<T>(validator: CompiledValidator, raw: unknown, bytes = false): T {
  const value = plainCopy(raw, bytes);
  if (validator(value)) return value as T;
  const [problem] = explainErrors(validator.errors ?? [], value);
  throw new FieldError(problem ? pathText(problem.path) || '(root)' : '(root)', problem?.reason ?? 'is not valid');
}

function root(v: unknown): Obj {
  if (!isPlainObject(v)) throw new FieldError('(root)', `expected a map, got ${describeValue(v)}`);
  return v;
}

export interface DecodeSpec<T> {
  /** Payloads above this many bytes are refused before parsing. */
  max: number;
  /** The message in errors: "node status". */
  what: string;
  /** The schema version this build speaks for the message. */
  schema: number;
  /** The message with its sender for errors, from the raw map ("node status from pi-1"). */
  label: (o: Obj) => string;
  read: (o: Obj) => T;
}

/**
 * Size check, CBOR parse, root map, schema version, then `read`; any failure becomes WireInvalid
 * with a message like "node status from pi-1: pods[2].containers[0].state: expected one of …".
 */
export function decodeWith<T>(buf: Uint8Array, spec: DecodeSpec<T>): T {
  const { max, what } = spec;
  const invalid = (msg: string, details: Record<string, unknown>, cause?: unknown): GroveError =>
    new GroveError(ErrorCode.WireInvalid, msg, { cause, details: { message: what, ...details } });
  if (!(buf instanceof Uint8Array)) throw invalid(`${what}: payload is not bytes`, {});
  if (buf.byteLength > max) {
    throw invalid(`${what}: payload of ${buf.byteLength} bytes exceeds the limit of ${max} bytes`, { size: buf.byteLength, limit: max });
  }
  if (buf.byteLength === 0) throw invalid(`${what}: empty payload`, {});
  let raw: unknown;
  try {
    raw = createWireDecoder().decode(buf);
  } catch (err) {
    throw invalid(`${what}: not valid CBOR (${err instanceof Error ? err.message : String(err)})`, {}, err);
  }
  let prefix = what;
  try {
    const o = root(raw);
    prefix = spec.label(o);
    if (o.schema !== spec.schema) {
      const shown = typeof o.schema === 'number' ? String(o.schema) : describeValue(o.schema);
      throw invalid(`${prefix}: unsupported schema version ${shown} (this build speaks ${spec.schema})`, { schema: o.schema });
    }
    return spec.read(o);
  } catch (err) {
    if (err instanceof FieldError) {
      throw invalid(`${prefix}: ${err.path}: ${err.reason}`, { path: err.path, reason: err.reason }, err);
    }
    if (err instanceof GroveError) throw err;
    // E.g. a stack overflow copying absurdly nested unknown fields: still just a bad message.
    throw invalid(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, {}, err);
  }
}

/** A decoder of one message: its size bound, names for errors, schema version and generated validator. */
export interface SchemaDecoderSpec<T> extends Omit<DecodeSpec<T>, 'read'> {
  validator: unknown;
  /** Rules across the decoded message the schema cannot say (throw FieldError). */
  then?: (value: T) => T;
  /** The message may carry byte strings (stream sessions); `then` checks where. */
  bytes?: boolean;
}

export function schemaDecoder<T>(spec: SchemaDecoderSpec<T>): (buf: Uint8Array) => T {
  const { validator, then = (v: T) => v, bytes = false, ...decode } = spec;
  return (buf) => decodeWith(buf, { ...decode, read: (o) => then(checkWith<T>(validator as CompiledValidator, o, bytes)) });
}

/**
 * `rpc request "r-1"`: the message and its id, when the id is one. Shared by the rpc decoders
 * of both directions, so it lives here: importing it from either decoder module would load that
 * module's validators into a process that never receives its messages.
 */
export const rpcLabel = (what: string) => (o: Obj) => (typeof o.id === 'string' && o.id.length <= WIRE_LIMITS.rpcId ? `${what} ${quoteValue(o.id)}` : what);

/** The index of the first item whose key an earlier item has, or -1. */
export function firstDuplicate<T>(items: readonly T[], key: (item: T) => string): number {
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

/** What every node target's envelope must be (schema 1 and 2): valid names, a revision that can only grow. */
export function checkTargetEnvelope(cluster: string, node: string, revision: number): void {
  validateName(cluster, 'cluster');
  validateName(node, 'node');
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid target revision ${revision}`);
  }
}

/** Checks the byte fields of a stream message: each one present is bytes of at most `max`. */
export function checkByteFields(o: Obj, fields: readonly string[], max: number, prefix = ''): void {
  for (const key of fields) {
    const v = o[key];
    if (v === undefined) continue;
    if (!(v instanceof Uint8Array)) throw new FieldError(`${prefix}${key}`, `expected bytes, got ${describeValue(v)}`);
    if (v.byteLength > max) throw new FieldError(`${prefix}${key}`, `${v.byteLength} bytes exceeds the limit of ${max} bytes`);
  }
}
