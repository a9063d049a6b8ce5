/**
 * A docker-compose file → one App per service (a Deployment, or a DaemonSet for
 * `deploy.mode: global`). Compose semantics are kept where they differ from Kubernetes: the
 * default restart is "no", mem_limit "32m" means 32 MiB, `$` is interpolated.
 */
import { formatImageRef, parseImageRef } from '../image-ref.js';
import type { App, ContainerResources, ContainerTemplate, EnvVar, RestartPolicy } from '../model.js';
import { checkGroup, parseDeviceSpec } from '../device-spec.js';
import { parseBytes, parseCpus } from '../quantity.js';
import { ComposeTextError, interpolate, parseGoDurationSeconds, splitShellWords } from './compose-text.js';
import { atField, manifestError, quote, type DocContext, type FieldPath, type LocatedResource, type ManifestDocument } from './location.js';
import { DNS_LABEL, LABEL_KEY, LABEL_VALUE } from './schema-parts.js';
import type { ManifestValidator } from './validate.js';
import { serviceVolumes, type ComposeTopVolumes, type ServiceVolumeInput } from './compose-volumes.js';

/** What a service needs of the file around it: top-level volumes, the file's directory. */
interface ComposeFiles {
  volumes?: ComposeTopVolumes;
  dir?: string;
}
import { dependsOn, healthcheckProbes, type ComposeDependsOn, type ComposeHealthcheck } from './compose-order.js';
import { dependencyCycle } from '../wire-init.js';
import { composePorts, type ComposePort } from './manifest-ports.js';
import { composeSeccomp } from './compose-security.js';

const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024; // the runtime's minimum, as in kubernetes.ts
const MAX_GRACE_SECONDS = 3600;

type Scalar = string | number | boolean | null;
interface Service {
  image: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: string[] | Record<string, Scalar>;
  labels?: string[] | Record<string, Scalar>;
  working_dir?: string;
  restart?: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  mem_limit?: string | number;
  mem_reservation?: string | number;
  cpus?: string | number;
  pids_limit?: number;
  stop_grace_period?: string;
  pull_policy?: 'always' | 'never' | 'missing' | 'if_not_present';
  network_mode?: 'host';
  devices?: string[];
  group_add?: (string | number)[];
  privileged?: boolean;
  security_opt?: string[];
  volumes?: ServiceVolumeInput['volumes'];
  tmpfs?: ServiceVolumeInput['tmpfs'];
  depends_on?: ComposeDependsOn;
  healthcheck?: ComposeHealthcheck;
  ports?: ComposePort[];
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

const RESTART: Record<NonNullable<Service['restart']>, RestartPolicy> = {
  no: 'Never',
  always: 'Always',
  'unless-stopped': 'Always',
  'on-failure': 'OnFailure',
};

const PULL: Record<NonNullable<Service['pull_policy']>, NonNullable<ContainerTemplate['imagePullPolicy']>> = {
  always: 'Always',
  never: 'Never',
  missing: 'IfNotPresent',
  if_not_present: 'IfNotPresent',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text<T>(ctx: DocContext, path: FieldPath, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ComposeTextError) throw manifestError(ctx, path, err.message, { cause: err });
    throw err;
  }
}

/** Interpolates every string value (keys stay as written, as compose does), skipping x-* blocks. */
function interpolateAll(ctxFor: (path: FieldPath) => DocContext, value: unknown, path: FieldPath): unknown {
  if (typeof value === 'string') return text(ctxFor(path), path, () => interpolate(value));
  if (Array.isArray(value)) return value.map((v, i) => interpolateAll(ctxFor, v, [...path, i]));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k.startsWith('x-') ? v : interpolateAll(ctxFor, v, [...path, k])]));
  }
  return value;
}

/** Compose allows names Grove cannot use as app and pod names; suggest the nearest valid one. */
function checkServiceName(ctx: DocContext, name: string): void {
  if (new RegExp(DNS_LABEL).test(name) && name.length <= 63) return;
  const suggestion = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  const hint = suggestion && suggestion !== name ? `; rename it to ${quote(suggestion)}` : '';
  throw manifestError(ctx, ['services', name], `service name ${quote(name)} must be a DNS label (lowercase letters, digits and '-'): it names the app${hint}`, {
    at: 'key',
  });
}

