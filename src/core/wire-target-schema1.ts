/**
 * PURE: a schema-1 node target (0.1's: Grove's own container model under `pods[]`) as the
 * schema-2 target it stands for (Kubernetes PodSpecs, Grove's extensions as grove.io/
 * annotations). The agent converts once, when it decodes a schema-1 target from the wire (a
 * server that still sends schema 1) or finds one in its store (an agent upgraded offline), and
 * from then on reads one shape only.
 *
 * The inverse of the 0.1 server's mapping (0.1's src/server/targets.ts, src/core/manifests/
 * kubernetes.ts): every field keeps its meaning; what a PodSpec has no field for becomes the
 * annotation 0.1 read it from (update windows and locks, devices, named groups, depends-on).
 * Pod and container identity (name, container names, templateHash) is kept as it is, and pods
 * are in namespace `default`, so nothing a 0.1 agent started is restarted. 0.1 stored env values,
 * command and args with `$(VAR)` expanded already: they are escaped (escapeK8sVars), so the
 * agent's expansion gives a restarted container exactly what 0.1 gave it.
 */
import { formatDeviceSpec } from './device-spec.js';
import { escapeK8sVars } from './manifests/k8s-expand.js';
import type { ContainerProbes, EnvVar as ModelEnvVar, Probe as ModelProbe, Volume as ModelVolume } from './resolved-pod.js';
import {
  DEPENDS_ON_ANNOTATION,
  DEVICES_ANNOTATION,
  formatDependsOn,
  GROUP_ADD_ANNOTATION,
  UPDATE_LOCK_MAX_ANNOTATION,
  UPDATE_WINDOW_ANNOTATION,
  UPDATE_WINDOW_DURATION_ANNOTATION,
  UPDATE_WINDOW_TIMEZONE_ANNOTATION,
} from './objects/annotations.js';
import type { Container, EnvVar, Probe, ResourceList, ResourceRequirements, SecurityContext } from './objects/pod-container.js';
import type { PodSpec } from './objects/pod.js';
import type { Volume } from './objects/pod-volumes.js';
import type { WirePodTarget } from './objects/wire.js';
import type { UpdatePolicy } from './update-policy.js';
import type { ContainerTarget, PodTarget } from './wire-types.js';

/** The namespace every 0.1 pod belongs to. */
export const SCHEMA1_NAMESPACE = 'default';

/** The synthetic uid of a 0.1 object (0.1 had none): stable, and never a real object's UUID. */
export const schema1Uid = (name: string): string => `0.1:${name}`;

function env(list: readonly ModelEnvVar[]): EnvVar[] {
  return list.map((e) => (e.valueFrom ? { name: e.name, value: '', valueFrom: structuredClone(e.valueFrom) } : { name: e.name, value: escapeK8sVars(e.value) }));
}

function resources(r: ContainerTarget['resources']): ResourceRequirements | undefined {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  // Plain numbers as Kubernetes quantities: bytes and cores read back exactly (objects/resources.ts).
  if (r.memoryBytes !== undefined) limits.memory = String(r.memoryBytes);
  if (r.cpus !== undefined) limits.cpu = String(r.cpus);
  if (r.pidsLimit !== undefined) limits['grove.io/pids'] = String(r.pidsLimit);
  if (r.requestMemoryBytes !== undefined) requests.memory = String(r.requestMemoryBytes);
  if (r.requestCpus !== undefined) requests.cpu = String(r.requestCpus);
  const out: ResourceRequirements = {};
  if (Object.keys(limits).length > 0) out.limits = limits;
  if (Object.keys(requests).length > 0) out.requests = requests;
  return Object.keys(out).length > 0 ? out : undefined;
}

function probe(p: ModelProbe): Probe {
  const { initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold, successThreshold } = p;
  const timing = { initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold, successThreshold };
  if ('exec' in p) return { exec: { command: [...p.exec.command] }, ...timing };
  if ('httpGet' in p) return { httpGet: structuredClone(p.httpGet), ...timing };
  // Schema 1 never carried grpc probes (wire-probes.ts decodes exec, httpGet, tcpSocket only).
  if ('grpc' in p) return { grpc: { ...p.grpc }, ...timing };
  return { tcpSocket: { ...p.tcpSocket }, ...timing };
}

function probes(p: ContainerProbes | undefined): Partial<Pick<Container, 'livenessProbe' | 'readinessProbe' | 'startupProbe'>> {
  const out: Partial<Pick<Container, 'livenessProbe' | 'readinessProbe' | 'startupProbe'>> = {};
  // Liveness and startup probes' successThreshold is 1 (0.1 refused anything else too).
  if (p?.liveness) out.livenessProbe = probe(p.liveness) as Container['livenessProbe'];
  if (p?.readiness) out.readinessProbe = probe(p.readiness);
  if (p?.startup) out.startupProbe = probe(p.startup) as Container['startupProbe'];
  return out;
}

