/**
 * Kubernetes objects (apps/v1 Deployment and DaemonSet, batch/v1 Job and CronJob (k8s-batch.ts),
 * v1 ConfigMap, Secret and List) → Grove resources. The schema has checked shapes and types by
 * the time a translator runs; what is left here are the rules a schema cannot say (quantities,
 * selectors, base64, duplicates).
 */
import { formatImageRef, parseImageRef } from '../image-ref.js';
import type { App, AppliedResource, ConfigMap, ContainerResources, ContainerTemplate, EnvVar, PodTemplate, ResourceMeta, Secret, SecretType, UpdateStrategy } from '../model.js';
import { batchApp, type K8sBatch } from './k8s-batch.js';
import { parseDeviceList } from '../device-spec.js';
import { parseCpus } from '../quantity.js';
import { expandK8sVars } from './k8s-expand.js';
import { initContainers } from './k8s-init.js';
import { containerProbes, type K8sContainerProbes } from './k8s-probes.js';
import { parseK8sMemory } from './k8s-quantity.js';
import { checkPodMounts, containerEnvFrom, containerMounts, envValueFrom, podVolumes, type K8sVolume } from './k8s-volumes.js';
import { atField, manifestError, quote, type DocContext, type FieldPath, type LocatedResource, type ManifestDocument } from './location.js';
import type { ManifestValidator } from './validate.js';
import { checkHostPorts, k8sPorts, type K8sPort } from './manifest-ports.js';
import { effectiveSeccomp, seccompChoice, type K8sSeccompProfile, type SeccompChoice } from './k8s-seccomp.js';
import { clipText } from '../quote.js';
import { AUTO_ROLLBACK_ANNOTATION, DEVICES_ANNOTATION } from '../objects/annotations.js';

/** The runtime refuses smaller memory limits (agent/src/runtime/oci-config.ts MIN_MEMORY_BYTES). */
const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;

const SUPPORTED: Record<string, string> = { Deployment: 'apps/v1', DaemonSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1', ConfigMap: 'v1', Secret: 'v1' };

/** Kinds people will try: said to be "not supported yet" rather than unknown. */
const KNOWN_KINDS = new Set([
  'StatefulSet', 'ReplicaSet', 'Pod', 'Service', 'Ingress', 'Namespace', 'PersistentVolume',
  'PersistentVolumeClaim', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding',
  'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'ReplicationController', 'Endpoints',
  'EndpointSlice', 'StorageClass', 'LimitRange', 'ResourceQuota', 'PriorityClass', 'CustomResourceDefinition',
]);

// Shapes after schema validation (only what the translators read).
interface K8sMeta { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface K8sContainer extends K8sContainerProbes {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts?: unknown[];
  envFrom?: unknown[];
  workingDir?: string;
  imagePullPolicy?: ContainerTemplate['imagePullPolicy'];
  resources?: { limits?: { memory?: string | number; cpu?: string | number }; requests?: { memory?: string | number; cpu?: string | number } };
  securityContext?: { privileged?: boolean; seccompProfile?: K8sSeccompProfile };
  ports?: K8sPort[];
}
interface K8sStrategy {
  type?: UpdateStrategy['type'];
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}
interface K8sPodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: K8sContainer[];
    initContainers?: K8sContainer[];
    nodeSelector?: Record<string, string>;
    hostNetwork?: boolean;
    terminationGracePeriodSeconds?: number;
    restartPolicy?: PodTemplate['restartPolicy'];
    securityContext?: { supplementalGroups?: number[]; seccompProfile?: K8sSeccompProfile };
    volumes?: K8sVolume[];
  };
}
interface K8sWorkload {
  kind: 'Deployment' | 'DaemonSet';
  metadata: K8sMeta;
  spec: {
    replicas?: number;
    strategy?: K8sStrategy;
    updateStrategy?: K8sStrategy;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    selector: { matchLabels: Record<string, string> };
    template: K8sPodTemplate;
  };
}
interface K8sConfig { kind: 'ConfigMap' | 'Secret'; metadata: K8sMeta; data?: Record<string, string>; stringData?: Record<string, string>; type?: string; immutable?: boolean }

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `Deployment "web"`, from whatever the raw document says (it is not validated yet). */
function labelFor(kind: string, value: Record<string, unknown>): string {
  const name = isObject(value.metadata) ? value.metadata.name : undefined;
  return typeof name === 'string' && name ? `${kind} ${quote(name)}` : kind;
}

function meta(doc: ManifestDocument, m: K8sMeta): ResourceMeta {
  return {
    name: m.name,
    labels: { ...m.labels },
    annotations: { ...m.annotations },
    source: { format: 'kubernetes', file: doc.file, document: doc.index },
  };
}

