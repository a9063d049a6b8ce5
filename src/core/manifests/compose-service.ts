/**
 * What both compose translators (compose.ts → the 0.1 App, compose-objects.ts → Kubernetes
 * objects) read from a service the same way: the service's shape after the schema, `$`
 * interpolation, service names, command words, environment and labels, resources in numbers
 * (compose units: "32m" is 32 MiB), placement constraints and update_config. Each throws a
 * located ManifestInvalid at the first problem of the field it reads.
 */
import type { ContainerResources, RestartPolicy } from '../resolved-pod.js';
import { parseBytes, parseCpus } from '../quantity.js';
import { ComposeTextError, interpolate, parseGoDurationSeconds, splitShellWords, type Variables } from './compose-text.js';
import { atField, manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { COMPOSE_SERVICE_NAME, DNS_LABEL, LABEL_KEY, LABEL_VALUE } from './schema-parts.js';
import { composeObjectName } from '../objects/names.js';
import type { ServiceVolumeInput } from './compose-volumes.js';
import type { ComposeDependsOn, ComposeHealthcheck } from './compose-order.js';
import type { ComposePort } from './manifest-ports.js';
import type { ServiceNetworks } from './compose-network.js';
import type { RuntimeFields } from './compose-runtime.js';
import type { ComposeRuntimeFields } from './compose-pod-runtime.js';

export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024; // the runtime's minimum, as in kubernetes.ts
export { MAX_GRACE_SECONDS } from '../objects/limits.js';

export type Scalar = string | number | boolean | null;
export interface Service extends RuntimeFields, ComposeRuntimeFields {
  image: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: string[] | Record<string, Scalar>;
  labels?: string[] | Record<string, Scalar>;
  working_dir?: string;
  /** `on-failure:N` too: restartKind() reads it. */
  restart?: string;
  platform?: string;
  mem_limit?: string | number;
  mem_reservation?: string | number;
  cpus?: string | number;
  pids_limit?: number;
  stop_grace_period?: string;
  pull_policy?: 'always' | 'never' | 'missing' | 'if_not_present';
  network_mode?: string;
  networks?: ServiceNetworks;
  expose?: (string | number)[];
  devices?: string[];
  group_add?: (string | number)[];
  privileged?: boolean;
  security_opt?: string[];
  user?: string | number;
  read_only?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  volumes?: ServiceVolumeInput['volumes'];
  tmpfs?: ServiceVolumeInput['tmpfs'];
  depends_on?: ComposeDependsOn;
  healthcheck?: ComposeHealthcheck;
  ports?: ComposePort[];
  container_name?: string;
  secrets?: unknown[];
  configs?: unknown[];
  profiles?: string[];
  deploy?: {
    mode?: 'replicated' | 'global';
    replicas?: number;
    resources?: {
      limits?: { memory?: string | number; cpus?: string | number; pids?: number };
      reservations?: { memory?: string | number; cpus?: string | number };
    };
    placement?: { constraints?: string[] };
    update_config?: { parallelism?: number; order?: 'stop-first' | 'start-first'; failure_action?: 'rollback' | 'pause' | 'continue'; monitor?: string };
  };
}

/** compose's restart as a policy, and on-failure's retry limit (`on-failure:3`). */
export function restartKind(restart: string | undefined): { policy: RestartPolicy; retries?: number } {
  const m = /^on-failure:(\d+)$/.exec(restart ?? '');
  if (m) return { policy: 'OnFailure', retries: Number(m[1]) };
  return { policy: RESTART[(restart ?? 'no') as keyof typeof RESTART] ?? 'Never' };
}

export const RESTART: Record<'no' | 'always' | 'on-failure' | 'unless-stopped', RestartPolicy> = {
  no: 'Never',
  always: 'Always',
  'unless-stopped': 'Always',
  'on-failure': 'OnFailure',
};

export const PULL: Record<NonNullable<Service['pull_policy']>, 'Always' | 'Never' | 'IfNotPresent'> = {
  always: 'Always',
  never: 'Never',
  missing: 'IfNotPresent',
  if_not_present: 'IfNotPresent',
};

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function text<T>(ctx: DocContext, path: FieldPath, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ComposeTextError) throw manifestError(ctx, path, err.message, { cause: err });
    throw err;
  }
}

/** Interpolates every string value (keys stay as written, as compose does), skipping x-* blocks. */
export function interpolateAll(ctxFor: (path: FieldPath) => DocContext, value: unknown, path: FieldPath, vars?: Variables): unknown {
  if (typeof value === 'string') return text(ctxFor(path), path, () => interpolate(value, vars));
  if (Array.isArray(value)) return value.map((v, i) => interpolateAll(ctxFor, v, [...path, i], vars));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k.startsWith('x-') ? v : interpolateAll(ctxFor, v, [...path, k], vars)]));
  }
  return value;
}


