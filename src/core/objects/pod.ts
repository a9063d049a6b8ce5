/**
 * v1 Pod: the PodSpec every workload's template carries, the Pod object the scheduler binds
 * (`spec.nodeName`), and the PodStatus the nodes' reports fill in. The same PodSpec schema and
 * type travel to the node inside its target (wire.ts), so nothing is copied field by field.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { closed, count, dnsLabel, dnsSubdomain, IPV4, mergeList, nullableTimestamp, pattern, refTo, stringEnum, timestamp, unsupported, unsupportedFields } from './kit.js';
import { HostAliases } from './pod-runtime.js';
import { Conditions, Labels, ObjectMeta, TemplateMeta, typeMeta } from './meta.js';
import { Container, CONTAINER_LIMITS, InitContainer, PodSecurityContext } from './pod-container.js';
import { Volume, VOLUME_LIMITS } from './pod-volumes.js';
import { Tolerations } from './taints.js';
import { Affinity, TopologySpreadConstraints } from './affinity.js';
import { MAX_GRACE_SECONDS } from './limits.js';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export { MAX_GRACE_SECONDS };

/** Known pod spec fields Grove does not implement yet. */
export const UNSUPPORTED_POD_SPEC_FIELDS = [
  'ephemeralContainers',
  'hostUsers',
  'priorityClassName', 'priority', 'preemptionPolicy', 'runtimeClassName',
  'activeDeadlineSeconds', 'enableServiceLinks',
  'overhead', 'readinessGates', 'os', 'schedulingGates', 'resourceClaims', 'resources',
] as const;

/** How a pod's resolv.conf is made (docs/networking.md "## Cluster DNS"); absent = ClusterFirst. */
export const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
export type DnsPolicy = (typeof DNS_POLICIES)[number];

/** Kubernetes' PodDNSConfig, within kubelet's limits; nothing in it can start a new resolv.conf line. */
export const PodDnsConfig = closed({
  nameservers: Type.Optional(Type.Array(pattern(IPV4, 'must be an IPv4 address', { maxLength: 15 }), { maxItems: 3 })),
  searches: Type.Optional(Type.Array(pattern('^[A-Za-z0-9_](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?\\.?$', 'must be a domain name', { maxLength: 253 }), { maxItems: 32 })),
  options: Type.Optional(
    Type.Array(
      closed({
        name: pattern('^[A-Za-z0-9][-A-Za-z0-9_.]*$', 'must be a resolv.conf option name (e.g. ndots, edns0)', { maxLength: 64 }),
        value: Type.Optional(pattern('^[-A-Za-z0-9_.:]*$', 'must be an option value without spaces', { maxLength: 64 })),
      }),
      { maxItems: 16 },
    ),
  ),
});
export type PodDnsConfig = Static<typeof PodDnsConfig>;

export const PodSpec = closed(
  {
    containers: Type.Array(refTo(Container), { minItems: 1, maxItems: CONTAINER_LIMITS.containers, ...mergeList('name') }),
    /** Run one after another to completion before `containers` start. */
    initContainers: Type.Optional(Type.Array(InitContainer, { maxItems: CONTAINER_LIMITS.containers, ...mergeList('name') })),
    nodeSelector: Type.Optional(refTo(Labels)),
    /** Which node taints the pod tolerates (taints.ts): the scheduler's business, the node ignores them. */
    tolerations: Type.Optional(Tolerations),
    /** Node affinity, pod affinity and anti-affinity (affinity.ts): the scheduler's business. */
    affinity: Type.Optional(Affinity),
    /** How the scheduler spreads matching pods over topology domains (affinity.ts). */
    topologySpreadConstraints: Type.Optional(TopologySpreadConstraints),
    /** The node the pod is bound to: set by the scheduler (or written by hand, as in Kubernetes). */
    nodeName: Type.Optional(dnsSubdomain()),
    restartPolicy: Type.Optional(stringEnum(RESTART_POLICIES, { default: 'Always' })),
    /** Absent = false: the pod gets its own network namespace on the node's bridge. */
    hostNetwork: Type.Optional(Type.Boolean()),
    terminationGracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS, default: 30 })),
    volumes: Type.Optional(Type.Array(refTo(Volume), { maxItems: VOLUME_LIMITS.volumes, ...mergeList('name') })),
    securityContext: Type.Optional(PodSecurityContext),
    dnsPolicy: Type.Optional(stringEnum(DNS_POLICIES)),
    dnsConfig: Type.Optional(PodDnsConfig),
    /** The ServiceAccount the pod runs as (fieldRef spec.serviceAccountName reads it); no API token is mounted (docs/manifests.md#service-accounts). */
    serviceAccountName: Type.Optional(dnsSubdomain()),
    /** Deprecated alias of serviceAccountName, as Kubernetes keeps it. */
    serviceAccount: Type.Optional(dnsSubdomain()),
    automountServiceAccountToken: Type.Optional(Type.Boolean()),
    /** Refused by name until the node's pulls use them: never accepted and ignored. */
    imagePullSecrets: Type.Optional(unsupported('not supported yet: give the node its registry credentials in <data-dir>/registries.json (docs/images.md)')),
    /** The pod's hostname (its UTS name and /etc/hosts entry); absent = the pod's name. */
    hostname: Type.Optional(dnsLabel()),
    /** With a headless Service of this name: the pod's DNS name <hostname>.<subdomain>.<ns>.svc.<domain>. */
    subdomain: Type.Optional(dnsLabel()),
    /** The hostname inside the pod is the fully qualified name (needs subdomain to differ). */
    setHostnameAsFQDN: Type.Optional(Type.Boolean()),
    /** The host's PID namespace (its processes visible) / IPC namespace (and /dev/shm) instead of the pod's own. */
    hostPID: Type.Optional(Type.Boolean()),
    hostIPC: Type.Optional(Type.Boolean()),
    /** Extra /etc/hosts lines of the pod, after Grove's own. */
    hostAliases: Type.Optional(HostAliases),
    shareProcessNamespace: Type.Optional(unsupported("not supported: Grove's pod sandboxes have no pause process to hold a shared PID namespace (each container has its own; hostPID: true shares the node's)")),
    /** What every Kubernetes dump carries: Grove's one scheduler answers to Kubernetes' default name. */
    schedulerName: Type.Optional(Type.Literal('default-scheduler', { errorMessage: 'is not default-scheduler: Grove has one scheduler (leave schedulerName out)' })),
    ...unsupportedFields(UNSUPPORTED_POD_SPEC_FIELDS),
  },
  { $id: 'PodSpec' },
);
export type PodSpec = Static<typeof PodSpec>;

