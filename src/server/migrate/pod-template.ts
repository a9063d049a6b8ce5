/**
 * PURE: a 0.1 pod template → the Kubernetes PodTemplateSpec the objects' client writes for the
 * same manifest, so that re-applying the original manifest after the upgrade finds the migrated
 * template equal (after defaulting) and restarts nothing.
 *
 * 0.1 kept numbers where Kubernetes keeps quantities (bytes, cores): they are written back in
 * the spelling a manifest most likely used ("64Mi", "500m"); a manifest that spelled them
 * otherwise ("67108864") compares unequal once and rolls out one new ReplicaSet on re-apply.
 * 0.1 also stored env values, command and args with `$(VAR)` expanded: they are escaped
 * (escapeK8sVars) so the agent, which expands now, gives the containers what 0.1 gave them; a
 * manifest that used `$(VAR)` compares unequal once on re-apply, as for quantities.
 */
import { escapeK8sVars } from '../../core/manifests/k8s-expand.js';
import { DEPENDS_ON_ANNOTATION, DEVICES_ANNOTATION, GROUP_ADD_ANNOTATION, formatDependsOn } from '../../core/objects/annotations.js';
import type { Container, ResourceList } from '../../core/objects/pod-container.js';
import type { PodSpec, PodTemplateSpec } from '../../core/objects/pod.js';
import type { Volume } from '../../core/objects/pod-volumes.js';
import type { LegacyContainer, LegacyPodTemplate, LegacyProbe, LegacyResources, LegacyVolume } from './legacy-model.js';

const BINARY_UNITS: readonly [string, number][] = [
  ['Ti', 1024 ** 4],
  ['Gi', 1024 ** 3],
  ['Mi', 1024 ** 2],
  ['Ki', 1024],
];
const DECIMAL_UNITS: readonly [string, number][] = [
  ['T', 1e12],
  ['G', 1e9],
  ['M', 1e6],
  ['k', 1e3],
];

