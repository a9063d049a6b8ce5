/**
 * CBOR encoding and hand-written validation of the sync protocol messages (wire-types.ts,
 * docs/protocol.md). Every payload off the broker is untrusted: decoders check the size before
 * parsing, then every field, and return a fresh object holding only known fields so nothing a
 * peer adds (or a newer peer sends) leaks into the server's or agent's state.
 */
import { createHash } from 'node:crypto';
import { Decoder, Encoder, type Options } from 'cbor-x';
import { ErrorCode, GroveError } from './errors.js';
import { isValidName, validateName } from './topics.js';
import { decodeProbes } from './wire-probes.js';
import { decodeDeferred, decodeUpdatePolicy } from './wire-update.js';
import { decodeDevices, decodeGroups, decodePrivileged } from './wire-access.js';
import { decodeEnvFrom, decodeEnvVarSource, decodeVolumeMounts, decodeVolumes } from './wire-volumes.js';
import { decodeNodeVolumes, decodeVolumesRpcRequest } from './wire-rpc-volumes.js';
import { decodeInitList, decodeStartOrder } from './wire-init.js';
import { decodeCronSpec, decodeJobSpec, decodeJobStatus } from './wire-jobs.js';
import { decodePorts } from './wire-ports.js';
import { decodeSeccompProfile } from './seccomp-ref.js';
import type { EnvVar, ContainerResources } from './model.js';
import { WIRE_SCHEMA } from './wire-types.js';
import type { ContainerStatus, ContainerTarget, NodeFacts, NodeStatus, NodeTarget } from './wire-types.js';
import type { LogsRpcRequest, PodStatus, PodTarget, Presence, RpcRequest, RpcResponse } from './wire-types.js';
import { quoteValue } from './quote.js';

export const MAX_TARGET_BYTES = 1024 * 1024;
export const MAX_STATUS_BYTES = 256 * 1024;
export const MAX_PRESENCE_BYTES = 1024;
export const MAX_RPC_BYTES = 256 * 1024;

/** Per-field limits; exported so senders can truncate (e.g. container messages) before sending. */
export const WIRE_LIMITS = Object.freeze({
  // array lengths
  pods: 1000, containersPerPod: 32, env: 1000, argv: 1000, labels: 1000, rpcLines: 10_000,
  // string lengths (UTF-16 code units)
  name: 253, shortString: 256, image: 1024, labelKey: 317, labelValue: 1024, envName: 1024,
  longString: 64 * 1024, message: 4096, timestamp: 64, rpcId: 128, runId: 64,
  // seconds
  graceSeconds: 3600,
});

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

/* ------------------------------------------------------------------ checksum */

/**
 * Objects become Maps with sorted keys because a JS object always puts integer-like keys
 * first ({"10":…,"9":…}), so sorting its keys would not fix the encoded order. Undefined
 * entries are dropped so `{command: undefined}` and `{}` hash alike.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
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

export interface NodeTargetInput {
  cluster: string;
  node: string;
  revision: number;
  pods: PodTarget[];
  issuedAt: string;
}

export function makeNodeTarget({ cluster, node, revision, pods, issuedAt }: NodeTargetInput): NodeTarget {
  validateName(cluster, 'cluster');
  validateName(node, 'node');
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid target revision ${revision}`);
  }
  return { schema: WIRE_SCHEMA, cluster, node, revision, checksum: podsChecksum(pods), pods, issuedAt };
}

/* ---------------------------------------------------------------- validation */

/** Thrown inside a decoder; converted to a GroveError that names the message and sender. */
class FieldError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
  }
}

/** The codec's failure for validators kept in other files (wire-probes.ts, wire-update.ts, wire-jobs.ts). */
const fieldFail = (path: string, reason: string): never => {
  throw new FieldError(path, reason);
};

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** The value of required field `key` and its path. */
function need(o: Obj, key: string, path: string): [unknown, string] {
  const p = at(path, key);
  if (o[key] === undefined) throw new FieldError(p, 'required');
  return [o[key], p];
}

/** A required nested map. */
const child = (o: Obj, key: string, path: string): Obj => obj(...need(o, key, path));

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return isPlainObject(v) ? 'map' : (v.constructor?.name ?? 'object');
  return typeof v;
}

function obj(v: unknown, path: string): Obj {
  if (!isPlainObject(v)) throw new FieldError(path || '(root)', `expected a map, got ${describe(v)}`);
  return v;
}