/** A PodSpec whose restartPolicy a kind narrows (Deployment: Always; Job: OnFailure or Never). */
export function podSpecWith<R extends TSchema>(restartPolicy: R) {
  return Type.Intersect([refTo(PodSpec), Type.Object({ restartPolicy: Type.Optional(restartPolicy) })]);
}

export function podTemplateSpec<S extends TSchema>(spec: S, options: { $id?: string } = {}) {
  return closed({ metadata: Type.Optional(refTo(TemplateMeta)), spec }, options);
}

export const PodTemplateSpec = podTemplateSpec(refTo(PodSpec));
export type PodTemplateSpec = Static<typeof PodTemplateSpec>;

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
export type PodPhase = (typeof POD_PHASES)[number];

const text = (max = 32 * 1024) => Type.Optional(Type.String({ maxLength: max }));

/** Kubernetes' ContainerState: exactly one of waiting, running, terminated. */
export const ContainerState = closed(
  {
    waiting: Type.Optional(closed({ reason: text(256), message: text() })),
    running: Type.Optional(closed({ startedAt: Type.Optional(timestamp()) })),
    terminated: Type.Optional(
      closed({
        exitCode: Type.Integer({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 }),
        signal: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
        reason: text(256),
        message: text(),
        startedAt: Type.Optional(nullableTimestamp()),
        finishedAt: Type.Optional(nullableTimestamp()),
        containerID: text(256),
      }),
    ),
  },
  { maxProperties: 1, $id: 'ContainerState' },
);
export type ContainerState = Static<typeof ContainerState>;

export const ContainerStatus = closed(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    state: Type.Optional(refTo(ContainerState)),
    /** The previous run's end: what `kubectl describe` shows as Last State. */
    lastState: Type.Optional(refTo(ContainerState)),
    ready: Type.Boolean(),
    restartCount: count(),
    image: Type.String({ maxLength: CONTAINER_LIMITS.image }),
    /** The image digest the container runs ("" until it is known). */
    imageID: Type.String({ maxLength: 1024 }),
    containerID: text(256),
    started: Type.Optional(Type.Boolean()),
  },
  { $id: 'ContainerStatus' },
);
export type ContainerStatus = Static<typeof ContainerStatus>;

const PodIP = closed({ ip: Type.String({ minLength: 1, maxLength: 45 }) });

export const PodStatus = closed(
  {
    phase: Type.Optional(stringEnum(POD_PHASES)),
    /** PodScheduled (False, reason Unschedulable, while no node fits), Initialized, ContainersReady, Ready. */
    conditions: Type.Optional(Conditions),
    message: text(),
    reason: text(256),
    hostIP: text(45),
    hostIPs: Type.Optional(Type.Array(PodIP, { maxItems: 2, ...mergeList('ip') })),
    podIP: text(45),
    podIPs: Type.Optional(Type.Array(PodIP, { maxItems: 2, ...mergeList('ip') })),
    startTime: Type.Optional(timestamp()),
    initContainerStatuses: Type.Optional(Type.Array(refTo(ContainerStatus), { maxItems: CONTAINER_LIMITS.containers })),
    containerStatuses: Type.Optional(Type.Array(refTo(ContainerStatus), { maxItems: CONTAINER_LIMITS.containers })),
  },
  { $id: 'PodStatus' },
);
export type PodStatus = Static<typeof PodStatus>;

export const Pod = closed({ ...typeMeta('v1', 'Pod'), metadata: refTo(ObjectMeta), spec: refTo(PodSpec), status: Type.Optional(refTo(PodStatus)) }, { $id: 'Pod' });
export type Pod = Static<typeof Pod>;