function memory(ctx: DocContext, path: FieldPath, value: string | number): number {
  return atField(ctx, path, (field) => parseK8sMemory(value, field));
}

function resources(ctx: DocContext, path: FieldPath, c: K8sContainer): ContainerResources {
  const out: ContainerResources = {};
  const { limits = {}, requests = {} } = c.resources ?? {};
  if (limits.memory !== undefined) {
    out.memoryBytes = memory(ctx, [...path, 'limits', 'memory'], limits.memory);
    if (out.memoryBytes < MIN_MEMORY_LIMIT_BYTES) throw manifestError(ctx, [...path, 'limits', 'memory'], `${quote(limits.memory)} is below the minimum of 6Mi`);
  }
  if (limits.cpu !== undefined) out.cpus = atField(ctx, [...path, 'limits', 'cpu'], (f) => parseCpus(limits.cpu!, f));
  // Kubernetes defaults a missing request to the limit; doing it here keeps the scheduler simple.
  out.requestMemoryBytes = requests.memory !== undefined ? memory(ctx, [...path, 'requests', 'memory'], requests.memory) : out.memoryBytes;
  out.requestCpus = requests.cpu !== undefined ? atField(ctx, [...path, 'requests', 'cpu'], (f) => parseCpus(requests.cpu!, f)) : out.cpus;
  if (out.memoryBytes !== undefined && out.requestMemoryBytes! > out.memoryBytes) {
    throw manifestError(ctx, [...path, 'requests', 'memory'], `${quote(requests.memory)} must not be more than the limit ${quote(limits.memory)}`);
  }
  if (out.cpus !== undefined && out.requestCpus! > out.cpus) {
    throw manifestError(ctx, [...path, 'requests', 'cpu'], `${quote(requests.cpu)} must not be more than the limit ${quote(limits.cpu)}`);
  }
  if (out.requestMemoryBytes === undefined) delete out.requestMemoryBytes;
  if (out.requestCpus === undefined) delete out.requestCpus;
  return out;
}

function container(ctx: DocContext, path: FieldPath, c: K8sContainer, podSeccomp: SeccompChoice): ContainerTemplate {
  const image = atField(ctx, [...path, 'image'], () => formatImageRef(parseImageRef(c.image)));
  // Kubernetes expands $(VAR) in env values (from earlier variables) and in command/args.
  const env: EnvVar[] = [];
  const known = new Map<string, string>();
  for (const [i, e] of (c.env ?? []).entries()) {
    const valueFrom = envValueFrom(ctx, [...path, 'env', i], e);
    // Resolved on the node at start: later $(NAME) references to it stay as written.
    if (valueFrom) {
      env.push({ name: e.name, value: '', valueFrom });
      continue;
    }
    const value = expandK8sVars(e.value ?? '', known);
    env.push({ name: e.name, value });
    known.set(e.name, value);
  }
  const out: ContainerTemplate = { name: c.name, image, env, resources: resources(ctx, [...path, 'resources'], c) };
  if (c.command) out.command = c.command.map((s) => expandK8sVars(s, known));
  if (c.args) out.args = c.args.map((s) => expandK8sVars(s, known));
  if (c.workingDir !== undefined) out.workingDir = c.workingDir;
  if (c.imagePullPolicy !== undefined) out.imagePullPolicy = c.imagePullPolicy;
  const probes = containerProbes(ctx, path, c);
  if (probes) out.probes = probes;
  if (c.securityContext?.privileged === true) out.privileged = true;
  const seccomp = effectiveSeccomp(seccompChoice(ctx, [...path, 'securityContext', 'seccompProfile'], c.securityContext?.seccompProfile), podSeccomp);
  if (seccomp) out.seccompProfile = seccomp;
  const mounts = containerMounts(ctx, path, c.volumeMounts);
  if (mounts) out.volumeMounts = mounts;
  const envFrom = containerEnvFrom(ctx, path, c.envFrom);
  if (envFrom) out.envFrom = envFrom;
  if (c.ports?.length) out.ports = k8sPorts(ctx, [...path, 'ports'], c.ports);
  return out;
}

/** The selector must select the pods the template makes (as in Kubernetes). */
function checkSelector(ctx: DocContext, selectorPath: FieldPath, matchLabels: Record<string, string>, templateLabels: Record<string, string>): void {
  for (const [key, value] of Object.entries(matchLabels)) {
    if (templateLabels[key] !== value) {
      throw manifestError(ctx, selectorPath, `${clipText(`${key}=${value}`)} does not match spec.template.metadata.labels (the selector must select the template's labels)`);
    }
  }
}

