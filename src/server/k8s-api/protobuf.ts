/**
 * Just enough of Kubernetes' protobuf encoding to read the small request bodies kubectl sends
 * that way (its typed clients — auth can-i, auth whoami — post protobuf and never fall back to
 * JSON, even on 415): the "k8s\0" envelope (runtime.Unknown: typeMeta, raw) and the
 * length-delimited fields of a message (strings and nested messages). Answers stay JSON, which
 * kubectl accepts. Bounded by the body's size: every length is checked against what is left.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Nesting deeper than any request we read means a malicious or broken body. */
const MAX_FIELDS = 10_000;

function malformed(why: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `request body is not valid Kubernetes protobuf: ${why}`);
}

function varint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    // Lengths and field numbers beyond 2^31 never occur in a body this small.
    if (shift < 31) value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw malformed('truncated varint');
}

/** The length-delimited fields of a message (strings, bytes, messages), by field number; other wire types are skipped. */
export function messageFields(buf: Buffer): Map<number, Buffer[]> {
  const fields = new Map<number, Buffer[]>();
  let at = 0;
  for (let n = 0; at < buf.length; n++) {
    if (n >= MAX_FIELDS) throw malformed('too many fields');
    const [key, next] = varint(buf, at);
    at = next;
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        at = varint(buf, at)[1];
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        const [length, start] = varint(buf, at);
        if (start + length > buf.length) throw malformed(`field ${field} runs past the end`);
        fields.set(field, [...(fields.get(field) ?? []), buf.subarray(start, start + length)]);
        at = start + length;
        break;
      }
      default:
        throw malformed(`unsupported wire type ${key & 7}`);
    }
    if (at > buf.length) throw malformed('truncated field');
  }
  return fields;
}

/** A string field ("" when absent, as protobuf's default). */
export function stringField(fields: Map<number, Buffer[]>, n: number): string {
  return fields.get(n)?.[0]?.toString('utf8') ?? '';
}

/** A nested message field (empty when absent). */
export function messageField(fields: Map<number, Buffer[]>, n: number): Map<number, Buffer[]> {
  const raw = fields.get(n)?.[0];
  return raw ? messageFields(raw) : new Map();
}

/** The envelope's apiVersion, kind and the object's own encoded message. */
export function unwrapEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed('missing the "k8s\\0" prefix');
  const unknown = messageFields(body.subarray(MAGIC.length));
  const typeMeta = messageField(unknown, 1);
  return { apiVersion: stringField(typeMeta, 1), kind: stringField(typeMeta, 2), raw: unknown.get(2)?.[0] ?? Buffer.alloc(0) };
}

/** Whether a request's content-type is Kubernetes protobuf. */
export function isProtobuf(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}