/** A service's objects' name (objects/names.ts); compose-network.ts names the service's Service by it. */
export const serviceObjectName = composeObjectName;

/** A compose service name (compose's rule); it must also leave a DNS label for the objects. */
export function checkServiceName(ctx: DocContext, name: string): void {
  if (name.length > 63 || !new RegExp(COMPOSE_SERVICE_NAME).test(name) || serviceObjectName(name) === '') {
    throw manifestError(ctx, ['services', name], `service name ${quote(name)} must be at most 63 letters, digits, '_', '.' and '-', starting with a letter or digit`, { at: 'key' });
  }
}

export function words(ctx: DocContext, path: FieldPath, value: string | string[]): string[] {
  return typeof value === 'string' ? text(ctx, path, () => splitShellWords(value)) : [...value];
}

export function environment(ctx: DocContext, path: FieldPath, value: Service['environment']): { name: string; value: string }[] {
  const vars = new Map<string, string>();
  const noValue = (at: FieldPath, name: string) =>
    manifestError(ctx, at, `${quote(name)} has no value: Grove has no host environment to take it from; write ${name}=value`);
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      if (eq < 0) throw noValue([...path, i], entry);
      if (eq === 0) throw manifestError(ctx, [...path, i], `${quote(entry)} has no variable name`);
      vars.set(entry.slice(0, eq), entry.slice(eq + 1));
    });
  } else if (value) {
    for (const [name, v] of Object.entries(value)) {
      if (v === null) throw noValue([...path, name], name);
      vars.set(name, String(v));
    }
  }
  return [...vars].map(([name, v]) => ({ name, value: v }));
}

/** Where compose labels that cannot be Kubernetes labels or annotations (keys over 63 characters …) are kept, as JSON. */
export const COMPOSE_LABELS_ANNOTATION = 'compose.grove.io/labels';

/**
 * Docker labels are free text: each becomes a Kubernetes label where it can be one, else an
 * annotation (traefik rules, URLs, `homepage.name: Home Assistant`), else (a key Kubernetes
 * refuses even for annotations) one entry of the JSON annotation compose.grove.io/labels.
 */
export function composeLabels(ctx: DocContext, path: FieldPath, value: Service['labels']): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const rest: Record<string, string> = {};
  const key = new RegExp(LABEL_KEY);
  const labelValue = new RegExp(LABEL_VALUE);
  for (const [k, v] of Object.entries(labelMap(ctx, path, value))) {
    const keyOk = key.test(k) && k.length <= 317 && !k.startsWith('grove.io/');
    if (keyOk && v.length <= 63 && labelValue.test(v)) labels[k] = v;
    else if (keyOk) annotations[k] = v;
    else rest[k] = v;
  }
  if (Object.keys(rest).length) annotations[COMPOSE_LABELS_ANNOTATION] = JSON.stringify(rest);
  return { labels, annotations };
}

export function labelMap(ctx: DocContext, path: FieldPath, value: Service['labels']): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (!key) throw manifestError(ctx, [...path, i], `${quote(entry)} has no label name`);
      out[key] = eq < 0 ? '' : entry.slice(eq + 1);
    });
  } else if (value) {
    for (const [key, v] of Object.entries(value)) out[key] = v === null ? '' : String(v);
  }
  return out;
}

/** One value from two places compose allows it (mem_limit and deploy.resources.limits.memory …). */
export function either<T>(ctx: DocContext, a: { path: FieldPath; value: T | undefined }, b: { path: FieldPath; value: T | undefined }): { path: FieldPath; value: T } | undefined {
  if (a.value !== undefined && b.value !== undefined && String(a.value) !== String(b.value)) {
    throw manifestError(ctx, b.path, `${quote(b.value)} conflicts with ${quote(a.value)} given by the service's other field`);
  }
  if (a.value !== undefined) return { path: a.path, value: a.value };
  return b.value === undefined ? undefined : { path: b.path, value: b.value };
}