/** A pod template (at `templatePath`) → the model's, with the restart policy the kind implies. */
function podTemplate(ctx: DocContext, templatePath: FieldPath, template: K8sPodTemplate): PodTemplate {
  const specPath = [...templatePath, 'spec'];
  const podSeccomp = seccompChoice(ctx, [...specPath, 'securityContext', 'seccompProfile'], template.spec.securityContext?.seccompProfile);
  const seen = new Set<string>();
  const containers = template.spec.containers.map((c, i) => {
    if (seen.has(c.name)) throw manifestError(ctx, [...specPath, 'containers', i, 'name'], `${quote(c.name)} is used by another container of this pod`);
    seen.add(c.name);
    return container(ctx, [...specPath, 'containers', i], c, podSeccomp);
  });
  checkHostPorts(ctx, [...specPath, 'containers'], containers);
  const out: PodTemplate = {
    labels: { ...template.metadata?.labels },
    annotations: { ...template.metadata?.annotations },
    nodeSelector: { ...template.spec.nodeSelector },
    restartPolicy: template.spec.restartPolicy ?? 'Always',
    hostNetwork: template.spec.hostNetwork ?? false,
    containers,
  };
  const inits = initContainers(ctx, specPath, template.spec.initContainers, containers, (path, c) => container(ctx, path, c, podSeccomp));
  if (inits) out.initContainers = inits;
  const grace = template.spec.terminationGracePeriodSeconds;
  if (grace !== undefined) out.terminationGracePeriodSeconds = grace;
  const groups = template.spec.securityContext?.supplementalGroups;
  if (groups?.length) out.supplementalGroups = groups.map(String);
  const devices = template.metadata?.annotations?.[DEVICES_ANNOTATION];
  if (devices !== undefined) {
    const at = [...templatePath, 'metadata', 'annotations', DEVICES_ANNOTATION];
    const list = atField(ctx, at, (f) => parseDeviceList(devices, f));
    if (list.length > 0) out.devices = list;
  }
  const volumes = podVolumes(ctx, specPath, template.spec.volumes);
  if (volumes) out.volumes = volumes;
  checkPodMounts(ctx, specPath, out);
  return out;
}

/** Pod template annotation: host devices for every container of the pod, without privileged (objects/annotations.ts). */
export { DEVICES_ANNOTATION };

function workload(ctx: DocContext, base: FieldPath, w: K8sWorkload): App {
  checkSelector(ctx, [...base, 'spec', 'selector', 'matchLabels'], w.spec.selector.matchLabels, w.spec.template.metadata?.labels ?? {});
  const app: App = {
    kind: 'App',
    meta: meta(ctx.doc, w.metadata),
    spec: { kind: w.kind, template: podTemplate(ctx, [...base, 'spec', 'template'], w.spec.template) },
  };
  if (w.kind === 'Deployment') app.spec.replicas = w.spec.replicas ?? 1;
  Object.assign(app.spec, rolloutSettings(ctx, base, w));
  return app;
}

export { AUTO_ROLLBACK_ANNOTATION };

