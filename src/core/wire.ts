/**
 * Decoders of the sync protocol messages (wire-types.ts, docs/protocol.md). Every payload off
 * the broker is untrusted: decoders check the size before parsing, then every field, and return
 * a fresh object holding only known fields so nothing a peer adds (or a newer peer sends) leaks
 * into the server's or agent's state.
 *
 * The schema-1 node target (Grove 0.1's) is checked by hand below, with the wire-*.ts field
 * decoders: frozen, kept only so an agent can read a 0.1 target (its store after an offline
 * upgrade, or a 0.1 server) and convert it to schema 2 (wire-target.ts targetFromSchema1).
 * `makeNodeTarget` builds one for the tests of that path; no server sends schema 1. Every other
 * message is checked by the generated validators of its schema, in modules split by receiver
 * so each process loads only what it decodes: wire-target.ts (the agent: schema-2 targets),
 * wire-from-agent.ts (the server: status, presence, rpc responses), wire-from-server.ts (the
 * agent: rpc requests), wire-config.ts (the agent: config bundles).
 */
import { isValidName } from './topics.js';
import { decodeProbes } from './wire-probes.js';
import { decodeUpdatePolicy } from './wire-update.js';
import { decodeDevices, decodeGroups, decodePrivileged } from './wire-access.js';
import { decodeEnvFrom, decodeEnvVarSource, decodeVolumeMounts, decodeVolumes } from './wire-volumes.js';
import { decodeStartOrder } from './wire-init.js';
import { decodeCronSpec, decodeJobSpec } from './wire-jobs.js';
import { decodePorts } from './wire-ports.js';
import { decodeSeccompProfile } from './seccomp-ref.js';
import type { EnvVar, ContainerResources } from './resolved-pod.js';
import { WIRE_SCHEMA } from './wire-types.js';
import type { ContainerTarget, NodeTarget, PodTarget } from './wire-types.js';
import { quoteValue } from './quote.js';
import { MAX_PRESENCE_BYTES, MAX_RPC_BYTES, MAX_STATUS_BYTES, MAX_TARGET_BYTES, WIRE_LIMITS } from './wire-limits.js';
import { createWireDecoder, createWireEncoder, encodeCanonical, encodeMessage, podsChecksum } from './wire-codec.js';
import { checkTargetEnvelope, decodeWith, FieldError, isPlainObject, type Obj } from './wire-check.js';
import { describeValue } from './objects/explain.js';

export { MAX_PRESENCE_BYTES, MAX_RPC_BYTES, MAX_STATUS_BYTES, MAX_TARGET_BYTES, WIRE_LIMITS };
export { createWireDecoder, createWireEncoder, encodeCanonical, encodeMessage, podsChecksum };

export interface NodeTargetInput {
  cluster: string;
  node: string;
  revision: number;
  pods: PodTarget[];
  issuedAt: string;
}

export function makeNodeTarget({ cluster, node, revision, pods, issuedAt }: NodeTargetInput): NodeTarget {
  checkTargetEnvelope(cluster, node, revision);
  return { schema: WIRE_SCHEMA, cluster, node, revision, checksum: podsChecksum(pods), pods, issuedAt };
}

/* ---------------------------------------------------------------- validation */

/** The codec's failure for validators kept in other files (wire-probes.ts, wire-update.ts, wire-jobs.ts). */
const fieldFail = (path: string, reason: string): never => {
  throw new FieldError(path, reason);
};

const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** The value of required field `key` and its path. */
function need(o: Obj, key: string, path: string): [unknown, string] {
  const p = at(path, key);
  if (o[key] === undefined) throw new FieldError(p, 'required');
  return [o[key], p];
}

/** A required nested map. */
const child = (o: Obj, key: string, path: string): Obj => obj(...need(o, key, path));

function obj(v: unknown, path: string): Obj {
  if (!isPlainObject(v)) throw new FieldError(path || '(root)', `expected a map, got ${describeValue(v)}`);
  return v;
}

function str(o: Obj, key: string, path: string, max: number, min = 1): string {
  const [v, p] = need(o, key, path);
  if (typeof v !== 'string') throw new FieldError(p, `expected a string, got ${describeValue(v)}`);
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
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(p, `expected a number, got ${describeValue(v)}`);
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
  if (typeof v !== 'boolean') throw new FieldError(p, `expected a boolean, got ${describeValue(v)}`);
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
  if (!Array.isArray(v)) throw new FieldError(p, `expected an array, got ${describeValue(v)}`);
  if (v.length > max) throw new FieldError(p, `more than ${max} items`);
  if (v.length < min) throw new FieldError(p, `at least ${min} item${min === 1 ? '' : 's'} required`);
  return v.map((x, i) => item(x, `${p}[${i}]`));
}

function stringItem(max: number) {
  return (v: unknown, p: string): string => {
    if (typeof v !== 'string') throw new FieldError(p, `expected a string, got ${describeValue(v)}`);
    if (v.length > max) throw new FieldError(p, `longer than ${max} characters`);
    return v;
  };
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
  // 0.1's bounds (its API had the same): an hour-long stop is already extreme on a node.
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

/* ------------------------------------------------------------------ decoders */

export function decodeNodeTarget(buf: Uint8Array): NodeTarget {
  return decodeWith(buf, {
    max: MAX_TARGET_BYTES,
    what: 'node target',
    schema: WIRE_SCHEMA,
    label: (o) => (isValidName(o.node) ? `node target for ${o.node}` : 'node target'),
    read: (o) => {
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
    },
  });
}
