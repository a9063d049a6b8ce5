/**
 * A docker-compose document → Kubernetes objects, one workload per service, in the project's
 * namespace (a Namespace object named after the project, created first; see compose-network.ts
 * for the Services each service gets and how networks label its pods):
 * - `restart: always` / `unless-stopped` → a Deployment (a DaemonSet for `deploy.mode: global`);
 * - no restart, `restart: "no"` (compose's default) or `on-failure` → a Job: the container runs
 *   and is not restarted when it ends (or only after a failure), which only a Job's pods
 *   (restartPolicy Never / OnFailure) say in Kubernetes; `deploy.replicas` runs that many.
 * Every object and its pod template carry `com.docker.compose.project` / `.service` labels (the
 * selector). Compose semantics are kept where they differ from Kubernetes ("32m" is 32 MiB, `$`
 * is interpolated, `$(` is literal); what has no PodSpec field is Grove's annotations
 * (grove.io/depends-on, devices, group-add, auto-rollback). The field-by-field reading is shared
 * with the App translator (compose-service.ts, compose-order.ts, compose-volumes.ts …).
 */
import { basename } from 'node:path';
import { checkGroup, parseDeviceSpec } from '../device-spec.js';
import { parseImageRef } from '../image-ref.js';
import { bytesQuantity } from '../quantity.js';
import { composeDnsConfig, composeHostname, linkAliases, runtimeAnnotations, type LinkAlias } from './compose-runtime.js';
import { ARCH_ANNOTATION, AUTO_ROLLBACK_ANNOTATION, COMPOSE_PROJECT_LABEL, CONTAINER_NAME_ANNOTATION, COMPOSE_SERVICE_LABEL, DEPENDS_ON_ANNOTATION, DEVICES_ANNOTATION, formatDependsOn, GROUP_ADD_ANNOTATION } from '../objects/annotations.js';
import type { AnyObject } from '../objects/changes.js';
import { JOB_LIMITS } from '../objects/limits.js';
import type { Container, ResourceList, SecurityContext } from '../objects/pod-container.js';
import type { PodSpec, PodTemplateSpec } from '../objects/pod.js';
import type { Volume } from '../objects/pod-volumes.js';
import { checkObject, type KindName } from '../objects/validate.js';
import { pathText } from '../objects/explain.js';
import { dependencyCycle } from '../wire-init.js';
import { COMPOSE_NETWORKS_ANNOTATION, formatTopology } from '../network/compose-topology.js';
import type { ContainerPort, ContainerProbes, ContainerResources, Volume as ModelVolume } from '../resolved-pod.js';
import { parseGoDurationSeconds } from './compose-text.js';
import { dependsOn, healthcheckProbes } from './compose-order.js';
import { composeSchemaErrors } from './compose-schema.js';
import { composeCapabilities, composeSeccomp, composeUser } from './compose-security.js';
import { applyComposeRuntime } from './compose-pod-runtime.js';
import {
  checkServiceName,
  composeLabels,
  interpolateAll,
  isObject,
  MAX_GRACE_SECONDS,
  nodeSelector,
  PULL,
  readUpdateConfig,
  resources,
  restartKind,
  serviceObjectName,
  text,
  words,
  type Service,
} from './compose-service.js';
import { serviceVolumes, type ComposeTopVolumes } from './compose-volumes.js';
import type { DocumentObjects, LocatedObject } from './kubernetes-objects.js';
import { atField, manifestError, quote, type DocContext, type FieldPath, type ManifestDocument } from './location.js';
import { composePorts } from './manifest-ports.js';
import {
  exposePorts,
  mergePorts,
  namespaceObject,
  networkLabels,
  projectNamespace,
  projectNetworks,
  serviceNetworking,
  serviceObjects,
  type ComposeNamespace,
  type ComposeNetwork,
  type ServiceNetworking,
} from './compose-network.js';
import { schemaProblems } from './object-errors.js';
import { expandServices, NO_HOST, profileActive, readProjectVariables, serviceEnvironment, type ComposeHost } from './compose-prepare.js';
import { projectStores, serviceStoreMounts, type StoreMounts } from './compose-stores.js';
import { collect, problemOf, type ManifestProblem } from './problems.js';

/** Compose's own rule for project names: lowercase letters, digits, '-' and '_', starting with a letter or digit. */
const PROJECT = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * The project: the file's `name:`, else its directory's name made valid as docker compose makes
 * it, else "default" (stdin). It is a label value, so at most 63 characters.
 */