function words(ctx: DocContext, path: FieldPath, value: string | string[]): string[] {
  return typeof value === 'string' ? text(ctx, path, () => splitShellWords(value)) : [...value];
}

function environment(ctx: DocContext, path: FieldPath, value: Service['environment']): EnvVar[] {
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

function labelMap(ctx: DocContext, path: FieldPath, value: Service['labels']): Record<string, string> {
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
function either<T>(ctx: DocContext, a: { path: FieldPath; value: T | undefined }, b: { path: FieldPath; value: T | undefined }): { path: FieldPath; value: T } | undefined {
  if (a.value !== undefined && b.value !== undefined && String(a.value) !== String(b.value)) {
    throw manifestError(ctx, b.path, `${quote(b.value)} conflicts with ${quote(a.value)} given by the service's other field`);
  }
  if (a.value !== undefined) return { path: a.path, value: a.value };
  return b.value === undefined ? undefined : { path: b.path, value: b.value };
}

function resources(ctx: DocContext, base: FieldPath, s: Service): ContainerResources {
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
function nodeSelector(ctx: DocContext, path: FieldPath, constraints: string[]): Record<string, string> {
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

function serviceApp(ctx: DocContext, doc: ManifestDocument, name: string, s: Service, services: ReadonlyMap<string, Service>, files: ComposeFiles = {}): App {
  const base = ['services', name];
  const image = atField(ctx, [...base, 'image'], () => formatImageRef(parseImageRef(s.image)));
  const c: ContainerTemplate = { name, image, env: environment(ctx, [...base, 'environment'], s.environment), resources: resources(ctx, base, s) };
  // Compose entrypoint/command are the image ENTRYPOINT/CMD, which Kubernetes calls command/args.
  if (s.entrypoint !== undefined) c.command = words(ctx, [...base, 'entrypoint'], s.entrypoint);
  if (s.command !== undefined) c.args = words(ctx, [...base, 'command'], s.command);
  if (s.working_dir !== undefined) c.workingDir = s.working_dir;
  if (s.pull_policy !== undefined) c.imagePullPolicy = PULL[s.pull_policy];
  if (s.privileged === true) c.privileged = true;
  const seccomp = composeSeccomp(ctx, [...base, 'security_opt'], s.security_opt);
  if (seccomp) c.seccompProfile = seccomp;
  const probes = healthcheckProbes(ctx, base, s.healthcheck, RESTART[s.restart ?? 'no']);
  if (probes) c.probes = probes;
  if (s.ports?.length) c.ports = composePorts(ctx, [...base, 'ports'], s.ports);
  const labels = labelMap(ctx, [...base, 'labels'], s.labels);
  const deploy = s.deploy ?? {};
  const global = deploy.mode === 'global';
  if (global && deploy.replicas !== undefined) {
    throw manifestError(ctx, [...base, 'deploy', 'replicas'], 'cannot be combined with mode: global (one container per node)');
  }
  const app: App = {
    kind: 'App',
    meta: { name, labels, annotations: {}, source: { format: 'compose', file: doc.file, document: doc.index } },
    spec: {
      kind: global ? 'DaemonSet' : 'Deployment',
      template: {
        labels: { ...labels },
        annotations: {},
        nodeSelector: nodeSelector(ctx, [...base, 'deploy', 'placement', 'constraints'], deploy.placement?.constraints ?? []),
        restartPolicy: RESTART[s.restart ?? 'no'],
        hostNetwork: s.network_mode === 'host',
        containers: [c],
      },
    },
  };
  if (!global) app.spec.replicas = deploy.replicas ?? 1;
  const deps = dependsOn(ctx, base, s.depends_on, services);
  if (deps) app.spec.template.dependsOn = deps;
  if (deploy.update_config) Object.assign(app.spec, updateConfig(ctx, [...base, 'deploy', 'update_config'], deploy.update_config));
  if (s.devices?.length) app.spec.template.devices = s.devices.map((d, i) => atField(ctx, [...base, 'devices', i], (f) => parseDeviceSpec(d, f)));
  if (s.group_add?.length) app.spec.template.supplementalGroups = s.group_add.map((g, i) => atField(ctx, [...base, 'group_add', i], (f) => checkGroup(String(g), f)));
  const volumes = serviceVolumes(ctx, base, s, files.volumes, files.dir);
  if (volumes) {
    app.spec.template.volumes = volumes.volumes;
    c.volumeMounts = volumes.mounts;
  }
  if (s.stop_grace_period !== undefined) {
    const path = [...base, 'stop_grace_period'];
    const seconds = text(ctx, path, () => parseGoDurationSeconds(s.stop_grace_period!));
    if (seconds > MAX_GRACE_SECONDS) throw manifestError(ctx, path, `${quote(s.stop_grace_period)} must be at most 1h`);
    app.spec.template.terminationGracePeriodSeconds = seconds;
  }
  return app;
}

/**
 * deploy.update_config → a rolling update: stop-first (compose's default) replaces
 * `parallelism` containers at a time (maxUnavailable), start-first starts that many new ones
 * first (maxSurge); parallelism 0 means all at once. failure_action rollback keeps Grove's
 * automatic rollback, pause and continue turn it off; monitor is the progress deadline.
 */
function updateConfig(ctx: DocContext, base: FieldPath, u: NonNullable<NonNullable<Service['deploy']>['update_config']>): Partial<App['spec']> {
  const step: number | string = u.parallelism === undefined ? 1 : u.parallelism === 0 ? '100%' : u.parallelism;
  const out: Partial<App['spec']> = {
    strategy: u.order === 'start-first' ? { type: 'RollingUpdate', maxSurge: step, maxUnavailable: 0 } : { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: step },
  };
  if (u.failure_action !== undefined) out.autoRollback = u.failure_action === 'rollback';
  if (u.monitor !== undefined) {
    const path = [...base, 'monitor'];
    const seconds = Math.ceil(text(ctx, path, () => parseGoDurationSeconds(u.monitor!)));
    if (seconds < 1 || seconds > 604800) throw manifestError(ctx, path, `${quote(u.monitor)} must be between 1s and 168h`);
    out.progressDeadlineSeconds = seconds;
  }
  return out;
}

/** The Apps of one compose document. */
export function composeResources(doc: ManifestDocument, raw: Record<string, unknown>, validator: ManifestValidator, dir?: string): LocatedResource<App>[] {
  const fileCtx: DocContext = { doc, label: 'compose file' };
  const serviceCtx = (name: string): DocContext => ({ doc, label: `service ${quote(name)}` });
  if (isObject(raw.services)) for (const name of Object.keys(raw.services)) checkServiceName(serviceCtx(name), name);
  const ctxFor = (path: FieldPath) => (path[0] === 'services' && path.length > 1 ? serviceCtx(String(path[1])) : fileCtx);
  const value = interpolateAll(ctxFor, raw, []) as Record<string, unknown>;
  // Services first, each under its own name in messages; then the file around them.
  if (isObject(value.services)) {
    for (const [name, s] of Object.entries(value.services)) validator.check('ComposeService', s, serviceCtx(name), ['services', name]);
  }
  validator.check('ComposeFile', value, fileCtx);
  const services = new Map(Object.entries(value.services as Record<string, Service>));
  const out = [...services].map(([name, s]) => {
    const ctx = serviceCtx(name);
    const files: ComposeFiles = { volumes: value.volumes as ComposeTopVolumes, ...(dir !== undefined ? { dir } : {}) };
    return { resource: serviceApp(ctx, doc, name, s, services, files), ctx, namePath: ['services', name], nameIsKey: true };
  });
  const cycle = dependencyCycle(new Map(out.map((r) => [r.resource.meta.name, (r.resource.spec.template.dependsOn ?? []).map((d) => d.app)])));
  if (cycle) throw manifestError(serviceCtx(cycle[0]!), ['services', cycle[0]!, 'depends_on'], `forms a cycle: ${cycle.join(' → ')}`);
  return out;
}
