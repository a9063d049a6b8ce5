/**
 * The one place that reads a pod target's fields (schema 2: `WirePodTarget`, its `spec` a
 * Kubernetes PodSpec, Grove's extensions in grove.io/ annotations). Planners, status, prober and
 * runtimes ask these accessors, in the agent's own terms (numbers, filled-in defaults), so the
 * wire shape is read once, here. The container's runtime spec is built from them in
 * container-run-spec.ts.
 *
 * Annotations and quantities are parsed once per pod (or container) object and cached by
 * identity: a target's objects never change after decoding, and the plan runs every round.
 */
import { containerPortNumber } from '../../../../src/core/objects/named-ports.js';
import type { ReferencingPod } from '../../../../src/core/config-refs.js';
import type { AppDependency, ContainerPort, ContainerProbes, CronSpec, EnvFromSource, EnvVar, EnvVarSource, JobSpec, Probe as ModelProbe, ProjectedSource, RestartPolicy, Volume } from '../../../../src/core/resolved-pod.js';
import { readGroveAnnotations, type GroveSettings } from '../../../../src/core/objects/annotations.js';
import type { Container, Probe } from '../../../../src/core/objects/pod-container.js';
import type { Volume as PodVolume } from '../../../../src/core/objects/pod-volumes.js';
import { containerResources, type ResourceNumbers } from '../../../../src/core/objects/resources.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { parseK8sMemory } from '../../../../src/core/manifests/k8s-quantity.js';
import type { DeviceMapping } from '../../../../src/core/device-spec.js';
import type { SeccompProfileRef } from '../../../../src/core/seccomp-ref.js';
import type { UpdatePolicy } from '../../../../src/core/update-policy.js';
import type { SandboxPortMapping, SandboxRequest } from '../../runtime/sandbox-model.js';

export type { Container, WirePodTarget };

const NONE: readonly never[] = [];

/** The namespace of pods that carry none (every 0.1 pod): their containers keep 0.1's names. */
export const DEFAULT_NAMESPACE = 'default';

function cached<K extends object, V>(read: (k: K) => V): (k: K) => V {
  const cache = new WeakMap<K, V>();
  return (k) => {
    if (cache.has(k)) return cache.get(k) as V;
    const v = read(k);
    cache.set(k, v);
    return v;
  };
}

/* ------------------------------------------------------------------ identity */

/** `name` qualified by `namespace` outside the default one ("_" is in no Kubernetes name, so keys never collide). */
export const inNamespace = (namespace: string, name: string): string => (namespace === DEFAULT_NAMESPACE ? name : `${namespace}_${name}`);

/**
 * The pod's key on the node: what its containers (`<key>_<container>`), sandbox, volume
 * directory, failures and Job records are named by. Its name in the default namespace (as 0.1
 * named them, so 0.1's containers are adopted), "<namespace>_<name>" in any other.
 */
export const podKey = (pod: WirePodTarget): string => inNamespace(pod.namespace, pod.name);

/**
 * The workload the pod belongs to (its top-level owner; the pod itself for a bare pod): update
 * windows, locks, start order and /etc/hosts names go by it, as by the 0.1 app. Qualified by
 * the namespace outside the default one, as podKey, so two namespaces' workloads of one name
 * never share a lock or a hold.
 */
export const podApp = (pod: WirePodTarget): string => inNamespace(pod.namespace, pod.owner?.name ?? pod.name);

/** What a pod's status report names it by: name, namespace, uid, its workload (0.1's `app`), template. */
export function podStatusIdentity(pod: WirePodTarget): { name: string; namespace: string; uid: string; app: string; templateHash: string } {
  return { name: pod.name, namespace: pod.namespace, uid: pod.uid, app: pod.owner?.name ?? pod.name, templateHash: pod.templateHash };
}

/** The podKey of the pod a status report is of. */
export const statusKey = (s: { name: string; namespace?: string }): string => inNamespace(s.namespace ?? DEFAULT_NAMESPACE, s.name);

/* ---------------------------------------------------------------- pod fields */

export const restartPolicyOf = (pod: WirePodTarget): RestartPolicy => pod.spec.restartPolicy ?? 'Always';

export const onHostNetwork = (pod: WirePodTarget): boolean => pod.spec.hostNetwork === true;