function projectName(ctx: DocContext, name: unknown, dir: string | undefined): string {
  if (typeof name === 'string' && name !== '') {
    if (!PROJECT.test(name) || name.length > 63) {
      throw manifestError(ctx, ['name'], `${quote(name)} must be a project name: at most 63 lowercase letters, digits, '-' and '_', starting with a letter or digit`);
    }
    return name;
  }
  const fromDir = dir === undefined ? '' : basename(dir).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '').slice(0, 63).replace(/[_-]+$/, '');
  return fromDir || 'default';
}

/** Kubernetes expands $(NAME) in env values, command and args; compose does not: keep them literal. */
const literal = (s: string): string => s.replaceAll('$(', () => '$$(');


/** Cores as a Kubernetes quantity: "2", "500m". */
function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

/** Compose's resources (numbers, compose units) as Kubernetes limits and requests. */
function resourceRequirements(r: ContainerResources, reservations: { memory?: unknown; cpus?: unknown }): Container['resources'] | undefined {
  const limits: ResourceList = {};
  if (r.memoryBytes !== undefined) limits.memory = bytesQuantity(r.memoryBytes);
  if (r.cpus !== undefined) limits.cpu = cpuQuantity(r.cpus);
  if (r.pidsLimit !== undefined) limits['grove.io/pids'] = String(r.pidsLimit);
  // Only reservations written become requests: Kubernetes requests what is limited by default.
  const requests: ResourceList = {};
  if (reservations.memory !== undefined && r.requestMemoryBytes !== undefined) requests.memory = bytesQuantity(r.requestMemoryBytes);
  if (reservations.cpus !== undefined && r.requestCpus !== undefined) requests.cpu = cpuQuantity(r.requestCpus);
  const out: NonNullable<Container['resources']> = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

function probes(container: Container, p: ContainerProbes | undefined): void {
  // healthcheckProbes makes liveness and startup probes with successThreshold 1, as Kubernetes requires.
  if (p?.liveness) container.livenessProbe = p.liveness as Container['livenessProbe'];
  if (p?.readiness) container.readinessProbe = p.readiness;
  if (p?.startup) container.startupProbe = p.startup as Container['startupProbe'];
}

/** A compose volume (compose-volumes.ts builds them in resolved terms) as a Kubernetes one: only emptyDir's size differs. */
function podVolume(v: ModelVolume): Volume {
  if (!('emptyDir' in v)) return v as Volume;
  const { medium, sizeLimitBytes } = v.emptyDir;
  return { name: v.name, emptyDir: { ...(medium ? { medium } : {}), ...(sizeLimitBytes !== undefined ? { sizeLimit: bytesQuantity(sizeLimitBytes) } : {}) } };
}

interface ServiceInput {
  ctx: DocContext;
  name: string;
  s: Service;
  /** The container's environment: env_file and environment: merged (compose-prepare.ts); undefined when neither is written or it had a problem. */
  env: Record<string, string> | undefined;
  /** The project's secrets and configs, by compose name (compose-stores.ts). */
  stores: StoreMounts | undefined;
  services: ReadonlyMap<string, Service>;
  project: string;
  namespace: string;
  /** The file's networks (and `default`), whether each is internal. */
  networks: ReadonlyMap<string, { internal: boolean }>;
  /** The project's network topology (grove.io/compose-networks) when it has more than one network. */
  topology: string | undefined;
  /**
   * Whether pods carry network labels: only when the networks matter (several, or an internal
   * one), so a plain compose file's pod templates stay as they were (no rollout on upgrade).
   */
  labelNetworks: boolean;
  volumes: ComposeTopVolumes;
  dir: string | undefined;
  /** Where translation warnings go (ignored logging options …), each with its file and line. */
  warnings: string[];
  /**
   * Runs one field reader; its problem is recorded (and undefined returned) so that the
   * service's other fields are still read: every problem of a service is reported at once.
   */
  read: <T>(reader: () => T) => T | undefined;
}

function container(input: ServiceInput, restart: 'Always' | 'OnFailure' | 'Never'): Container {
  const { ctx, name, s, read } = input;
  const base = ['services', name];
  read(() => atField(ctx, [...base, 'image'], () => parseImageRef(s.image)));
  const c: Container = { name: serviceObjectName(name), image: s.image };
  // Compose entrypoint/command are the image ENTRYPOINT/CMD, which Kubernetes calls command/args.
  const command = s.entrypoint === undefined ? undefined : read(() => words(ctx, [...base, 'entrypoint'], s.entrypoint!));
  if (command) c.command = command.map(literal);
  const args = s.command === undefined ? undefined : read(() => words(ctx, [...base, 'command'], s.command!));
  if (args) c.args = args.map(literal);
  const env = Object.entries(input.env ?? {});
  if (env.length) c.env = env.map(([k, v]) => ({ name: k, value: literal(v) }));
  if (s.working_dir !== undefined) c.workingDir = s.working_dir;
  if (s.pull_policy !== undefined) c.imagePullPolicy = PULL[s.pull_policy];
  const numbers = read(() => resources(ctx, base, s));
  const res = numbers && resourceRequirements(numbers, { memory: s.mem_reservation ?? s.deploy?.resources?.reservations?.memory, cpus: s.deploy?.resources?.reservations?.cpus });
  if (res) c.resources = res;
  const published = s.ports?.length ? read(() => composePorts(ctx, [...base, 'ports'], s.ports!)) : undefined;
  const exposed = s.expose?.length ? read(() => exposePorts(ctx, [...base, 'expose'], s.expose!)) : undefined;
  const ports = mergePorts(published ?? [], exposed ?? []);
  if (ports.length) c.ports = ports.map((p) => ({ ...p }));
  probes(c, read(() => healthcheckProbes(ctx, base, s.healthcheck, restart)));
  const security = securityContext(input);
  if (Object.keys(security).length > 0) c.securityContext = security;
  return c;
}

/** privileged, security_opt (seccomp), user, read_only, cap_add, cap_drop: each read on its own, every problem reported. */
function securityContext(input: ServiceInput): SecurityContext {
  const { ctx, name, s, read } = input;
  const base = ['services', name];
  const out: SecurityContext = {};
  if (s.privileged === true) out.privileged = true;
  const seccomp = read(() => composeSeccomp(ctx, [...base, 'security_opt'], s.security_opt));
  if (seccomp) out.seccompProfile = seccomp;
  if (s.user !== undefined) Object.assign(out, read(() => composeUser(ctx, [...base, 'user'], s.user!)));
  if (s.read_only === true) out.readOnlyRootFilesystem = true;
  const add = s.cap_add?.length ? read(() => composeCapabilities(ctx, [...base, 'cap_add'], s.cap_add!)) : undefined;
  const drop = s.cap_drop?.length ? read(() => composeCapabilities(ctx, [...base, 'cap_drop'], s.cap_drop!)) : undefined;
  if (add || drop) out.capabilities = { ...(add ? { add } : {}), ...(drop ? { drop } : {}) };
  return out;
}

/** group_add: numbers are supplementary groups; names are resolved on the node (grove.io/group-add). */
function groups(input: ServiceInput, spec: PodSpec, annotations: Record<string, string>): void {
  const { ctx, name, s, read } = input;
  const checked = (s.group_add ?? []).map((g, i) => read(() => atField(ctx, ['services', name, 'group_add', i], (f) => checkGroup(String(g), f))));
  const valid = checked.filter((g): g is string => g !== undefined);
  const numbers = valid.filter((g) => /^[0-9]+$/.test(g)).map(Number);
  const names = valid.filter((g) => !/^[0-9]+$/.test(g));
  if (numbers.length) spec.securityContext = { supplementalGroups: numbers };
  if (names.length) annotations[GROUP_ADD_ANNOTATION] = names.join(',');
}

function gracePeriod(input: ServiceInput): number | undefined {
  const { ctx, name, s } = input;
  const path = ['services', name, 'stop_grace_period'];
  const seconds = text(ctx, path, () => parseGoDurationSeconds(s.stop_grace_period!));
  if (seconds > MAX_GRACE_SECONDS) throw manifestError(ctx, path, `${quote(s.stop_grace_period)} must be at most 1h`);
  return seconds;
}

function podTemplate(input: ServiceInput, restart: 'Always' | 'OnFailure' | 'Never', labels: Record<string, string>, net: ServiceNetworking | undefined): PodTemplateSpec {
  const { ctx, name, s, read } = input;
  const base = ['services', name];
  const c = container(input, restart);
  const spec: PodSpec = { containers: [c], restartPolicy: restart };
  const annotations: Record<string, string> = {};
  if (net?.hostNetwork) spec.hostNetwork = true;
  const podLabels = { ...labels, ...(input.labelNetworks ? networkLabels(net?.networks ?? [], input.networks) : {}) };
  const selector = read(() => nodeSelector(ctx, [...base, 'deploy', 'placement', 'constraints'], s.deploy?.placement?.constraints ?? []));
  if (selector && Object.keys(selector).length) spec.nodeSelector = selector;
  const deps = read(() => dependsOn(ctx, base, s.depends_on, input.services));
  if (deps) annotations[DEPENDS_ON_ANNOTATION] = formatDependsOn(deps.map((d) => ({ ...d, app: serviceObjectName(d.app) })));
  if (s.devices?.length) {
    s.devices.forEach((d, i) => read(() => atField(ctx, [...base, 'devices', i], (f) => parseDeviceSpec(d, f))));
    annotations[DEVICES_ANNOTATION] = s.devices.map((d) => d.trim()).join(',');
  }
  groups(input, spec, annotations);
  applyComposeRuntime(ctx, base, s, spec, read);
  if (input.topology !== undefined && !net?.hostNetwork) annotations[COMPOSE_NETWORKS_ANNOTATION] = input.topology;
  const volumes = read(() => serviceVolumes(ctx, base, s, input.volumes, input.dir));
  if (volumes) {
    spec.volumes = volumes.volumes.map(podVolume);
    c.volumeMounts = volumes.mounts.map((m) => ({ ...m }));
  }
  const stored = read(() => serviceStoreMounts(ctx, base, s, input.stores));
  if (stored?.volumes.length) {
    spec.volumes = [...(spec.volumes ?? []), ...stored.volumes];
    c.volumeMounts = [...(c.volumeMounts ?? []), ...stored.mounts];
  }
  if (s.container_name !== undefined) annotations[CONTAINER_NAME_ANNOTATION] = s.container_name;
  // linux/arm64, linux/arm/v7: only nodes of that architecture run it, and pull that variant of the image.
  if (s.platform !== undefined) annotations[ARCH_ANNOTATION] = s.platform.split('/')[1]!;
  const grace = s.stop_grace_period === undefined ? undefined : read(() => gracePeriod(input));
  if (grace !== undefined) spec.terminationGracePeriodSeconds = grace;
  const hostname = s.hostname === undefined ? undefined : read(() => composeHostname(ctx, base, s.hostname!));
  if (hostname) spec.hostname = hostname;
  const dnsConfig = read(() => composeDnsConfig(ctx, base, s));
  if (dnsConfig) spec.dnsConfig = dnsConfig;
  read(() => runtimeAnnotations(ctx, base, s, annotations, input.warnings));
  return { metadata: { labels: podLabels, ...(Object.keys(annotations).length ? { annotations } : {}) }, spec };
}

/** What stands against the kind a service becomes (from restart and deploy.mode), recorded through `read`. */
function kindChoiceProblems(input: ServiceInput, restart: 'Always' | 'OnFailure' | 'Never'): void {
  const { ctx, name, s, read } = input;
  const base = ['services', name];
  const deploy = s.deploy ?? {};
  const global = deploy.mode === 'global';
  const restartHint = `needs restart: always or unless-stopped (a service that is not restarted becomes a Job${s.restart === undefined ? '; compose\'s default is restart: "no"' : ''})`;
  read(() => {
    if (global && deploy.replicas !== undefined) throw manifestError(ctx, [...base, 'deploy', 'replicas'], 'cannot be combined with mode: global (one container per node)');
  });
  read(() => {
    if (s.container_name === undefined) return;
    if ((deploy.replicas ?? 1) > 1) throw manifestError(ctx, [...base, 'container_name'], `cannot be combined with deploy.replicas: ${deploy.replicas} (a container name is unique on its node; docker compose refuses it too)`);
    if (deploy.update_config?.order === 'start-first') throw manifestError(ctx, [...base, 'deploy', 'update_config', 'order'], 'start-first cannot be combined with container_name: the new container would need the name while the old one still has it');
  });
  if (restart === 'Always') return;
  read(() => {
    if (global) throw manifestError(ctx, [...base, 'deploy', 'mode'], `global ${restartHint}`);
  });
  read(() => {
    if (deploy.update_config) throw manifestError(ctx, [...base, 'deploy', 'update_config'], restartHint, { at: 'key' });
  });
  read(() => {
    if (deploy.replicas === 0) throw manifestError(ctx, [...base, 'deploy', 'replicas'], '0: a service that is not restarted becomes a Job, which runs at least once');
  });
}

interface TranslatedService {
  workload: AnyObject;
  networking: ServiceNetworking;
  /** The container's ports (ports: and expose:): the Service's. */
  ports: ContainerPort[];
}

/** One service's workload (its kind from restart and deploy.mode) and networking; undefined when it has problems (recorded by `read`). */
function serviceObject(input: ServiceInput, problems: readonly ManifestProblem[]): TranslatedService | undefined {
  const { ctx, name, s, project, read } = input;
  const before = problems.length;
  const base = ['services', name];
  const deploy = s.deploy ?? {};
  const restart = restartKind(s.restart).policy;
  kindChoiceProblems(input, restart);
  const selector = { [COMPOSE_PROJECT_LABEL]: project, [COMPOSE_SERVICE_LABEL]: name };
  const composed = read(() => composeLabels(ctx, [...base, 'labels'], s.labels));
  const labels = { ...composed?.labels, ...selector };
  const networking = read(() => serviceNetworking(ctx, base, s, input.networks));
  const template = podTemplate(input, restart, labels, networking);
  if (composed && Object.keys(composed.annotations).length) template.metadata!.annotations = { ...composed.annotations, ...template.metadata!.annotations };
  const update = deploy.update_config && restart === 'Always' ? read(() => readUpdateConfig(ctx, [...base, 'deploy', 'update_config'], deploy.update_config!)) : undefined;
  if (problems.length > before || networking === undefined) return undefined;
  const annotations: Record<string, string> = { ...composed?.annotations };
  const metadata = (a: Record<string, string>) => ({ name: serviceObjectName(name), namespace: input.namespace, labels: { ...labels }, ...(Object.keys(a).length ? { annotations: a } : {}) });
  const workload = workloadObject(input, restart, selector, template, update, annotations, metadata);
  const ports = (template.spec?.containers[0]?.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));
  return { workload, networking, ports };
}