function str(o: Obj, key: string, path: string, max: number, min = 1): string {
  const [v, p] = need(o, key, path);
  if (typeof v !== 'string') throw new FieldError(p, `expected a string, got ${describe(v)}`);
  if (v.length < min) throw new FieldError(p, 'must not be empty');
  if (v.length > max) throw new FieldError(p, `longer than ${max} characters`);
  return v;
}

/** Null counts as absent so peers that encode "no value" as nil are accepted. */
const absent = (o: Obj, key: string): boolean => o[key] === undefined || o[key] === null;

function name(o: Obj, key: string, path: string): string {
  const v = str(o, key, path, 63);
  if (!isValidName(v)) throw new FieldError(at(path, key), `invalid name ${quoteValue(v)}`);
  return v;
}

function timestamp(o: Obj, key: string, path: string): string {
  const v = str(o, key, path, WIRE_LIMITS.timestamp);
  if (Number.isNaN(Date.parse(v))) throw new FieldError(at(path, key), 'expected an ISO 8601 timestamp');
  return v;
}

function num(o: Obj, key: string, path: string, min: number, integer: boolean): number {
  const [v, p] = need(o, key, path);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(p, `expected a number, got ${describe(v)}`);
  if (integer && !Number.isSafeInteger(v)) throw new FieldError(p, `expected an integer, got ${v}`);
  if (v < min) throw new FieldError(p, `must be ≥ ${min}, got ${v}`);
  return v;
}

const int = (o: Obj, key: string, path: string, min = 0): number => num(o, key, path, min, true);

function intUpTo(o: Obj, key: string, path: string, min: number, max: number): number {
  const v = int(o, key, path, min);
  if (v > max) throw new FieldError(at(path, key), `must be ≤ ${max}, got ${v}`);
  return v;
}

function bool(o: Obj, key: string, path: string): boolean {
  const [v, p] = need(o, key, path);
  if (typeof v !== 'boolean') throw new FieldError(p, `expected a boolean, got ${describe(v)}`);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new FieldError(at(path, key), `expected one of ${values.join(', ')}`);
  }
  return v as T;
}

function arr<T>(o: Obj, key: string, path: string, max: number, item: (v: unknown, p: string) => T, min = 0): T[] {
  const [v, p] = need(o, key, path);
  if (!Array.isArray(v)) throw new FieldError(p, `expected an array, got ${describe(v)}`);
  if (v.length > max) throw new FieldError(p, `more than ${max} items`);
  if (v.length < min) throw new FieldError(p, `at least ${min} item${min === 1 ? '' : 's'} required`);
  return v.map((x, i) => item(x, `${p}[${i}]`));
}

function stringItem(max: number) {
  return (v: unknown, p: string): string => {
    if (typeof v !== 'string') throw new FieldError(p, `expected a string, got ${describe(v)}`);
    if (v.length > max) throw new FieldError(p, `longer than ${max} characters`);
    return v;
  };
}

