/**
 * The per-node config channel (docs/protocol.md): grove/v1/<cluster>/nodes/<node>/config,
 * retained, QoS 1, carrying the ConfigMaps and Secrets that node's pods reference.
 *
 *   message (CBOR)  {schema, cluster, node, revision, issuedAt, keyId, iv, tag, payload}
 *   payload         AES-256-GCM ciphertext, under the node's own key, of the CBOR bundle
 *                   {objects: [{kind, namespace?, name, version, data}]}   (namespace absent = "default")
 *
 * The authenticated data binds the ciphertext to cluster, node and revision, so the broker (a
 * Mosquitto persists retained messages to disk) never holds plaintext, and a message cannot be
 * replayed to another node or under another revision. The GCM tag is the bundle's checksum.
 * Decoding validates and size-limits both layers; error messages name paths, never values.
 */
import type { ConfigKind, ConfigObject } from './config-refs.js';
import { ErrorCode, GroveError } from './errors.js';
import { decrypt, encrypt, IV_BYTES, keyId, TAG_BYTES } from './seal.js';
import { createWireDecoder, encodeMessage } from './wire-codec.js';
import { checkWith, FieldError, firstDuplicate, isPlainObject, type CompiledValidator } from './wire-check.js';
import { WIRE_SCHEMA } from './wire-types.js';
import type { WireConfigMessage } from './objects/wire.js';
import { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECT_BYTES, MAX_CONFIG_OBJECTS } from './wire-limits.js';
import { WireConfigBundle, WireConfigMessage as ConfigMessageValidator } from './objects/generated/wire-config.js';

export { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECT_BYTES, MAX_CONFIG_OBJECTS };

export type { ConfigObject };

/**
 * Whole message on the wire: under the embedded broker's 2 MiB packet limit (packet-guard.ts)
 * with room for the topic and headers. One object at the 1 MiB maximum fits; a node whose pods
 * reference more than that in total gets no new bundle (the server logs it).
 */
export const MAX_CONFIG_MESSAGE_BYTES = 2 * 1024 * 1024 - 64 * 1024;

export type ConfigMessage = WireConfigMessage;

export interface ConfigBundle {
  cluster: string;
  node: string;
  revision: number;
  issuedAt: string;
  objects: ConfigObject[];
}

function aad(m: { cluster: string; node: string; revision: number }): string {
  return `grove-config/${m.cluster}/${m.node}/${m.revision}`;
}

function invalid(path: string, reason: string, cause?: unknown): GroveError {
  return new GroveError(ErrorCode.WireInvalid, `config bundle: ${path}: ${reason}`, { ...(cause ? { cause } : {}), details: { path } });
}

/** Encrypts `bundle` under the node's key into the wire message. */
export function sealConfigBundle(bundle: ConfigBundle, key: Uint8Array): Buffer {
  const plain = encodeMessage({
    objects: bundle.objects.map((o) => ({ kind: o.kind, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), name: o.name, version: o.version, ...(o.type !== undefined ? { type: o.type } : {}), data: o.data })),
  });
  const { iv, tag, ciphertext } = encrypt(key, plain, aad(bundle));
  const message: ConfigMessage = {
    schema: WIRE_SCHEMA,
    cluster: bundle.cluster,
    node: bundle.node,
    revision: bundle.revision,
    issuedAt: bundle.issuedAt,
    keyId: keyId(key),
    iv,
    tag,
    payload: ciphertext,
  };
  return encodeMessage(message);
}

function bytes(o: Record<string, unknown>, k: string, len?: number): Uint8Array {
  const v = o[k];
  if (!(v instanceof Uint8Array)) throw invalid(k, 'expected bytes');
  if (len !== undefined && v.byteLength !== len) throw invalid(k, `expected ${len} bytes`);
  return v;
}

/** `raw` checked by a generated validator, its first problem as this channel's error (paths, never values). */
function checked<T>(validator: unknown, raw: unknown, withBytes: boolean): T {
  try {
    return checkWith<T>(validator as CompiledValidator, raw, withBytes);
  } catch (err) {
    if (err instanceof FieldError) throw invalid(err.path, err.reason, err);
    throw err;
  }
}

/** The outer message, validated; nothing is decrypted yet. */
export function decodeConfigMessage(buf: Uint8Array): ConfigMessage {
  if (!(buf instanceof Uint8Array) || buf.byteLength === 0) throw invalid('message', 'empty payload');
  if (buf.byteLength > MAX_CONFIG_MESSAGE_BYTES) throw invalid('message', `${buf.byteLength} bytes exceeds the limit of ${MAX_CONFIG_MESSAGE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = createWireDecoder().decode(buf);
  } catch (err) {
    throw invalid('message', 'not valid CBOR', err);
  }
  if (!isPlainObject(raw)) throw invalid('message', 'expected a map');
  if (raw.schema !== WIRE_SCHEMA) throw invalid('schema', `unsupported schema version (this build speaks ${WIRE_SCHEMA})`);
  const o = checked<ConfigMessage>(ConfigMessageValidator, raw, true);
  if (Number.isNaN(Date.parse(o.issuedAt))) throw invalid('issuedAt', 'expected a timestamp');
  return { ...o, iv: bytes(o, 'iv', IV_BYTES), tag: bytes(o, 'tag', TAG_BYTES), payload: bytes(o, 'payload') };
}

/** Keys and values of one object, as Kubernetes counts its 1 MiB. */
function objectBytes(o: ConfigObject): number {
  let size = 0;
  for (const [k, v] of Object.entries(o.data)) size += k.length + Buffer.byteLength(v, 'utf8');
  return size;
}

/** Decrypts and validates the bundle of a decoded message with the node's key. */
export function openConfigBundle(message: ConfigMessage, key: Uint8Array): ConfigBundle {
  if (message.keyId !== keyId(key)) throw new GroveError(ErrorCode.PermissionDenied, `config bundle: sealed with key ${message.keyId}, this node holds key ${keyId(key)} (rejoin the node?)`);
  const plain = decrypt(key, { iv: message.iv, tag: message.tag, ciphertext: message.payload }, aad(message));
  let raw: unknown;
  try {
    raw = createWireDecoder().decode(plain);
  } catch (err) {
    throw invalid('payload', 'not valid CBOR', err);
  }
  const { objects } = checked<{ objects: ConfigObject[] }>(WireConfigBundle, raw, false);
  objects.forEach((o, i) => {
    if (objectBytes(o) > MAX_CONFIG_OBJECT_BYTES) throw invalid(`objects[${i}].data`, `larger than ${MAX_CONFIG_OBJECT_BYTES} bytes`);
  });
  const id = (o: ConfigObject) => `${o.kind}/${o.namespace ?? 'default'}/${o.name}`;
  const twice = firstDuplicate(objects, id);
  if (twice >= 0) throw invalid('objects', `${id(objects[twice]!)} appears twice`);
  return { cluster: message.cluster, node: message.node, revision: message.revision, issuedAt: message.issuedAt, objects };
}
