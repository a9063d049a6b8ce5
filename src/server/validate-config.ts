/**
 * API validation of ConfigMap and Secret resources beyond their data map: Kubernetes' 1 MiB size
 * limit per object, the accepted Secret types and the keys each type requires, immutable.
 * Messages name keys, never values: a Secret value must not end up in an error or a log.
 */
import { SECRET_TYPES, type ConfigMap, type Secret, type SecretType } from '../core/model.js';
import { ErrorCode, GroveError } from '../core/errors.js';
import { bool, invalid, type Obj } from './validate-primitives.js';

/** Keys and values together, as Kubernetes counts them. */
export const MAX_CONFIG_OBJECT_BYTES = 1024 * 1024;

const REQUIRED_KEYS: Readonly<Record<SecretType, readonly (readonly string[])[]>> = {
  Opaque: [],
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
  // At least one of username and password.
  'kubernetes.io/basic-auth': [['username', 'password']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
};

export function configObjectBytes(data: Record<string, string>): number {
  let size = 0;
  for (const [k, v] of Object.entries(data)) size += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
  return size;
}

/** Adds type/immutable from the request to a validated ConfigMap or Secret and checks it as a whole. */
export function configFields(out: ConfigMap | Secret, o: Obj, path: string): void {
  const size = configObjectBytes(out.data);
  if (size > MAX_CONFIG_OBJECT_BYTES) throw invalid(`${path}.data`, `${size} bytes of keys and values: a ${out.kind} may hold at most ${MAX_CONFIG_OBJECT_BYTES} bytes (1 MiB)`);
  if (bool(o.immutable, `${path}.immutable`, false)) out.immutable = true;
  if (out.kind === 'ConfigMap') {
    if (o.type !== undefined) throw invalid(`${path}.type`, 'only a Secret has a type');
    return;
  }
  if (o.type === undefined || o.type === 'Opaque') return;
  if (typeof o.type !== 'string' || !(SECRET_TYPES as readonly string[]).includes(o.type)) {
    throw invalid(`${path}.type`, `expected one of ${SECRET_TYPES.join(', ')}`);
  }
  const type = o.type as SecretType;
  for (const anyOf of REQUIRED_KEYS[type]) {
    if (!anyOf.some((k) => k in out.data)) throw invalid(`${path}.data`, `a ${type} Secret needs the key ${anyOf.join(' or ')}`);
  }
  if (type === 'kubernetes.io/dockerconfigjson') {
    try {
      JSON.parse(out.data['.dockerconfigjson']!);
    } catch {
      throw invalid(`${path}.data[.dockerconfigjson]`, 'is not JSON');
    }
  }
  out.type = type;
}

/** An immutable object may be re-applied unchanged, never changed: Kubernetes' rule. */
export function checkImmutable(existing: ConfigMap | Secret, incoming: ConfigMap | Secret, changed: boolean): void {
  if (existing.immutable && changed) {
    throw new GroveError(ErrorCode.Conflict, `${existing.kind} "${existing.meta.name}" is immutable: delete it and create it again to change it`, {
      details: { kind: existing.kind, name: incoming.meta.name },
    });
  }
}