function stringMap(o: Obj, key: string, path: string): Record<string, string> {
  const p = at(path, key);
  const m = child(o, key, path);
  const entries = Object.entries(m);
  if (entries.length > WIRE_LIMITS.labels) throw new FieldError(p, `more than ${WIRE_LIMITS.labels} entries`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > WIRE_LIMITS.labelKey) throw new FieldError(p, `invalid key ${quoteValue(k)}`);
    if (typeof v !== 'string') throw new FieldError(`${p}.${k}`, `expected a string, got ${describe(v)}`);
    if (v.length > WIRE_LIMITS.labelValue) throw new FieldError(`${p}.${k}`, `longer than ${WIRE_LIMITS.labelValue} characters`);
    // defineProperty semantics: a "__proto__" label stays an ordinary key.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Copies optional field `key` through `read` only when present, so absent stays absent. */
function opt<T>(out: Obj, o: Obj, key: string, read: () => T): void {
  if (!absent(o, key)) out[key] = read();
}

/* --------------------------------------------------------------- node target */

function envVar(v: unknown, p: string): EnvVar {
  const o = obj(v, p);
  const out: EnvVar = { name: str(o, 'name', p, WIRE_LIMITS.envName), value: str(o, 'value', p, WIRE_LIMITS.longString, 0) };
  if (!absent(o, 'valueFrom')) out.valueFrom = decodeEnvVarSource(o.valueFrom, at(p, 'valueFrom'), fieldFail);
  return out;
}

function resources(o: Obj, p: string): ContainerResources {
  const out: Obj = {};
  opt(out, o, 'memoryBytes', () => int(o, 'memoryBytes', p));
  opt(out, o, 'cpus', () => num(o, 'cpus', p, 0, false));
  opt(out, o, 'pidsLimit', () => int(o, 'pidsLimit', p, -1));
  opt(out, o, 'requestMemoryBytes', () => int(o, 'requestMemoryBytes', p));
  return out as ContainerResources;
}

function containerTarget(v: unknown, p: string): ContainerTarget {
  const o = obj(v, p);
  const out: Obj = { name: str(o, 'name', p, WIRE_LIMITS.name), image: str(o, 'image', p, WIRE_LIMITS.image) };
  opt(out, o, 'command', () => arr(o, 'command', p, WIRE_LIMITS.argv, stringItem(WIRE_LIMITS.longString)));
  opt(out, o, 'args', () => arr(o, 'args', p, WIRE_LIMITS.argv, stringItem(WIRE_LIMITS.longString)));
  out.env = arr(o, 'env', p, WIRE_LIMITS.env, envVar);
  opt(out, o, 'workingDir', () => str(o, 'workingDir', p, WIRE_LIMITS.longString));
  out.resources = resources(child(o, 'resources', p), at(p, 'resources'));
  opt(out, o, 'imagePullPolicy', () => oneOf(o, 'imagePullPolicy', p, ['Always', 'IfNotPresent', 'Never'] as const));
  opt(out, o, 'probes', () => decodeProbes(o.probes, at(p, 'probes'), fieldFail));
  opt(out, o, 'privileged', () => decodePrivileged(o.privileged, at(p, 'privileged'), fieldFail));
  const seccomp = absent(o, 'seccompProfile') ? undefined : decodeSeccompProfile(o.seccompProfile, at(p, 'seccompProfile'), fieldFail);
  if (seccomp) out.seccompProfile = seccomp;
  opt(out, o, 'volumeMounts', () => decodeVolumeMounts(o.volumeMounts, at(p, 'volumeMounts'), fieldFail));
  opt(out, o, 'envFrom', () => decodeEnvFrom(o.envFrom, at(p, 'envFrom'), fieldFail));
  opt(out, o, 'ports', () => decodePorts(o.ports, at(p, 'ports'), fieldFail));
  return out as unknown as ContainerTarget;
}

function podTarget(v: unknown, p: string): PodTarget {
  const o = obj(v, p);
  const out: Obj = {
    name: str(o, 'name', p, WIRE_LIMITS.name),
    app: str(o, 'app', p, WIRE_LIMITS.name),
    templateHash: str(o, 'templateHash', p, WIRE_LIMITS.shortString),
    restartPolicy: oneOf(o, 'restartPolicy', p, ['Always', 'OnFailure', 'Never'] as const),
    hostNetwork: bool(o, 'hostNetwork', p),
  };
  // Same bounds as the manifest (src/server/validate.ts): an hour-long stop is already extreme on a node.
  opt(out, o, 'terminationGracePeriodSeconds', () => intUpTo(o, 'terminationGracePeriodSeconds', p, 0, WIRE_LIMITS.graceSeconds));
  opt(out, o, 'update', () => decodeUpdatePolicy(o.update, at(p, 'update'), fieldFail));
  out.containers = arr(o, 'containers', p, WIRE_LIMITS.containersPerPod, containerTarget, 1);
  opt(out, o, 'job', () => decodeJobSpec(o.job, at(p, 'job'), fieldFail));
  opt(out, o, 'cron', () => decodeCronSpec(o.cron, at(p, 'cron'), fieldFail));
  opt(out, o, 'devices', () => decodeDevices(o.devices, at(p, 'devices'), fieldFail));
  opt(out, o, 'supplementalGroups', () => decodeGroups(o.supplementalGroups, at(p, 'supplementalGroups'), fieldFail));
  opt(out, o, 'volumes', () => decodeVolumes(o.volumes, at(p, 'volumes'), fieldFail));
  Object.assign(out, decodeStartOrder(o, out.containers as ContainerTarget[], p, fieldFail, containerTarget));
  return out as unknown as PodTarget;
}

/* --------------------------------------------------------------- node status */

function facts(o: Obj, p: string): NodeFacts {
  const s = (k: string): string => str(o, k, p, WIRE_LIMITS.shortString, 0);
  return {
    arch: s('arch'),
    os: s('os'),
    cpus: int(o, 'cpus', p),
    memoryBytes: int(o, 'memoryBytes', p),
    memoryAvailableBytes: int(o, 'memoryAvailableBytes', p),
    diskFreeBytes: int(o, 'diskFreeBytes', p),
    kernel: s('kernel'),
    ociRuntime: s('ociRuntime'),
    cgroupVersion: int(o, 'cgroupVersion', p),
    agentVersion: s('agentVersion'),
    labels: stringMap(o, 'labels', p),
  };
}

function containerStatus(v: unknown, p: string): ContainerStatus {
  const o = obj(v, p);
  const out: Obj = {
    name: str(o, 'name', p, WIRE_LIMITS.name),
    state: oneOf(o, 'state', p, ['waiting', 'running', 'exited'] as const),
  };
  opt(out, o, 'reason', () => str(o, 'reason', p, WIRE_LIMITS.shortString));
  opt(out, o, 'message', () => str(o, 'message', p, WIRE_LIMITS.message, 0));
  opt(out, o, 'exitCode', () => int(o, 'exitCode', p, -(2 ** 31)));
  out.oomKilled = bool(o, 'oomKilled', p);
  out.restarts = int(o, 'restarts', p);
  opt(out, o, 'ready', () => bool(o, 'ready', p));
  opt(out, o, 'startedAt', () => timestamp(o, 'startedAt', p));
  opt(out, o, 'finishedAt', () => timestamp(o, 'finishedAt', p));
  opt(out, o, 'imageDigest', () => str(o, 'imageDigest', p, WIRE_LIMITS.shortString));
  return out as unknown as ContainerStatus;
}

function podStatus(v: unknown, p: string): PodStatus {
  const o = obj(v, p);
  const out: PodStatus = {
    name: str(o, 'name', p, WIRE_LIMITS.name),
    app: str(o, 'app', p, WIRE_LIMITS.name),
    templateHash: str(o, 'templateHash', p, WIRE_LIMITS.shortString),
    phase: oneOf(o, 'phase', p, ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const),
    ready: bool(o, 'ready', p),
    restarts: int(o, 'restarts', p),
    containers: arr(o, 'containers', p, WIRE_LIMITS.containersPerPod, containerStatus),
  };
  if (!absent(o, 'job')) out.job = decodeJobStatus(o.job, at(p, 'job'), fieldFail);
  if (!absent(o, 'initContainers')) out.initContainers = decodeInitList(o.initContainers, at(p, 'initContainers'), fieldFail, containerStatus);
  if (!absent(o, 'podIP')) out.podIP = ipv4(o, 'podIP', p);
  return out;
}

const RUN_ID = /^[A-Za-z0-9-]+$/;

/** An agent's run id: a UUID from current agents; any short token of letters, digits and '-'. */
function runId(o: Obj, key: string, p: string): string {
  const v = str(o, key, p, WIRE_LIMITS.runId);
  if (!RUN_ID.test(v)) throw new FieldError(at(p, key), 'expected letters, digits and "-"');
  return v;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function ipv4(o: Obj, key: string, p: string): string {
  const v = str(o, key, p, 15);
  if (!IPV4.test(v)) throw new FieldError(at(p, key), 'expected an IPv4 address');
  return v;
}

/* ------------------------------------------------------------------ decoders */

/**
 * Size check, CBOR parse, schema check, then `read`; any failure becomes WireInvalid with a
 * message like "node status from pi-1: pods[2].containers[0].state: expected one of …".
 */
function decodeWith<T>(buf: Uint8Array, max: number, what: string, label: (o: Obj) => string, read: (o: Obj) => T): T {
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
    const o = obj(raw, '');
    prefix = label(o);
    if (o.schema !== WIRE_SCHEMA) {
      const shown = typeof o.schema === 'number' ? String(o.schema) : describe(o.schema);
      throw invalid(`${prefix}: unsupported schema version ${shown} (this build speaks ${WIRE_SCHEMA})`, { schema: o.schema });
    }
    return read(o);
  } catch (err) {
    if (err instanceof FieldError) {
      throw invalid(`${prefix}: ${err.path}: ${err.reason}`, { path: err.path, reason: err.reason }, err);
    }
    if (err instanceof GroveError) throw err;
    // E.g. a stack overflow hashing absurdly nested unknown fields: still just a bad message.
    throw invalid(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, {}, err);
  }
}

const fromNode = (what: string, word: string) => (o: Obj) =>
  isValidName(o.node) ? `${what} ${word} ${o.node}` : what;

export function decodeNodeTarget(buf: Uint8Array): NodeTarget {
  return decodeWith(buf, MAX_TARGET_BYTES, 'node target', fromNode('node target', 'for'), (o) => {
    const checksum = str(o, 'checksum', '', 64);
    if (!/^[0-9a-f]{64}$/.test(checksum)) throw new FieldError('checksum', 'expected 64 lowercase hex digits');
    const target: NodeTarget = {
      schema: WIRE_SCHEMA,
      cluster: name(o, 'cluster', ''),
      node: name(o, 'node', ''),
      revision: int(o, 'revision', ''),
      checksum,
      pods: arr(o, 'pods', '', WIRE_LIMITS.pods, podTarget),
      issuedAt: timestamp(o, 'issuedAt', ''),
    };
    // Over the pods as sent: fields this build strips still belong to what the server signed off.
    const actual = podsChecksum(o.pods as unknown[]);
    if (actual !== checksum) throw new FieldError('checksum', `mismatch: payload hashes to ${actual}`);
    return target;
  });
}

export function decodeNodeStatus(buf: Uint8Array): NodeStatus {
  return decodeWith(buf, MAX_STATUS_BYTES, 'node status', fromNode('node status', 'from'), (o) => ({
    schema: WIRE_SCHEMA,
    node: name(o, 'node', ''),
    ...(absent(o, 'runId') ? {} : { runId: runId(o, 'runId', '') }),
    seq: int(o, 'seq', ''),
    observedRevision: int(o, 'observedRevision', ''),
    heartbeat: bool(o, 'heartbeat', ''),
    facts: facts(child(o, 'facts', ''), 'facts'),
    pods: arr(o, 'pods', '', WIRE_LIMITS.pods, podStatus),
    ...(absent(o, 'deferred') ? {} : { deferred: decodeDeferred(o.deferred, 'deferred', fieldFail) }),
    sentAt: timestamp(o, 'sentAt', ''),
  }));
}

export function decodePresence(buf: Uint8Array): Presence {
  return decodeWith(buf, MAX_PRESENCE_BYTES, 'presence', fromNode('presence', 'of'), (o) => ({
    schema: WIRE_SCHEMA,
    node: name(o, 'node', ''),
    online: bool(o, 'online', ''),
    at: timestamp(o, 'at', ''),
  }));
}

const rpcLabel = (what: string) => (o: Obj) =>
  typeof o.id === 'string' && o.id.length <= WIRE_LIMITS.rpcId ? `${what} ${quoteValue(o.id)}` : what;

export function decodeRpcRequest(buf: Uint8Array): RpcRequest {
  return decodeWith(buf, MAX_RPC_BYTES, 'rpc request', rpcLabel('rpc request'), (o): RpcRequest => {
    if (o.method === 'volumes') return decodeVolumesRpcRequest(o, str(o, 'id', '', WIRE_LIMITS.rpcId), fieldFail);
    const p = child(o, 'params', '');
    const params: Obj = { pod: str(p, 'pod', 'params', WIRE_LIMITS.name) };
    opt(params, p, 'container', () => str(p, 'container', 'params', WIRE_LIMITS.name));
    opt(params, p, 'tail', () => int(p, 'tail', 'params'));
    opt(params, p, 'follow', () => bool(p, 'follow', 'params'));
    return {
      schema: WIRE_SCHEMA,
      id: str(o, 'id', '', WIRE_LIMITS.rpcId),
      method: oneOf(o, 'method', '', ['logs'] as const),
      params: params as LogsRpcRequest['params'],
    };
  });
}

type LogLine = NonNullable<RpcResponse['lines']>[number];

function logLine(v: unknown, p: string): LogLine {
  const o = obj(v, p);
  return {
    time: timestamp(o, 'time', p),
    stream: oneOf(o, 'stream', p, ['stdout', 'stderr'] as const),
    text: str(o, 'text', p, WIRE_LIMITS.longString, 0),
    container: str(o, 'container', p, WIRE_LIMITS.name),
  };
}

export function decodeRpcResponse(buf: Uint8Array): RpcResponse {
  return decodeWith(buf, MAX_RPC_BYTES, 'rpc response', rpcLabel('rpc response'), (o) => {
    const out: Obj = {
      schema: WIRE_SCHEMA,
      id: str(o, 'id', '', WIRE_LIMITS.rpcId),
      seq: int(o, 'seq', ''),
      done: bool(o, 'done', ''),
    };
    opt(out, o, 'error', () => {
      const e = child(o, 'error', '');
      return { code: str(e, 'code', 'error', WIRE_LIMITS.rpcId), message: str(e, 'message', 'error', WIRE_LIMITS.message, 0) };
    });
    opt(out, o, 'lines', () => arr(o, 'lines', '', WIRE_LIMITS.rpcLines, logLine));
    opt(out, o, 'volumes', () => decodeNodeVolumes(o.volumes, 'volumes', fieldFail));
    return out as unknown as RpcResponse;
  });
}
