/**
 * env[].valueFrom and envFrom resolved at container start from the node's ConfigMaps and
 * Secrets (ConfigSource). Order is Kubernetes': envFrom first (in list order), then env, later
 * entries winning. A missing object or key fails the start (CreateError in the pod's status)
 * naming the object and key, unless the reference is optional. Values never appear in errors.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { EnvFromSource, EnvVar } from '../../../../src/core/resolved-pod.js';
import type { ConfigKind, ConfigObject, ConfigSource } from '../config-source.js';

/** Kubernetes' rule for envFrom keys: what is not a C identifier is skipped, not an error. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function missingConfig(kind: ConfigKind, name: string, key?: string): GroveError {
  const what = key === undefined ? `${kind} "${name}" not found on this node` : `key "${key}" not found in ${kind} "${name}"`;
  return new GroveError(ErrorCode.NotFound, what, { details: { kind, name, ...(key !== undefined ? { key } : {}) } });
}

function lookup(config: ConfigSource | undefined, kind: ConfigKind, name: string, optional: boolean | undefined): ConfigObject | undefined {
  const found = config?.get(kind, name);
  if (!found && !optional) throw missingConfig(kind, name);
  return found;
}

/** KEY=VALUE entries in order, literal ones included. */
export function resolveEnv(env: readonly EnvVar[], envFrom: readonly EnvFromSource[] | undefined, config: ConfigSource | undefined): string[] {
  const { plain, secret } = resolveEnvBySource(env, envFrom, config);
  return [...plain, ...secret];
}

/**
 * The same variables split by where their value came from: `secret` holds those read from a
 * Secret, which the runtime keeps off flash (ContainerManager's secretEnv), `plain` the rest.
 */
export function resolveEnvBySource(
  env: readonly EnvVar[],
  envFrom: readonly EnvFromSource[] | undefined,
  config: ConfigSource | undefined,
): { plain: string[]; secret: string[] } {
  const vars = new Map<string, string>();
  const fromSecret = new Set<string>();
  const set = (name: string, value: string, secret: boolean): void => {
    vars.set(name, value);
    if (secret) fromSecret.add(name);
    else fromSecret.delete(name);
  };
  for (const source of envFrom ?? []) {
    const [kind, ref] = 'configMapRef' in source ? (['ConfigMap', source.configMapRef] as const) : (['Secret', source.secretRef] as const);
    const obj = lookup(config, kind, ref.name, ref.optional);
    if (!obj) continue;
    for (const [key, value] of Object.entries(obj.data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (ENV_NAME.test(name)) set(name, value, kind === 'Secret');
    }
  }
  for (const e of env) {
    if (!e.valueFrom) {
      set(e.name, e.value, false);
      continue;
    }
    const [kind, ref] = 'configMapKeyRef' in e.valueFrom ? (['ConfigMap', e.valueFrom.configMapKeyRef] as const) : (['Secret', e.valueFrom.secretKeyRef] as const);
    const obj = lookup(config, kind, ref.name, ref.optional);
    const value = obj?.data[ref.key];
    if (value === undefined) {
      if (obj && !ref.optional) throw missingConfig(kind, ref.name, ref.key);
      continue;
    }
    set(e.name, value, kind === 'Secret');
  }
  const entries = [...vars];
  return {
    plain: entries.filter(([k]) => !fromSecret.has(k)).map(([k, v]) => `${k}=${v}`),
    secret: entries.filter(([k]) => fromSecret.has(k)).map(([k, v]) => `${k}=${v}`),
  };
}