/** SIGTERM → SIGKILL delay of the pod's containers; undefined = the agent's default. */
export const graceSecondsOf = (pod: WirePodTarget): number | undefined => pod.spec.terminationGracePeriodSeconds;

/** The main containers, in order. */
export const mainContainers = (pod: WirePodTarget): readonly Container[] => pod.spec.containers;

/** The init containers, in order (none when the pod has none). */
export const initContainersOf = (pod: WirePodTarget): readonly Container[] => pod.spec.initContainers ?? NONE;

/** Every container the pod may have, init containers first: what the planner must not remove. */
export function allContainersOf(pod: WirePodTarget): readonly Container[] {
  const inits = pod.spec.initContainers;
  return inits?.length ? [...inits, ...pod.spec.containers] : pod.spec.containers;
}

/** What the pod's grove.io/ annotations ask (the server merged its workload's in). */
export const groveSettingsOf = cached((pod: WirePodTarget): GroveSettings => readGroveAnnotations(pod.annotations));

export const updatePolicyOf = (pod: WirePodTarget): UpdatePolicy | undefined => groveSettingsOf(pod).update;

/** Same-node start order (compose depends_on): workloads of the pod's namespace. */
export const dependenciesOf = (pod: WirePodTarget): readonly AppDependency[] => groveSettingsOf(pod).dependsOn ?? NONE;

/** Host devices every container of the pod gets (grove.io/devices). */
export const devicesOf = (pod: WirePodTarget): readonly DeviceMapping[] => groveSettingsOf(pod).devices ?? NONE;

/** Supplementary groups of every container: securityContext's gids and fsGroup (as the kubelet adds it), then grove.io/group-add's names. */
export const supplementalGroupsOf = cached((pod: WirePodTarget): readonly string[] => {
  const sc = pod.spec.securityContext;
  const gids = [...new Set([...(sc?.supplementalGroups ?? []), ...(sc?.fsGroup !== undefined ? [sc.fsGroup] : [])])].map(String);
  const names = groveSettingsOf(pod).groupNames ?? [];
  return gids.length + names.length > 0 ? [...gids, ...names] : NONE;
});

/** The host namespaces the pod's containers share instead of their own (hostPID, hostIPC). */
export function hostNamespacesOf(pod: WirePodTarget): { hostPID: boolean; hostIPC: boolean } {
  return { hostPID: pod.spec.hostPID === true, hostIPC: pod.spec.hostIPC === true };
}

/** The pod's sysctls as the OCI spec's map (the rules admitted only namespaced ones, each once). */
export const sysctlsOf = cached((pod: WirePodTarget): Readonly<Record<string, string>> => {
  const list = pod.spec.securityContext?.sysctls ?? [];
  return Object.fromEntries(list.map((s) => [s.name, s.value]));
});

/** The group the pod's volumes are given (fsGroup) and how eagerly; undefined: volumes keep their owners. */
export function fsGroupOf(pod: WirePodTarget): { gid: number; onRootMismatch: boolean } | undefined {
  const sc = pod.spec.securityContext;
  return sc?.fsGroup === undefined ? undefined : { gid: sc.fsGroup, onRootMismatch: sc.fsGroupChangePolicy === 'OnRootMismatch' };
}

/** Job / CronJob pods: the counts the agent runs, Kubernetes' defaults filled in. */
export const jobOf = cached((pod: WirePodTarget): JobSpec | undefined => {
  const j = pod.job;
  if (!j) return undefined;
  const out: JobSpec = { completions: j.completions ?? 1, parallelism: j.parallelism ?? 1, backoffLimit: j.backoffLimit ?? 6 };
  if (j.activeDeadlineSeconds !== undefined) out.activeDeadlineSeconds = j.activeDeadlineSeconds;
  if (j.ttlSecondsAfterFinished !== undefined) out.ttlSecondsAfterFinished = j.ttlSecondsAfterFinished;
  return out;
});

/** CronJob pods: the schedule the agent fires, Kubernetes' defaults filled in. */
export const cronOf = cached((pod: WirePodTarget): CronSpec | undefined => {
  const c = pod.cron;
  if (!c) return undefined;
  return {
    schedule: c.schedule,
    ...(c.timeZone !== undefined ? { timeZone: c.timeZone } : {}),
    concurrencyPolicy: c.concurrencyPolicy ?? 'Allow',
    successfulJobsHistoryLimit: c.successfulJobsHistoryLimit ?? 3,
    failedJobsHistoryLimit: c.failedJobsHistoryLimit ?? 1,
    suspend: c.suspend ?? false,
    ...(c.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: c.startingDeadlineSeconds } : {}),
  };
});