export function resources(ctx: DocContext, base: FieldPath, s: Service): ContainerResources {
  const limits = s.deploy?.resources?.limits ?? {};
  const reservations = s.deploy?.resources?.reservations ?? {};
  const limitsPath = [...base, 'deploy', 'resources', 'limits'];
  const reservationsPath = [...base, 'deploy', 'resources', 'reservations'];
  const out: ContainerResources = {};
  const mem = either(ctx, { path: [...base, 'mem_limit'], value: s.mem_limit }, { path: [...limitsPath, 'memory'], value: limits.memory });
  if (mem) {
    out.memoryBytes = atField(ctx, mem.path, (f) => parseBytes(mem.value, f));
    if (out.memoryBytes < MIN_MEMORY_LIMIT_BYTES) throw manifestError(ctx, mem.path, `${quote(mem.value)} is below the minimum of 6m`);
  }
  const cpus = either(ctx, { path: [...base, 'cpus'], value: s.cpus }, { path: [...limitsPath, 'cpus'], value: limits.cpus });
  if (cpus) out.cpus = atField(ctx, cpus.path, (f) => parseCpus(cpus.value, f));
  // pids_limit -1 (and 0) mean "unlimited" in docker.
  const pids = either(ctx, { path: [...base, 'pids_limit'], value: s.pids_limit }, { path: [...limitsPath, 'pids'], value: limits.pids });
  if (pids && pids.value > 0) out.pidsLimit = pids.value;
  const reserveMem = either(ctx, { path: [...base, 'mem_reservation'], value: s.mem_reservation }, { path: [...reservationsPath, 'memory'], value: reservations.memory });
  // As for Kubernetes manifests, what the scheduler reserves defaults to the limit.
  out.requestMemoryBytes = reserveMem ? atField(ctx, reserveMem.path, (f) => parseBytes(reserveMem.value, f)) : out.memoryBytes;
  out.requestCpus = reservations.cpus !== undefined ? atField(ctx, [...reservationsPath, 'cpus'], (f) => parseCpus(reservations.cpus!, f)) : out.cpus;
  if (out.memoryBytes !== undefined && out.requestMemoryBytes! > out.memoryBytes) throw manifestError(ctx, reserveMem!.path, 'must not be more than the memory limit');
  if (out.cpus !== undefined && out.requestCpus! > out.cpus) throw manifestError(ctx, [...reservationsPath, 'cpus'], 'must not be more than the cpus limit');
  if (out.requestMemoryBytes === undefined) delete out.requestMemoryBytes;
  if (out.requestCpus === undefined) delete out.requestCpus;
  return out;
}

const CONSTRAINT = /^node\.labels\.(\S+)\s*==\s*(\S*)$/;

/** Swarm placement constraints, equality on node labels only: that is a nodeSelector. */
export function nodeSelector(ctx: DocContext, path: FieldPath, constraints: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  constraints.forEach((c, i) => {
    const m = CONSTRAINT.exec(c.trim());
    if (!m) throw manifestError(ctx, [...path, i], `${quote(c)} is not supported yet: only node.labels.KEY == VALUE is`);
    const [, key, value] = m as unknown as [string, string, string];
    if (!new RegExp(LABEL_KEY).test(key) || !new RegExp(LABEL_VALUE).test(value) || value.length > 63) {
      throw manifestError(ctx, [...path, i], `${quote(c)} does not compare a valid label key and value`);
    }
    out[key] = value;
  });
  return out;
}

/** deploy.update_config, read: the rolling step and its order, the rollback choice, the deadline. */
export interface UpdateConfig {
  /** How many containers are replaced at a time ("100%": all at once). */
  step: number | string;
  /** start-first: new containers start before old ones stop (maxSurge); else maxUnavailable. */
  startFirst: boolean;
  autoRollback?: boolean;
  progressDeadlineSeconds?: number;
}

/**
 * deploy.update_config → a rolling update: stop-first (compose's default) replaces
 * `parallelism` containers at a time (maxUnavailable), start-first starts that many new ones
 * first (maxSurge); parallelism 0 means all at once. failure_action rollback keeps Grove's
 * automatic rollback, pause and continue turn it off; monitor is the progress deadline.
 */
export function readUpdateConfig(ctx: DocContext, base: FieldPath, u: NonNullable<NonNullable<Service['deploy']>['update_config']>): UpdateConfig {
  const out: UpdateConfig = { step: u.parallelism === undefined ? 1 : u.parallelism === 0 ? '100%' : u.parallelism, startFirst: u.order === 'start-first' };
  if (u.failure_action !== undefined) out.autoRollback = u.failure_action === 'rollback';
  if (u.monitor !== undefined) {
    const path = [...base, 'monitor'];
    const seconds = Math.ceil(text(ctx, path, () => parseGoDurationSeconds(u.monitor!)));
    if (seconds < 1 || seconds > 604800) throw manifestError(ctx, path, `${quote(u.monitor)} must be between 1s and 168h`);
    out.progressDeadlineSeconds = seconds;
  }
  return out;
}