function workloadObject(
  input: ServiceInput,
  restart: 'Always' | 'OnFailure' | 'Never',
  selector: Record<string, string>,
  template: PodTemplateSpec,
  update: ReturnType<typeof readUpdateConfig> | undefined,
  annotations: Record<string, string>,
  metadata: (a: Record<string, string>) => Record<string, unknown>,
): AnyObject {
  const deploy = input.s.deploy ?? {};
  const global = deploy.mode === 'global';
  if (restart !== 'Always') {
    const replicas = deploy.replicas ?? 1;
    const counts = replicas > 1 ? { completions: replicas, parallelism: Math.min(replicas, JOB_LIMITS.parallelism) } : {};
    // Docker does not retry "no"; on-failure retries without limit (Grove's ceiling here), on-failure:N N times.
    const retries = restartKind(input.s.restart).retries;
    const backoffLimit = restart === 'Never' ? 0 : Math.min(retries ?? JOB_LIMITS.backoffLimit, JOB_LIMITS.backoffLimit);
    return { apiVersion: 'batch/v1', kind: 'Job', metadata: metadata(annotations), spec: { ...counts, backoffLimit, template } } as AnyObject;
  }
  if (global) return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: metadata(annotations), spec: { selector: { matchLabels: selector }, template } } as AnyObject;
  const spec: Record<string, unknown> = { replicas: deploy.replicas ?? 1, selector: { matchLabels: selector }, template };
  // A named container: the old pod's goes before the new one takes the name, as compose recreates it.
  if (input.s.container_name !== undefined && !update) spec.strategy = { type: 'Recreate' };
  if (update) {
    spec.strategy = { type: 'RollingUpdate', rollingUpdate: update.startFirst ? { maxSurge: update.step, maxUnavailable: 0 } : { maxSurge: 0, maxUnavailable: update.step } };
    if (update.autoRollback !== undefined) annotations[AUTO_ROLLBACK_ANNOTATION] = String(update.autoRollback);
    if (update.progressDeadlineSeconds !== undefined) spec.progressDeadlineSeconds = update.progressDeadlineSeconds;
  }
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: metadata(annotations), spec } as unknown as AnyObject;
}