function securityContext(c: ContainerTarget): SecurityContext | undefined {
  const out: SecurityContext = {};
  if (c.privileged) out.privileged = true;
  if (c.seccompProfile) out.seccompProfile = { ...c.seccompProfile };
  return Object.keys(out).length > 0 ? out : undefined;
}

export function containerFromSchema1(c: ContainerTarget): Container {
  const out: Container = { name: c.name, image: c.image };
  if (c.command) out.command = c.command.map(escapeK8sVars);
  if (c.args) out.args = c.args.map(escapeK8sVars);
  if (c.workingDir !== undefined) out.workingDir = c.workingDir;
  if (c.env.length > 0) out.env = env(c.env);
  if (c.envFrom?.length) out.envFrom = structuredClone(c.envFrom);
  const r = resources(c.resources);
  if (r) out.resources = r;
  // Absent meant IfNotPresent in schema 1 (`:latest` included); schema 2 would read absent as Always for it.
  out.imagePullPolicy = c.imagePullPolicy ?? 'IfNotPresent';
  if (c.volumeMounts?.length) out.volumeMounts = structuredClone(c.volumeMounts);
  if (c.ports?.length) out.ports = c.ports.map((p) => ({ ...p }));
  Object.assign(out, probes(c.probes));
  const sc = securityContext(c);
  if (sc) out.securityContext = sc;
  return out;
}

function volume(v: ModelVolume): Volume {
  if ('emptyDir' in v) {
    const { medium, sizeLimitBytes } = v.emptyDir;
    return { name: v.name, emptyDir: { ...(medium ? { medium } : {}), ...(sizeLimitBytes !== undefined ? { sizeLimit: String(sizeLimitBytes) } : {}) } };
  }
  return structuredClone(v) as Volume;
}

/** `n` seconds as a duration annotation reads it back ("0" is allowed for a lock maximum only). */
const seconds = (n: number): string => (n === 0 ? '0' : `${n}s`);

function updateAnnotations(update: UpdatePolicy | undefined, out: Record<string, string>): void {
  if (update?.window) {
    out[UPDATE_WINDOW_ANNOTATION] = update.window.schedule;
    out[UPDATE_WINDOW_DURATION_ANNOTATION] = seconds(update.window.durationSeconds);
    if (update.window.timeZone !== undefined) out[UPDATE_WINDOW_TIMEZONE_ANNOTATION] = update.window.timeZone;
  }
  if (update?.lockMaxSeconds !== undefined) out[UPDATE_LOCK_MAX_ANNOTATION] = seconds(update.lockMaxSeconds);
}

/** The workload kind a 0.1 pod belongs to, as far as its target tells (a DaemonSet's looks like a Deployment's). */
function ownerKind(p: PodTarget): 'Deployment' | 'Job' | 'CronJob' {
  return p.cron ? 'CronJob' : p.job ? 'Job' : 'Deployment';
}

export function podFromSchema1(p: PodTarget): WirePodTarget {
  const annotations: Record<string, string> = {};
  updateAnnotations(p.update, annotations);
  if (p.devices?.length) annotations[DEVICES_ANNOTATION] = p.devices.map(formatDeviceSpec).join(',');
  if (p.dependsOn?.length) annotations[DEPENDS_ON_ANNOTATION] = formatDependsOn(p.dependsOn);
  // Numeric groups are Kubernetes' supplementalGroups; names (compose group_add) Grove's annotation.
  const groups = p.supplementalGroups ?? [];
  const gids = groups.filter((g) => /^[0-9]+$/.test(g)).map(Number);
  const names = groups.filter((g) => !/^[0-9]+$/.test(g));
  if (names.length > 0) annotations[GROUP_ADD_ANNOTATION] = names.join(',');

  const spec: PodSpec = { containers: p.containers.map(containerFromSchema1), restartPolicy: p.restartPolicy };
  // Init containers had no probes in schema 1 either.
  if (p.initContainers?.length) spec.initContainers = p.initContainers.map(containerFromSchema1) as PodSpec['initContainers'];
  if (p.hostNetwork) spec.hostNetwork = true;
  if (p.terminationGracePeriodSeconds !== undefined) spec.terminationGracePeriodSeconds = p.terminationGracePeriodSeconds;
  if (p.volumes?.length) spec.volumes = p.volumes.map(volume);
  if (gids.length > 0) spec.securityContext = { supplementalGroups: gids };

  const out: WirePodTarget = {
    name: p.name,
    namespace: SCHEMA1_NAMESPACE,
    uid: schema1Uid(p.name),
    templateHash: p.templateHash,
    owner: { kind: ownerKind(p), name: p.app, uid: schema1Uid(p.app) },
    spec,
  };
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  if (p.job) out.job = { ...p.job };
  if (p.cron) out.cron = { ...p.cron };
  return out;
}