function volume(v: PodVolume): Volume {
  const { name } = v;
  if (v.emptyDir) {
    const { medium, sizeLimit } = v.emptyDir;
    return { name, emptyDir: { ...(medium === 'Memory' ? { medium } : {}), ...(sizeLimit !== undefined ? { sizeLimitBytes: parseK8sMemory(sizeLimit, 'sizeLimit') } : {}) } };
  }
  if (v.hostPath) return { name, hostPath: { path: v.hostPath.path, ...(v.hostPath.type ? { type: v.hostPath.type } : {}) } };
  if (v.persistentVolumeClaim) return { name, persistentVolumeClaim: { ...v.persistentVolumeClaim } };
  if (v.configMap) return { name, configMap: structuredClone(v.configMap) };
  if (v.downwardAPI) return { name, downwardAPI: { ...structuredClone(v.downwardAPI), items: structuredClone(v.downwardAPI.items ?? []) } };
  if (v.projected) {
    const sources = (v.projected.sources ?? []).map((s): ProjectedSource => {
      if (s.configMap) return { configMap: structuredClone(s.configMap) };
      if (s.secret) return { secret: structuredClone(s.secret) };
      return { downwardAPI: { items: structuredClone(s.downwardAPI?.items ?? []) } };
    });
    return { name, projected: { sources, ...(v.projected.defaultMode !== undefined ? { defaultMode: v.projected.defaultMode } : {}) } };
  }
  return { name, secret: structuredClone(v.secret!) };
}

/** The pod's volumes, sizes in bytes (the decoder has checked that they parse). */
export const volumesOf = cached((pod: WirePodTarget): readonly Volume[] => pod.spec.volumes?.map(volume) ?? NONE);

/* ---------------------------------------------------------- container fields */

/** The container's limits and requests in numbers (the decoder has checked that they parse). */
export const resourcesOf = cached((c: Container): ResourceNumbers => containerResources(c.resources));

function valueFrom(from: NonNullable<NonNullable<Container['env']>[number]['valueFrom']>): EnvVarSource {
  if (from.configMapKeyRef) return { configMapKeyRef: { ...from.configMapKeyRef } };
  if (from.fieldRef) return { fieldRef: { fieldPath: from.fieldRef.fieldPath } };
  if (from.resourceFieldRef) return { resourceFieldRef: { ...from.resourceFieldRef } };
  return { secretKeyRef: { ...from.secretKeyRef! } };
}

/** Variables with their values ("" for one read from a ConfigMap, a Secret or the downward API, as valueFrom resolves it). */
export const envOf = cached((c: Container): readonly EnvVar[] =>
  (c.env ?? []).map((e) => (e.valueFrom ? { name: e.name, value: '', valueFrom: valueFrom(e.valueFrom) } : { name: e.name, value: e.value ?? '' })),
);

/** Every key of a ConfigMap or Secret as variables (envFrom). */
export const envFromOf = cached((c: Container): readonly EnvFromSource[] =>
  (c.envFrom ?? []).map((f) => {
    const prefix = f.prefix !== undefined ? { prefix: f.prefix } : {};
    return f.configMapRef ? { configMapRef: { ...f.configMapRef }, ...prefix } : { secretRef: { ...f.secretRef! }, ...prefix };
  }),
);

/** The ConfigMaps and Secrets the pod references, in the shape src/core/config-refs.ts reads. */
export function referencesOf(pod: WirePodTarget): ReferencingPod {
  return { volumes: volumesOf(pod), containers: allContainersOf(pod).map((c) => ({ env: envOf(c), envFrom: envFromOf(c) })) };
}

export const portsOf = cached((c: Container): readonly ContainerPort[] => (c.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })));

function probe(p: Probe, c: Container): ModelProbe {
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
  if (p.exec) return { exec: { command: [...p.exec.command] }, ...timing };
  if (p.httpGet) {
    const { path, port: given, host, scheme, httpHeaders } = p.httpGet;
    // A named port is the container's (the object rules refused a name it lacks; 0 never answers).
    const port = containerPortNumber(c, given) ?? 0;
    // Absent = "/", as the kubelet asks.
    return { httpGet: { path: path ?? '/', port, ...(host !== undefined ? { host } : {}), ...(scheme === 'HTTPS' ? { scheme } : {}), ...(httpHeaders ? { httpHeaders } : {}) }, ...timing };
  }
  if (p.grpc) return { grpc: { port: p.grpc.port, ...(p.grpc.service ? { service: p.grpc.service } : {}) }, ...timing };
  return { tcpSocket: { ...p.tcpSocket!, port: containerPortNumber(c, p.tcpSocket!.port) ?? 0 }, ...timing };
}

