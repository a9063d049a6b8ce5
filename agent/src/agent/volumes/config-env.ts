/**
 * env[].valueFrom and envFrom resolved at container start from the node's ConfigMaps and
 * Secrets (ConfigSource) and the downward API (fieldRef, resourceFieldRef: downward.ts), and `$(VAR)` in env values expanded (var-expansion.ts). Order is
 * Kubernetes': envFrom first (in list order), then env, later entries winning. A missing object
 * or key fails the start (CreateError in the pod's status) naming the object and key, unless the
 * reference is optional. Values never appear in errors.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { EnvFromSource, EnvVar } from '../../../../src/core/resolved-pod.js';
import { DEFAULT_NAMESPACE } from '../../../../src/core/keys.js';
import type { ConfigKind, ConfigObject, ConfigSource } from '../config-source.js';
import { expandVars, type EnvValue } from '../var-expansion.js';
import { fieldValue, resourceValue, type DownwardContext } from './downward.js';

export type { EnvValue };

/** A container's variables, resolved and expanded. */
export interface ResolvedEnv {
  /** KEY=VALUE of the variables with nothing from a Secret in them. */
  plain: string[];
  /** KEY=VALUE of those read from (or expanded with) a Secret: the runtime keeps them off flash. */
  secret: string[];
  /** Every variable, in order: what command and args expand against. */
  vars: ReadonlyMap<string, EnvValue>;
}

/** Kubernetes' rule for envFrom keys: what is not a C identifier is skipped, not an error. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** `ConfigMap "x"`, naming the namespace outside the default one. */
function objectName(kind: ConfigKind, name: string, namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? `${kind} "${name}"` : `${kind} "${name}" of namespace "${namespace}"`;
}

export function missingConfig(kind: ConfigKind, name: string, key?: string, namespace: string = DEFAULT_NAMESPACE): GroveError {
  const obj = objectName(kind, name, namespace);
  const what = key === undefined ? `${obj} not found on this node` : `key "${key}" not found in ${obj}`;
  return new GroveError(ErrorCode.NotFound, what, { details: { kind, name, namespace, ...(key !== undefined ? { key } : {}) } });
}

function lookup(config: ConfigSource | undefined, kind: ConfigKind, name: string, namespace: string, optional: boolean | undefined): ConfigObject | undefined {
  const found = config?.get(kind, name, namespace);
  if (!found && !optional) throw missingConfig(kind, name, undefined, namespace);
  return found;
}

/** KEY=VALUE entries in order, literal ones included. */
export function resolveEnv(env: readonly EnvVar[], envFrom: readonly EnvFromSource[] | undefined, config: ConfigSource | undefined, namespace?: string): string[] {
  const { plain, secret } = resolveEnvBySource(env, envFrom, config, namespace);
  return [...plain, ...secret];
}

/**
 * The same variables split by where their value came from: `secret` holds those read from a
 * Secret, which the runtime keeps off flash (ContainerManager's secretEnv), `plain` the rest.
 * `namespace` is the pod's: its references name objects of that namespace only.
 */
export function resolveEnvBySource(
  env: readonly EnvVar[],
  envFrom: readonly EnvFromSource[] | undefined,
  config: ConfigSource | undefined,
  namespace: string = DEFAULT_NAMESPACE,
  /** The pod's fields for fieldRef and resourceFieldRef, and the name of the container whose env this is. */
  downward?: { context: DownwardContext; container: string },
): ResolvedEnv {
  const vars = new Map<string, EnvValue>();
  const set = (name: string, value: string, secret: boolean): void => void vars.set(name, { value, secret });
  for (const source of envFrom ?? []) {
    const [kind, ref] = 'configMapRef' in source ? (['ConfigMap', source.configMapRef] as const) : (['Secret', source.secretRef] as const);
    const obj = lookup(config, kind, ref.name, namespace, ref.optional);
    if (!obj) continue;
    for (const [key, value] of Object.entries(obj.data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (ENV_NAME.test(name)) set(name, value, kind === 'Secret');
    }
  }
  for (const e of env) {
    if (!e.valueFrom) {
      // The kubelet expands a literal against the variables defined so far (envFrom's and earlier entries).
      const r = expandVars(e.value, vars);
      set(e.name, r.value, r.secret);
      continue;
    }
    if ('fieldRef' in e.valueFrom || 'resourceFieldRef' in e.valueFrom) {
      if (!downward) throw new GroveError(ErrorCode.InvalidArgument, `env ${e.name}: the downward API is not available here`);
      const value = 'fieldRef' in e.valueFrom ? fieldValue(downward.context, e.valueFrom.fieldRef.fieldPath) : resourceValue(downward.context, e.valueFrom.resourceFieldRef, downward.container);
      set(e.name, value, false);
      continue;
    }
    const [kind, ref] = 'configMapKeyRef' in e.valueFrom ? (['ConfigMap', e.valueFrom.configMapKeyRef] as const) : (['Secret', e.valueFrom.secretKeyRef] as const);
    const obj = lookup(config, kind, ref.name, namespace, ref.optional);
    const value = obj?.data[ref.key];
    if (value === undefined) {
      if (obj && !ref.optional) throw missingConfig(kind, ref.name, ref.key, namespace);
      continue;
    }
    set(e.name, value, kind === 'Secret');
  }
  const entries = [...vars];
  return {
    plain: entries.filter(([, v]) => !v.secret).map(([k, v]) => `${k}=${v.value}`),
    secret: entries.filter(([, v]) => v.secret).map(([k, v]) => `${k}=${v.value}`),
    vars,
  };
}
