/**
 * The sync protocol's CBOR: one set of cbor-x options for every encoder and decoder, and the
 * canonical encoding (map keys sorted at every depth) that checksums and template hashes use,
 * so equal values give equal bytes on every server and agent.
 */
import { createHash } from 'node:crypto';
import { Decoder, Encoder, type Options } from 'cbor-x';

/**
 * cbor-x options shared by every encoder/decoder: plain CBOR maps (no cbor-x record extension,
 * no tag 259 on Maps), preferred-size map headers. Frozen; each caller builds its own instance.
 */
const CBOR_OPTIONS = Object.freeze({ useRecords: false, mapsAsObjects: true, variableMapSize: true, useTag259ForMaps: false });

export function createWireEncoder(): Encoder {
  return new Encoder({ ...CBOR_OPTIONS } as Options);
}

export function encodeMessage(message: object, encoder: Encoder = createWireEncoder()): Buffer {
  return encoder.encode(message);
}

export function createWireDecoder(): Decoder {
  return new Decoder({ ...CBOR_OPTIONS } as Options);
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Objects become Maps with sorted keys because a JS object always puts integer-like keys
 * first ({"10":…,"9":…}), so sorting its keys would not fix the encoded order. Undefined
 * entries are dropped so `{command: undefined}` and `{}` hash alike.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainMap(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return new Map(keys.map((k) => [k, canonical(value[k])]));
  }
  return value;
}

/** CBOR with map keys sorted at every depth: equal values give equal bytes. */
export function encodeCanonical(value: unknown, encoder: Encoder = createWireEncoder()): Buffer {
  return encoder.encode(canonical(value));
}

/** sha256 hex over the canonical CBOR of `pods`: independent of key order. */
export function podsChecksum(pods: readonly unknown[]): string {
  return createHash('sha256').update(encodeCanonical(pods)).digest('hex');
}