/** The compose field an object field came from, for the object checks' problems (else the service). */
const COMPOSE_FIELDS: readonly [RegExp, FieldPath][] = [
  [/^(spec\.template\.)?metadata\.labels\b/, ['labels']],
  [/\.containers\[0\]\.image$/, ['image']],
  [/\.containers\[0\]\.workingDir$/, ['working_dir']],
  [/\.containers\[0\]\.env\b/, ['environment']],
  [/\.containers\[0\]\.command\b/, ['entrypoint']],
  [/\.containers\[0\]\.args\b/, ['command']],
  [/\.containers\[0\]\.ports\b/, ['ports']],
  [/\.(containers\[0\]\.volumeMounts|volumes)\b/, ['volumes']],
  [/\.nodeSelector\b/, ['deploy', 'placement', 'constraints']],
];

/**
 * What the object checks still find in a translated service (rules compose's own checks do not
 * cover, such as a relative working_dir or a label key Kubernetes refuses): said at the compose
 * field it came from, naming the object's field.
 */
function objectCheck(ctx: DocContext, name: string, object: AnyObject): ManifestProblem[] {
  const result = checkObject(object.kind as KindName, object, { showValues: true });
  if (result.ok) return [];
  const seen = new Set<string>();
  const out: ManifestProblem[] = [];
  for (const p of result.problems) {
    const field = pathText(p.path);
    const from = COMPOSE_FIELDS.find(([pattern]) => pattern.test(field))?.[1];
    const path = ['services', name, ...(from ?? [])];
    const key = `${JSON.stringify(path)}\u0000${p.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problemOf(manifestError(ctx, path, `${p.reason} (${field} of ${object.kind} ${quote(name)})`, { at: from ? 'value' : 'key' })));
  }
  return out;
}

/** The objects of one compose document and every problem found (at most one per field of a service). */
/** `namespace`: where the project goes when the user chose one (`-n`); else a namespace named after the project. */
export function composeObjects(doc: ManifestDocument, raw: Record<string, unknown>, dir: string | undefined, composeNamespace?: ComposeNamespace, host: ComposeHost = NO_HOST): DocumentObjects {
  const problems: ManifestProblem[] = [];
  const warnings: string[] = [];
  const fileCtx: DocContext = { doc, label: 'compose file' };
  const serviceCtx = (name: string): DocContext => ({ doc, label: `service ${quote(name)}` });
  const rawServices = isObject(raw.services) ? raw.services : {};
  // Services not to translate: a name, interpolation or schema problem was reported for them.
  const badNames = new Set<string>();
  for (const name of Object.keys(rawServices)) {
    const ok = collect(problems, () => {
      checkServiceName(serviceCtx(name), name);
      return true;
    });
    if (!ok) badNames.add(name);
  }
  const vars = readProjectVariables(host, dir, problems, warnings);
  const expanded = expandServices(rawServices, dir, doc.file, serviceCtx, host, problems, badNames);
  const ctxFor = (path: FieldPath) => (path[0] === 'services' && path.length > 1 ? serviceCtx(String(path[1])) : fileCtx);
  // Interpolation per top-level key and per service, so one bad `$` does not hide the others.
  const value: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (key === 'services' && isObject(v)) {
      const services: Record<string, unknown> = {};
      for (const [name, s] of Object.entries(expanded)) {
        const done = collect(problems, () => ({ s: interpolateAll(ctxFor, s, ['services', name], vars) }));
        if (done) services[name] = done.s;
        else badNames.add(name);
      }
      value.services = services;
    } else {
      const done = collect(problems, () => ({ v: key.startsWith('x-') ? v : interpolateAll(ctxFor, v, [key], vars) }));
      if (done) value[key] = done.v;
    }
  }
  // Each service under its own name in messages; then the file around them.
  const services = isObject(value.services) ? (value.services as Record<string, unknown>) : {};
  for (const [name, s] of Object.entries(services)) {
    const found = schemaProblems(composeSchemaErrors('ComposeService', s), s, serviceCtx(name), ['services', name]);
    if (found.length) badNames.add(name);
    problems.push(...found);
  }
  // The file's own fields, the services (checked above) stubbed; a `services` that is not a map stays, for its type error.
  const fileValue = isObject(value.services) ? { ...value, services: Object.fromEntries(Object.keys(rawServices).map((n) => [n, {}])) } : value;
  // The services were checked above, each under its own name.
  const inService = (p: ManifestProblem) => /^services[.[]/.test(p.path ?? '');
  problems.push(...schemaProblems(composeSchemaErrors('ComposeFile', fileValue), fileValue, fileCtx).filter((p) => !inService(p)));
  const project = collect(problems, () => projectName(fileCtx, host.project ?? value.name, dir));
  if (project === undefined || !isObject(value.services)) return { objects: [], problems, warnings };
  // Only the services of the active profiles are the project's (compose checks them all).
  const all = new Map((Object.entries(services) as [string, Service][]).filter(([, s]) => !isObject(s) || profileActive(s, host.profiles ?? [])));
  const namespace = typeof composeNamespace === 'function' ? composeNamespace(project) : composeNamespace;
  const projectNs = namespace ?? projectNamespace(project);
  const networks = projectNetworks(value.networks as Record<string, ComposeNetwork | null> | undefined);
  const { topology, labelNetworks } = projectTopology(fileCtx, all, networks);
  const objects: LocatedObject[] = [];
  const ns = namespace === undefined ? namespaceObject(project) : undefined;
  // First, so that apply creates the namespace before what goes into it.
  if (ns) objects.push({ object: ns, ctx: fileCtx, namePath: typeof value.name === 'string' ? ['name'] : [] });
  const stores = collect(problems, () => projectStores({ ctx: fileCtx, project, namespace: projectNs, value, dir, host, vars }));
  for (const l of stores?.objects ?? []) objects.push(l);
  const links: LinkAlias[] = [];
  for (const [name, s] of all) links.push(...(collect(problems, () => linkAliases(serviceCtx(name), name, s, new Set(all.keys()))) ?? []));
  for (const [name, s] of all) {
    if (badNames.has(name)) continue;
    const ctx = serviceCtx(name);
    const read = <T>(reader: () => T): T | undefined => collect(problems, reader);
    const env = read(() => serviceEnvironment(ctx, ['services', name], s as unknown as Record<string, unknown>, dir, host, vars));
    const input: ServiceInput = { ctx, name, s, env, services: all, project, namespace: projectNs, networks, topology, labelNetworks, volumes: value.volumes as ComposeTopVolumes, stores: stores?.mounts, dir, read, warnings };
    const translated = serviceObject(input, problems);
    if (!translated) continue;
    const { workload, networking, ports } = translated;
    const checked = objectCheck(ctx, name, workload);
    if (checked.length) {
      problems.push(...checked);
      continue;
    }
    objects.push({ object: workload, ctx, namePath: ['services', name], nameIsKey: true });
    if (networking.hostNetwork) continue; // on the host's network, as in compose: no project name
    const aliases = [...networking.aliases, ...links.filter((l) => l.service === name)];
    const located = read(() => serviceObjects({ ctx, namespace: projectNs, project, service: name, ports, aliases, serviceNames: new Set(all.keys()) }));
    for (const l of located ?? []) objects.push({ ...l, ctx });
  }
  const graph = new Map([...all.keys()].map((name) => [name, dependencyNames(all.get(name)!).filter((d) => all.has(d))]));
  const cycle = dependencyCycle(graph);
  if (cycle) problems.push(problemOf(manifestError(serviceCtx(cycle[0]!), ['services', cycle[0]!, 'depends_on'], `forms a cycle: ${cycle.join(' → ')}`)));
  return { objects, problems, warnings };
}

/**
 * Which service joined which network, for the nodes' isolation (compose-topology.ts): no topology
 * when every service is on one network (nothing to isolate), no network labels either unless
 * that network is internal. A service whose networking has a problem is left out here:
 * serviceObject reports it.
 */
function projectTopology(
  ctx: DocContext,
  all: ReadonlyMap<string, Service>,
  networks: ReadonlyMap<string, { internal: boolean }>,
): { topology: string | undefined; labelNetworks: boolean } {
  const topology = new Map<string, string[]>();
  for (const [name, s] of all) {
    try {
      const net = serviceNetworking(ctx, ['services', name], s, networks);
      // By the objects' name: the node finds the other services' Services by it (compose-isolation.ts).
      if (!net.hostNetwork) topology.set(serviceObjectName(name), net.networks);
    } catch {
      continue;
    }
  }
  const used = new Set([...topology.values()].flat());
  const several = used.size > 1;
  return { topology: several ? formatTopology(topology) : undefined, labelNetworks: several || [...used].some((n) => networks.get(n)?.internal) };
}

function dependencyNames(s: Service): string[] {
  const d = s.depends_on;
  if (!d) return [];
  return Array.isArray(d) ? d.filter((x): x is string => typeof x === 'string') : Object.keys(d);
}
