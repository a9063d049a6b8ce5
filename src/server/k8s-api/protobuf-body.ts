/**
 * Kubernetes protobuf request bodies, for what kubectl sends that way: its typed clients
 * (`kubectl create secret|configmap|namespace|service`, `auth can-i`, `auth whoami`) write
 * `application/vnd.kubernetes.protobuf` and do not fall back to JSON, even on 415. The envelope is `k8s\0` + runtime.Unknown {typeMeta, raw};
 * `raw` is the object, decoded here by a field-number table per message (the numbers of
 * Kubernetes' generated.proto). Fields the tables do not list are skipped; proto3 zero values
 * ("" , 0, empty messages) read as absent, as Go's decoder leaves them at their zero value.
 *
 * Other kinds answer 415 (Status UnsupportedMediaType) naming what to send instead.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Nested messages deeper than this are a malformed (or hostile) body. */
const MAX_DEPTH = 16;

type Scalar = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'intOrString';
export interface Field {
  name: string;
  type: Scalar | Table | { map: 'string' | 'bytes' };
  repeated?: boolean;
}
export interface Table {
  [number: number]: Field;
}

const TIME: Table = { 1: { name: 'seconds', type: 'int' }, 2: { name: 'nanos', type: 'int' } };
/** intstr.IntOrString: type 0 = intVal, 1 = strVal. */
const INT_OR_STRING: Table = { 1: { name: 'type', type: 'int' }, 2: { name: 'intVal', type: 'int' }, 3: { name: 'strVal', type: 'string' } };
const SERVICE_PORT: Table = {
  1: { name: 'name', type: 'string' },
  2: { name: 'protocol', type: 'string' },
  3: { name: 'port', type: 'int' },
  4: { name: 'targetPort', type: 'intOrString' },
  5: { name: 'nodePort', type: 'int' },
  6: { name: 'appProtocol', type: 'string' },
};
const SERVICE_SPEC: Table = {
  1: { name: 'ports', type: SERVICE_PORT, repeated: true },
  2: { name: 'selector', type: { map: 'string' } },
  3: { name: 'clusterIP', type: 'string' },
  4: { name: 'type', type: 'string' },
  5: { name: 'externalIPs', type: 'string', repeated: true },
  7: { name: 'sessionAffinity', type: 'string' },
  10: { name: 'externalName', type: 'string' },
  11: { name: 'externalTrafficPolicy', type: 'string' },
  13: { name: 'publishNotReadyAddresses', type: 'bool' },
  17: { name: 'ipFamilyPolicy', type: 'string' },
  18: { name: 'clusterIPs', type: 'string', repeated: true },
  19: { name: 'ipFamilies', type: 'string', repeated: true },
  20: { name: 'allocateLoadBalancerNodePorts', type: 'bool' },
  22: { name: 'internalTrafficPolicy', type: 'string' },
};
const OWNER_REFERENCE: Table = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};
export const OBJECT_META: Table = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' },
  11: { name: 'labels', type: { map: 'string' } },
  12: { name: 'annotations', type: { map: 'string' } },
  13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

/** The kinds kubectl's typed `create` subcommands send as protobuf and Grove decodes. */
const KINDS: Record<string, Table> = {
  ConfigMap: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: { map: 'string' } }, 3: { name: 'binaryData', type: { map: 'bytes' } }, 4: { name: 'immutable', type: 'bool' } },
  Secret: {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'data', type: { map: 'bytes' } },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: { map: 'string' } },
    5: { name: 'immutable', type: 'bool' },
  },
  Namespace: { 1: { name: 'metadata', type: OBJECT_META } },
  Service: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'spec', type: SERVICE_SPEC } },
};

const TYPE_META: Table = { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } };
const UNKNOWN: Table = { 1: { name: 'typeMeta', type: TYPE_META }, 2: { name: 'raw', type: 'bytes' } };

function malformed(why: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `the protobuf request body is malformed: ${why}`);
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw malformed('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw malformed('varint too long');
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw malformed('a field runs past the end');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw malformed(`unsupported wire type ${wire}`);
  }
}

function decodeScalar(type: Scalar, wire: number, r: Reader, depth: number): unknown {
  if (type === 'int' || type === 'bool') {
    if (wire !== 0) throw malformed('expected a varint');
    const n = r.varint();
    return type === 'bool' ? n !== 0 : n;
  }
  if (wire !== 2) throw malformed('expected a length-delimited field');
  const raw = r.bytes();
  if (type === 'string') return raw.toString('utf8');
  if (type === 'bytes') return raw;
  if (type === 'intOrString') {
    const v = decodeMessage(raw, INT_OR_STRING, depth + 1) as { type?: number; intVal?: number; strVal?: string };
    return v.type === 1 ? v.strVal : v.intVal;
  }
  const t = decodeMessage(raw, TIME, depth + 1) as { seconds?: number };
  return t.seconds === undefined ? undefined : new Date(t.seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function isZero(v: unknown): boolean {
  return v === undefined || v === '' || v === 0 || v === false || (Buffer.isBuffer(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && Object.keys(v).length === 0);
}

function decodeMessage(buf: Buffer, table: Table, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw malformed('nested too deeply');
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const key = r.varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) throw malformed(`unsupported wire type ${wire}`);
    const field = table[number];
    if (!field) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    if (typeof field.type === 'string') value = decodeScalar(field.type, wire, r, depth);
    else if ('map' in field.type) {
      if (wire !== 2) throw malformed('expected a map entry');
      const entry = decodeMessage(r.bytes(), { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: field.type.map } }, depth + 1);
      const map = (out[field.name] as Record<string, unknown> | undefined) ?? {};
      const v = entry.value ?? (field.type.map === 'bytes' ? Buffer.alloc(0) : '');
      map[String(entry.key ?? '')] = Buffer.isBuffer(v) ? v.toString('base64') : v;
      out[field.name] = map;
      continue;
    } else {
      if (wire !== 2) throw malformed('expected a message');
      value = decodeMessage(r.bytes(), field.type, depth + 1);
    }
    if (field.repeated) {
      if (!isZero(value) || typeof field.type !== 'string') out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    } else if (!isZero(value)) {
      out[field.name] = value;
    } else {
      delete out[field.name];
    }
  }
  return out;
}

/** Whether a Content-Type is Kubernetes protobuf. */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_TYPE;
}

/**
 * The object of a protobuf body, decoded by the table of its kind in `kinds` (the created kinds
 * by default); 415 for any other kind.
 */
export function decodeProtobufObject(body: Buffer, kinds: Readonly<Record<string, Table>> = KINDS): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed('missing the k8s envelope (the "k8s\\0" prefix)');
  const unknown = decodeMessage(body.subarray(MAGIC.length), UNKNOWN, 0) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Buffer };
  const kind = unknown.typeMeta?.kind ?? '';
  const table = kinds[kind];
  if (!table) {
    throw new GroveError(ErrorCode.InvalidArgument, `protobuf bodies are understood for ${Object.keys(kinds).join(', ')} only, not ${JSON.stringify(kind.slice(0, 64))}: send application/json`, { details: { reason: 'UnsupportedMediaType' } });
  }
  const object = decodeMessage(unknown.raw ?? Buffer.alloc(0), table, 0);
  return { apiVersion: unknown.typeMeta?.apiVersion, kind, ...object };
}