/** strategy / updateStrategy, history, deadline, and Grove's auto-rollback annotation. */
function rolloutSettings(ctx: DocContext, base: FieldPath, w: K8sWorkload): Partial<App['spec']> {
  const out: Partial<App['spec']> = {};
  const raw = w.kind === 'Deployment' ? w.spec.strategy : w.spec.updateStrategy;
  // `strategy: {}` and `type: RollingUpdate` without parameters mean the defaults: nothing to store.
  if (raw && (raw.type !== undefined && raw.type !== 'RollingUpdate' || raw.rollingUpdate?.maxSurge !== undefined || raw.rollingUpdate?.maxUnavailable !== undefined)) {
    const strategy: UpdateStrategy = { type: raw.type ?? 'RollingUpdate' };
    if (raw.rollingUpdate?.maxSurge !== undefined) strategy.maxSurge = raw.rollingUpdate.maxSurge;
    if (raw.rollingUpdate?.maxUnavailable !== undefined) strategy.maxUnavailable = raw.rollingUpdate.maxUnavailable;
    out.strategy = strategy;
  }
  if (w.spec.revisionHistoryLimit !== undefined) out.revisionHistoryLimit = w.spec.revisionHistoryLimit;
  if (w.spec.progressDeadlineSeconds !== undefined) out.progressDeadlineSeconds = w.spec.progressDeadlineSeconds;
  const auto = w.metadata.annotations?.[AUTO_ROLLBACK_ANNOTATION];
  if (auto !== undefined) {
    if (auto !== 'true' && auto !== 'false') throw manifestError(ctx, [...base, 'metadata', 'annotations', AUTO_ROLLBACK_ANNOTATION], `must be "true" or "false", got ${quote(auto)}`);
    out.autoRollback = auto === 'true';
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function secretData(ctx: DocContext, base: FieldPath, s: K8sConfig): Record<string, string> {
  const data: Record<string, string> = {};
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const [key, encoded] of Object.entries(s.data ?? {})) {
    // Line breaks are allowed, as Go's decoder allows them (long values get wrapped in YAML).
    const compact = encoded.replace(/[\r\n]/g, '');
    if (!BASE64.test(compact)) throw manifestError(ctx, [...base, 'data', key], 'is not valid base64 (put plain text under stringData)');
    try {
      data[key] = utf8.decode(Buffer.from(compact, 'base64'));
    } catch (err) {
      throw manifestError(ctx, [...base, 'data', key], 'is not UTF-8 text: binary Secret values are not supported yet', { cause: err });
    }
  }
  // stringData wins over data for the same key, as in Kubernetes.
  return { ...data, ...s.stringData };
}

function one(doc: ManifestDocument, value: Record<string, unknown>, base: FieldPath, validator: ManifestValidator): LocatedResource<AppliedResource> {
  const kind = value.kind;
  const kindCtx: DocContext = { doc };
  if (typeof kind !== 'string') {
    throw manifestError(kindCtx, [...base, 'kind'], kind === undefined ? 'required field is missing (every Kubernetes object has apiVersion and kind)' : 'must be a string', {
      linePath: kind === undefined ? base : [...base, 'kind'],
    });
  }
  const ctx: DocContext = { doc, label: labelFor(kind, value), sensitive: kind === 'Secret' };
  // Only reachable for a List's items: kubernetesResources unwraps the document's own List.
  if (kind === 'List') throw manifestError(ctx, [...base, 'kind'], 'a List inside a List is not supported');
  const apiVersion = SUPPORTED[kind];
  if (!apiVersion) {
    const why = KNOWN_KINDS.has(kind) ? 'is not supported yet' : 'is not a kind Grove knows';
    throw manifestError(ctx, base, `kind ${kind} ${why} (supported: Deployment, DaemonSet, Job, CronJob, ConfigMap, Secret)`, { linePath: [...base, 'kind'] });
  }
  if (value.apiVersion !== apiVersion) {
    const missing = value.apiVersion === undefined;
    const message = missing ? `required field is missing (${kind} is ${apiVersion})` : `${quote(value.apiVersion)} is not supported: ${kind} is ${apiVersion}`;
    throw manifestError(ctx, [...base, 'apiVersion'], message, { linePath: missing ? base : [...base, 'apiVersion'] });
  }
  validator.check(kind as 'Deployment', value, ctx, base);
  const located = (resource: AppliedResource) => ({ resource, ctx, namePath: [...base, 'metadata', 'name'] });
  if (kind === 'Deployment' || kind === 'DaemonSet') return located(workload(ctx, base, value as unknown as K8sWorkload));
  if (kind === 'Job' || kind === 'CronJob') {
    const b = value as unknown as K8sBatch;
    return located(batchApp(ctx, base, b, meta(doc, b.metadata), { podTemplate, checkSelector }));
  }
  const config = value as unknown as K8sConfig;
  // Only when set: objects without them stay as they were (and compare equal on re-apply).
  const immutable = config.immutable ? { immutable: true } : {};
  if (kind === 'ConfigMap') return located({ kind: 'ConfigMap', meta: meta(doc, config.metadata), data: { ...config.data }, ...immutable } satisfies ConfigMap);
  const type = config.type && config.type !== 'Opaque' ? { type: config.type as SecretType } : {};
  return located({ kind: 'Secret', meta: meta(doc, config.metadata), data: secretData(ctx, base, config), ...type, ...immutable } satisfies Secret);
}

/** The resources of one Kubernetes document: one object, or the items of a List. */
export function kubernetesResources(doc: ManifestDocument, value: Record<string, unknown>, validator: ManifestValidator): LocatedResource<AppliedResource>[] {
  if (value.kind !== 'List') return [one(doc, value, [], validator)];
  const ctx: DocContext = { doc, label: 'List' };
  if (value.apiVersion !== 'v1') throw manifestError(ctx, ['apiVersion'], `${quote(value.apiVersion)} is not supported: List is v1`);
  for (const key of Object.keys(value)) {
    if (!['apiVersion', 'kind', 'metadata', 'items'].includes(key)) throw manifestError(ctx, [key], 'unknown field', { at: 'key' });
  }
  if (!Array.isArray(value.items)) throw manifestError(ctx, ['items'], 'must be a list');
  return value.items.map((item, i) => {
    if (!isObject(item)) throw manifestError(ctx, ['items', i], 'must be a mapping (a Kubernetes object)');
    return one(doc, item, ['items', i], validator);
  });
}