/** Bytes as a Kubernetes quantity: the largest unit that divides it exactly (binary first). */
export function bytesQuantity(bytes: number): string {
  for (const units of [BINARY_UNITS, DECIMAL_UNITS]) {
    for (const [suffix, size] of units) if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** Cores as a Kubernetes CPU quantity: whole cores as a number, anything else in millicores. */
export function cpuQuantity(cores: number): string {
  if (Number.isInteger(cores)) return String(cores);
  return `${Math.round(cores * 1000)}m`;
}

function resources(r: LegacyResources): Container['resources'] | undefined {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  if (r.memoryBytes !== undefined) limits.memory = bytesQuantity(r.memoryBytes);
  if (r.cpus !== undefined) limits.cpu = cpuQuantity(r.cpus);
  if (r.pidsLimit !== undefined) limits['grove.io/pids'] = String(r.pidsLimit);
  // 0.1 filled a missing request with the limit; Kubernetes' defaulting does the same, so a
  // request equal to its limit was (most likely) not written.
  if (r.requestMemoryBytes !== undefined && r.requestMemoryBytes !== r.memoryBytes) requests.memory = bytesQuantity(r.requestMemoryBytes);
  if (r.requestCpus !== undefined && r.requestCpus !== r.cpus) requests.cpu = cpuQuantity(r.requestCpus);
  const out: NonNullable<Container['resources']> = {};
  if (Object.keys(limits).length > 0) out.limits = limits;
  if (Object.keys(requests).length > 0) out.requests = requests;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** 0.1 kept probes in Kubernetes' shape with every timing filled in: they carry over as they are. */
function probe(p: LegacyProbe): never {
  return structuredClone(p) as never;
}

function container(c: LegacyContainer): Container {
  const out: Container = { name: c.name, image: c.image };
  if (c.command) out.command = c.command.map(escapeK8sVars);
  if (c.args) out.args = c.args.map(escapeK8sVars);
  if (c.workingDir !== undefined) out.workingDir = c.workingDir;
  if (c.env?.length) out.env = c.env.map((e) => (e.valueFrom ? { name: e.name, valueFrom: structuredClone(e.valueFrom) } : { name: e.name, value: escapeK8sVars(e.value) }));
  if (c.envFrom?.length) out.envFrom = structuredClone(c.envFrom);
  const res = resources(c.resources ?? {});
  if (res) out.resources = res;
  if (c.imagePullPolicy !== undefined) out.imagePullPolicy = c.imagePullPolicy;
  if (c.volumeMounts?.length) out.volumeMounts = structuredClone(c.volumeMounts);
  if (c.ports?.length) out.ports = structuredClone(c.ports);
  if (c.probes?.liveness) out.livenessProbe = probe(c.probes.liveness);
  if (c.probes?.readiness) out.readinessProbe = probe(c.probes.readiness);
  if (c.probes?.startup) out.startupProbe = probe(c.probes.startup);
  const security: NonNullable<Container['securityContext']> = {};
  if (c.privileged === true) security.privileged = true;
  if (c.seccompProfile) security.seccompProfile = structuredClone(c.seccompProfile);
  if (Object.keys(security).length > 0) out.securityContext = security;
  return out;
}

function volume(v: LegacyVolume): Volume {
  if ('emptyDir' in v) {
    const emptyDir: NonNullable<Volume['emptyDir']> = {};
    if (v.emptyDir.medium) emptyDir.medium = v.emptyDir.medium;
    if (v.emptyDir.sizeLimitBytes !== undefined) emptyDir.sizeLimit = bytesQuantity(v.emptyDir.sizeLimitBytes);
    return { name: v.name, emptyDir };
  }
  return structuredClone(v) as Volume;
}

const NUMERIC_GROUP = /^\d+$/;

/**
 * The template's metadata and spec. Grove settings 0.1 kept as fields become the grove.io/
 * annotations the objects use (devices, depends-on, group names), unless the template's own
 * annotations already say them (a Kubernetes manifest wrote grove.io/devices itself).
 */
export function podTemplateSpec(t: LegacyPodTemplate): PodTemplateSpec {
  const annotations: Record<string, string> = { ...t.annotations };
  if (t.devices?.length && annotations[DEVICES_ANNOTATION] === undefined) {
    annotations[DEVICES_ANNOTATION] = t.devices.map((d) => `${d.hostPath}:${d.containerPath}:${d.permissions}`).join(',');
  }
  if (t.dependsOn?.length && annotations[DEPENDS_ON_ANNOTATION] === undefined) annotations[DEPENDS_ON_ANNOTATION] = formatDependsOn(t.dependsOn);
  const groups = t.supplementalGroups ?? [];
  const named = groups.filter((g) => !NUMERIC_GROUP.test(g));
  if (named.length > 0 && annotations[GROUP_ADD_ANNOTATION] === undefined) annotations[GROUP_ADD_ANNOTATION] = named.join(',');

  const spec: PodSpec = { containers: t.containers.map(container) };
  if (t.initContainers?.length) spec.initContainers = t.initContainers.map(container) as never;
  if (Object.keys(t.nodeSelector ?? {}).length > 0) spec.nodeSelector = { ...t.nodeSelector };
  spec.restartPolicy = t.restartPolicy;
  if (t.hostNetwork) spec.hostNetwork = true;
  if (t.terminationGracePeriodSeconds !== undefined) spec.terminationGracePeriodSeconds = t.terminationGracePeriodSeconds;
  if (t.volumes?.length) spec.volumes = t.volumes.map(volume);
  const numeric = groups.filter((g) => NUMERIC_GROUP.test(g)).map(Number);
  if (numeric.length > 0) spec.securityContext = { supplementalGroups: numeric };

  const metadata: NonNullable<PodTemplateSpec['metadata']> = {};
  if (Object.keys(t.labels ?? {}).length > 0) metadata.labels = { ...t.labels };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return Object.keys(metadata).length > 0 ? { metadata, spec } : { spec };
}
