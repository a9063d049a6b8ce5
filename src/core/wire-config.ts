/**
 * The per-node config channel (docs/protocol.md): grove/v1/<cluster>/nodes/<node>/config,
 * retained, QoS 1, carrying the ConfigMaps and Secrets that node's pods reference.
 *
 *   message (CBOR)  {schema, cluster, node, revision, issuedAt, keyId, iv, tag, payload}
 *   payload         AES-256-GCM ciphertext, under the node's own key, of the CBOR bundle
 *                   {objects: [{kind, name, version, data}]}
 *
 * The authenticated data binds the ciphertext to cluster, node and revision, so the broker (a
 * Mosquitto persists retained messages to disk) never holds plaintext, and a message cannot be
 * replayed to another node or under another revision. The GCM tag is the bundle's checksum.
 * Decoding validates and size-limits both layers; error messages name paths, never values.
 */
import type { ConfigKind, ConfigObject } from './config-refs.js';
import { ErrorCode, GroveError } from './errors.js';
import { decrypt, encrypt, IV_BYTES, keyId, TAG_BYTES } from './seal.js';
import { isValidName } from './topics.js';
import { createWireDecoder, encodeMessage } from './wire.js';
import { WIRE_SCHEMA } from './wire-types.js';

/**
 * Whole message on the wire: under the embedded broker's 2 MiB packet limit (packet-guard.ts)
 * with room for the topic and headers. One object at the 1 MiB maximum fits; a node whose pods
 * reference more than that in total gets no new bundle (the server logs it).
 */
export const MAX_CONFIG_MESSAGE_BYTES = 2 * 1024 * 1024 - 64 * 1024;
/** Kubernetes' limit for one ConfigMap or Secret: keys and values together. */
export const MAX_CONFIG_OBJECT_BYTES = 1024 * 1024;
export const MAX_CONFIG_OBJECTS = 512;
export const MAX_CONFIG_KEYS = 4096;
/** Kubernetes' ConfigMap/Secret key syntax. */
export const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;

export interface ConfigMessage {
  schema: number;
  cluster: string;
  node: string;
  revision: number;
  issuedAt: string;
  keyId: string;
  iv: Uint8Array;
  tag: Uint8Array;
  payload: Uint8Array;
}

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
  const plain = encodeMessage({ objects: bundle.objects.map((o) => ({ kind: o.kind, name: o.name, version: o.version, data: o.data })) });
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
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('message', 'expected a map');
  const o = raw as Record<string, unknown>;
  if (o.schema !== WIRE_SCHEMA) throw invalid('schema', `unsupported schema version (this build speaks ${WIRE_SCHEMA})`);
  if (!isValidName(o.cluster)) throw invalid('cluster', 'expected a cluster name');
  if (!isValidName(o.node)) throw invalid('node', 'expected a node name');
  if (typeof o.revision !== 'number' || !Number.isSafeInteger(o.revision) || o.revision < 1) throw invalid('revision', 'expected a positive integer');
  if (typeof o.issuedAt !== 'string' || o.issuedAt.length > 40 || Number.isNaN(Date.parse(o.issuedAt))) throw invalid('issuedAt', 'expected a timestamp');
  if (typeof o.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(o.keyId)) throw invalid('keyId', 'expected 16 hex digits');
  return {
    schema: o.schema,
    cluster: o.cluster,
    node: o.node,
    revision: o.revision,
    issuedAt: o.issuedAt,
    keyId: o.keyId,
    iv: bytes(o, 'iv', IV_BYTES),
    tag: bytes(o, 'tag', TAG_BYTES),
    payload: bytes(o, 'payload'),
  };
}

function configObject(v: unknown, p: string): ConfigObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(p, 'expected a map');
  const o = v as Record<string, unknown>;
  const kind = o.kind;
  if (kind !== 'ConfigMap' && kind !== 'Secret') throw invalid(`${p}.kind`, 'expected ConfigMap or Secret');
  if (!isValidName(o.name) && !(typeof o.name === 'string' && /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(o.name))) throw invalid(`${p}.name`, 'expected a resource name');
  if (typeof o.version !== 'string' || o.version.length === 0 || o.version.length > 64) throw invalid(`${p}.version`, 'expected a short string');
  const dataRaw = o.data;
  if (typeof dataRaw !== 'object' || dataRaw === null || Array.isArray(dataRaw)) throw invalid(`${p}.data`, 'expected a map of strings');
  const entries = Object.entries(dataRaw as Record<string, unknown>);
  if (entries.length > MAX_CONFIG_KEYS) throw invalid(`${p}.data`, `more than ${MAX_CONFIG_KEYS} keys`);
  const data: Record<string, string> = {};
  let size = 0;
  for (const [k, value] of entries) {
    // The key may be shown (it is a name); the value never is.
    if (!CONFIG_KEY_RE.test(k)) throw invalid(`${p}.data`, 'a key is not a valid ConfigMap/Secret key');
    if (typeof value !== 'string') throw invalid(`${p}.data.${k}`, 'expected a string');
    size += k.length + Buffer.byteLength(value, 'utf8');
    Object.defineProperty(data, k, { value, enumerable: true, writable: true, configurable: true });
  }
  if (size > MAX_CONFIG_OBJECT_BYTES) throw invalid(`${p}.data`, `larger than ${MAX_CONFIG_OBJECT_BYTES} bytes`);
  return { kind: kind as ConfigKind, name: o.name as string, version: o.version, data };
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
  const objects = (raw as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) throw invalid('objects', 'expected an array');
  if (objects.length > MAX_CONFIG_OBJECTS) throw invalid('objects', `more than ${MAX_CONFIG_OBJECTS} objects`);
  const out = objects.map((o, i) => configObject(o, `objects[${i}]`));
  const seen = new Set<string>();
  for (const o of out) {
    const k = `${o.kind}/${o.name}`;
    if (seen.has(k)) throw invalid('objects', `${k} appears twice`);
    seen.add(k);
  }
  return { cluster: message.cluster, node: message.node, revision: message.revision, issuedAt: message.issuedAt, objects: out };
}