/** The container's probes with every timing filled in; {} when it has none. */
export const probesOf = cached((c: Container): ContainerProbes => {
  const out: ContainerProbes = {};
  if (c.livenessProbe) out.liveness = probe(c.livenessProbe, c);
  if (c.readinessProbe) out.readiness = probe(c.readinessProbe, c);
  if (c.startupProbe) out.startup = probe(c.startupProbe, c);
  return out;
});

export function hasProbes(c: Container): boolean {
  return c.livenessProbe !== undefined || c.readinessProbe !== undefined || c.startupProbe !== undefined;
}

export const privilegedOf = (c: Container): boolean => c.securityContext?.privileged === true;

/** Who the container runs as: its securityContext's runAsUser, runAsGroup and runAsNonRoot, each else the pod's. */
export function identityOf(pod: WirePodTarget, c: Container): { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean } {
  const own = c.securityContext;
  const shared = pod.spec.securityContext;
  const out: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean } = {};
  const runAsUser = own?.runAsUser ?? shared?.runAsUser;
  const runAsGroup = own?.runAsGroup ?? shared?.runAsGroup;
  const runAsNonRoot = own?.runAsNonRoot ?? shared?.runAsNonRoot;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) out.runAsNonRoot = runAsNonRoot;
  return out;
}

/** The container's seccomp profile, else the pod's; undefined = RuntimeDefault (the runtime's default profile). */
export function seccompOf(pod: WirePodTarget, c: Container): SeccompProfileRef | undefined {
  const p = c.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile;
  if (!p || p.type === 'RuntimeDefault') return undefined;
  return p.type === 'Unconfined' ? { type: 'Unconfined' } : { type: 'Localhost', localhostProfile: p.localhostProfile! };
}

/** What the pod's sandbox is made from: its network, the host ports it publishes, its DNS settings. */
export function sandboxRequestOf(pod: WirePodTarget): SandboxRequest {
  const hostNetwork = onHostNetwork(pod);
  const { dnsPolicy, dnsConfig, hostname, subdomain, setHostnameAsFQDN } = pod.spec;
  const dns = { namespace: pod.namespace, policy: dnsPolicy ?? 'ClusterFirst', ...(dnsConfig ? { config: dnsConfig } : {}) } as const;
  const names = { hostname: hostname ?? pod.name, ...(subdomain ? { subdomain } : {}), ...(setHostnameAsFQDN ? { setHostnameAsFQDN } : {}) };
  const aliases = (pod.spec.hostAliases ?? []).map((a) => ({ ip: a.ip, hostnames: [...(a.hostnames ?? [])] }));
  return { pod: podKey(pod), ...names, app: podApp(pod), hostNetwork, ports: hostNetwork ? [] : hostPortsOf(pod), dns, ...(aliases.length ? { hostAliases: aliases } : {}) };
}

/** The host ports a pod publishes, CNI portmap's shape, sorted so equal sets compare equal. */
const hostPortsOf = (pod: WirePodTarget): SandboxPortMapping[] =>
  allContainersOf(pod)
    .flatMap((c) =>
      portsOf(c).flatMap((p) =>
        p.hostPort === undefined ? [] : [{ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const), ...(p.hostIP ? { hostIP: p.hostIP } : {}) }],
      ),
    )
    .sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol) || (a.hostIP ?? '').localeCompare(b.hostIP ?? ''));

/** A pod like `pod` under another name (a Job's run), optionally with another policy and fewer containers. */
export function podVariant(pod: WirePodTarget, name: string, change: { restartPolicy?: RestartPolicy; containers?: Container[] } = {}): WirePodTarget {
  const { job: _job, cron: _cron, ...base } = pod;
  const spec = { ...pod.spec };
  if (change.restartPolicy) spec.restartPolicy = change.restartPolicy;
  if (change.containers) spec.containers = change.containers;
  return { ...base, name, spec };
}
