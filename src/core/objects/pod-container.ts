/**
 * A pod's containers: image and argv, env, resources, ports, probes, security context, mounts.
 * Kubernetes' field names and shapes; what Grove does not implement is rejected by name.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsLabel, IPV4, mergeList, pattern, quantity, refTo, stringEnum, unsupported, unsupportedFields } from './kit.js';
import { PROBE_LIMITS } from './limits.js';
import { ALL_CAPABILITIES, CAPABILITY_MESSAGE, CAPABILITY_PATTERN } from '../capabilities.js';
import { EnvFromSource, EnvVarSource, exactlyOne, VOLUME_LIMITS, VolumeMount } from './pod-volumes.js';
import { Sysctls } from './pod-runtime.js';
import { PORT_NAME } from './named-ports.js';

/** Bounds Grove adds where Kubernetes has none: they keep messages, timers and wire values sane. */
export const CONTAINER_LIMITS = Object.freeze({
  containers: 32, env: 1000, argv: 1000, string: 64 * 1024, image: 1024, envName: 1024, ports: 64,
  headers: 100, host: 253, groups: 32,
});

const argv = () => Type.Array(Type.String({ maxLength: CONTAINER_LIMITS.string }), { maxItems: CONTAINER_LIMITS.argv });

export const EnvVar = closed(
  {
    // Kubernetes accepts any printable ASCII except '=' in a variable name.
    name: pattern('^[\\x20-\\x3c\\x3e-\\x7e]+$', "must be printable ASCII without '='", { minLength: 1, maxLength: CONTAINER_LIMITS.envName }),
    value: Type.Optional(Type.String({ maxLength: CONTAINER_LIMITS.string })),
    valueFrom: Type.Optional(EnvVarSource),
  },
  // As in Kubernetes: a variable has a value or a valueFrom, never both.
  { if: { required: ['valueFrom'] }, then: { properties: { value: { const: '', errorMessage: 'cannot be combined with valueFrom' } } } },
);
export type EnvVar = Static<typeof EnvVar>;

/** The resources Grove limits; anything else (ephemeral-storage, GPUs, hugepages) is refused by name. */
export const ResourceList = Type.Object(
  {
    memory: Type.Optional(quantity('a size such as 64Mi, 1Gi or 500M')),
    cpu: Type.Optional(quantity('a CPU amount such as 0.5, 2 or 500m')),
    /** Grove's extension: the container's pids limit (compose pids_limit, `grove ctr --pids`). */
    'grove.io/pids': Type.Optional(quantity('a number of processes such as 100')),
  },
  { additionalProperties: unsupported('not supported yet: Grove limits memory, cpu and grove.io/pids only') },
);
export type ResourceList = Static<typeof ResourceList>;

export const ResourceRequirements = closed({
  limits: Type.Optional(ResourceList),
  requests: Type.Optional(ResourceList),
  ...unsupportedFields(['claims']),
});
export type ResourceRequirements = Static<typeof ResourceRequirements>;

const port = () => Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number 1-65535' });
/** A handler's port: a number, or the name of one of the container's ports (named-ports.ts resolves it). */
const portOrName = () =>
  Type.Unsafe<number | string>({
    type: ['integer', 'string'],
    minimum: 1,
    maximum: 65535,
    pattern: PORT_NAME,
    patternErrorMessage: "must be a port number 1-65535 or the name of one of the container's ports (at most 15 lowercase letters, digits and '-')",
    maxLength: 15,
    errorMessage: "must be a port number 1-65535 or the name of one of the container's ports (at most 15 lowercase letters, digits and '-')",
  });

export const ContainerPort = closed(
  {
    containerPort: port(),
    protocol: Type.Optional(stringEnum(['TCP', 'UDP'], { default: 'TCP', errorMessage: 'must be TCP or UDP (SCTP is not supported)' })),
    name: Type.Optional(pattern('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'must be an IANA service name: at most 15 lowercase letters, digits and -', { maxLength: 15 })),
    /** Publishes the port on the node (CNI portmap); absent = not published. */
    hostPort: Type.Optional(port()),
    /** Host address the published port binds to; absent = every address. */
    hostIP: Type.Optional(pattern(IPV4, 'must be an IPv4 address', { maxLength: 15 })),
  },
  { dependencies: { hostIP: ['hostPort'] } },
);
export type ContainerPort = Static<typeof ContainerPort>;

const probeSeconds = (minimum: number, byDefault: number) => Type.Optional(Type.Integer({ minimum, maximum: PROBE_LIMITS.seconds, default: byDefault }));
const threshold = (byDefault: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: PROBE_LIMITS.threshold, default: byDefault }));
const probeHost = () => Type.Optional(Type.String({ minLength: 1, maxLength: CONTAINER_LIMITS.host }));

/** A command run in the container (probes, lifecycle hooks); success = exit 0. */
const ExecAction = closed({ command: Type.Array(Type.String({ maxLength: CONTAINER_LIMITS.string }), { minItems: 1, maxItems: CONTAINER_LIMITS.argv }) });

/** An HTTP GET from the container's network (probes, lifecycle hooks); success = 200..399. */
const HttpGetAction = closed({
  /** Absent = "/", as the kubelet asks. */
  path: Type.Optional(Type.String({ maxLength: CONTAINER_LIMITS.string })),
  port: portOrName(),
  host: probeHost(),
  /** HTTPS: the certificate is not verified, as the kubelet does not. */
  scheme: Type.Optional(stringEnum(['HTTP', 'HTTPS'], { default: 'HTTP', errorMessage: 'must be HTTP or HTTPS' })),
  httpHeaders: Type.Optional(
    Type.Array(closed({ name: Type.String({ minLength: 1, maxLength: CONTAINER_LIMITS.host }), value: Type.String({ maxLength: CONTAINER_LIMITS.string }) }), {
      maxItems: CONTAINER_LIMITS.headers,
    }),
  ),
});

/** A probe: exactly one handler, and Kubernetes' timing defaults. */
export const Probe = closed(
  {
    exec: Type.Optional(ExecAction),
    httpGet: Type.Optional(HttpGetAction),
    tcpSocket: Type.Optional(closed({ port: portOrName(), host: probeHost() })),
    /** The standard grpc.health.v1 Health/Check over plaintext HTTP/2; success = SERVING. */
    grpc: Type.Optional(closed({ port: port(), service: Type.Optional(Type.String({ maxLength: CONTAINER_LIMITS.host })) })),
    initialDelaySeconds: probeSeconds(0, 0),
    periodSeconds: probeSeconds(1, 10),
    timeoutSeconds: probeSeconds(1, 1),
    successThreshold: threshold(1),
    failureThreshold: threshold(3),
    ...unsupportedFields(['terminationGracePeriodSeconds']),
  },
  { $id: 'Probe', ...exactlyOne(['exec', 'httpGet', 'tcpSocket', 'grpc']) },
);
export type Probe = Static<typeof Probe>;

/** As in Kubernetes: one success is all a liveness or startup probe can mean. */
const singleSuccessProbe = () =>
  Type.Optional(Type.Intersect([refTo(Probe), closedless({ successThreshold: Type.Optional(Type.Literal(1, { errorMessage: 'must be 1 for liveness and startup probes' })) })]));

/** An object schema that lists properties without closing the object (for allOf overlays). */
function closedless<P extends Parameters<typeof Type.Object>[0]>(properties: P) {
  return Type.Object(properties);
}

const LOCALHOST_PROFILE = '^(?!\\.\\.?(?:/|$))[^/\\u0000]+(?:/(?!\\.\\.?(?:/|$))[^/\\u0000]+)*$';

/**
 * RuntimeDefault: Grove's default profile (Docker's policy); Unconfined: none; Localhost: a file
 * under the node's <data-dir>/seccomp/, named by a plain relative path.
 */
export const SeccompProfile = closed(
  {
    type: stringEnum(['RuntimeDefault', 'Unconfined', 'Localhost'], { errorMessage: 'must be RuntimeDefault, Unconfined or Localhost' }),
    localhostProfile: Type.Optional(
      pattern(LOCALHOST_PROFILE, "must be a plain path relative to the node's <data-dir>/seccomp/ (no leading \"/\", no \".\" or \"..\" parts)", { maxLength: 1024 }),
    ),
  },
  {
    if: { properties: { type: { const: 'Localhost' } } },
    then: { required: ['localhostProfile'] },
    else: { properties: { localhostProfile: { not: {}, errorMessage: 'can only be set when type is Localhost' } } },
  },
);
export type SeccompProfile = Static<typeof SeccompProfile>;

/** A Linux user or group id, as Kubernetes bounds runAsUser and runAsGroup. */
const linuxId = () => Type.Integer({ minimum: 0, maximum: 2147483647 });

const capabilityList = () =>
  Type.Array(pattern(CAPABILITY_PATTERN, CAPABILITY_MESSAGE, { maxLength: 32 }), { maxItems: ALL_CAPABILITIES.length + 1 });

/** Added to / dropped from the runtime's default set (Docker's); ALL = every one / none. */
export const Capabilities = closed({ add: Type.Optional(capabilityList()), drop: Type.Optional(capabilityList()) });
export type Capabilities = Static<typeof Capabilities>;

/** Who the container's processes run as: the container's fields win over the pod's. */
const identityFields = {
  runAsUser: Type.Optional(linuxId()),
  /** The primary group; without runAsUser it replaces the image user's group. */
  runAsGroup: Type.Optional(linuxId()),
  /** Refuses to start a container whose user would be root (uid 0). */
  runAsNonRoot: Type.Optional(Type.Boolean()),
};

/**
 * Devices go through grove.io/devices, not a privileged container. allowPrivilegeEscalation
 * absent = false (no_new_privs), Grove's default for every container that is not privileged.
 */
export const SecurityContext = closed({
  privileged: Type.Optional(Type.Boolean()),
  seccompProfile: Type.Optional(SeccompProfile),
  ...identityFields,
  readOnlyRootFilesystem: Type.Optional(Type.Boolean()),
  capabilities: Type.Optional(Capabilities),
  allowPrivilegeEscalation: Type.Optional(Type.Boolean()),
  ...unsupportedFields(['seLinuxOptions', 'appArmorProfile', 'procMount', 'windowsOptions']),
});
export type SecurityContext = Static<typeof SecurityContext>;

/**
 * A lifecycle hook: exactly one handler. The agent runs postStart right after the container
 * starts (it is not Running until the hook ends; a failing hook kills it, restarted by policy)
 * and preStop before it sends SIGTERM, within the pod's terminationGracePeriodSeconds; a
 * failing preStop is logged and the stop goes on.
 */
export const LifecycleHandler = closed(
  {
    exec: Type.Optional(ExecAction),
    httpGet: Type.Optional(HttpGetAction),
    sleep: Type.Optional(closed({ seconds: Type.Integer({ minimum: 0, maximum: 3600 }) })),
    tcpSocket: Type.Optional(unsupported('is not a lifecycle handler in Kubernetes (kept by it for old objects only): use exec or httpGet')),
  },
  exactlyOne(['exec', 'httpGet', 'sleep']),
);
export type LifecycleHandler = Static<typeof LifecycleHandler>;

export const Lifecycle = closed({
  postStart: Type.Optional(LifecycleHandler),
  preStop: Type.Optional(LifecycleHandler),
  ...unsupportedFields(['stopSignal']),
});
export type Lifecycle = Static<typeof Lifecycle>;

export const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

/** Known container fields Grove does not implement yet. */
export const UNSUPPORTED_CONTAINER_FIELDS = [
  'volumeDevices', 'stdin', 'stdinOnce', 'tty', 'resizePolicy',
] as const;

export const Container = closed(
  {
    name: dnsLabel(),
    image: Type.String({ minLength: 1, maxLength: CONTAINER_LIMITS.image }),
    /** Replaces the image entrypoint. */
    command: Type.Optional(argv()),
    /** Replaces the image cmd. */
    args: Type.Optional(argv()),
    workingDir: Type.Optional(pattern('^/', 'must be an absolute path', { maxLength: VOLUME_LIMITS.path })),
    env: Type.Optional(Type.Array(EnvVar, { maxItems: CONTAINER_LIMITS.env, ...mergeList('name') })),
    envFrom: Type.Optional(Type.Array(EnvFromSource, { maxItems: VOLUME_LIMITS.envFrom })),
    resources: Type.Optional(ResourceRequirements),
    /** Defaulted in code (defaults.ts): Always for `:latest` or no tag, IfNotPresent otherwise. */
    imagePullPolicy: Type.Optional(stringEnum(IMAGE_PULL_POLICIES)),
    volumeMounts: Type.Optional(Type.Array(VolumeMount, { maxItems: VOLUME_LIMITS.mounts, ...mergeList('mountPath') })),
    ports: Type.Optional(Type.Array(ContainerPort, { maxItems: CONTAINER_LIMITS.ports, ...mergeList('containerPort', 'protocol') })),
    livenessProbe: singleSuccessProbe(),
    readinessProbe: Type.Optional(refTo(Probe)),
    startupProbe: singleSuccessProbe(),
    securityContext: Type.Optional(SecurityContext),
    lifecycle: Type.Optional(Lifecycle),
    /** A file the agent reads (at most 4 KiB) after the container ends: its terminated state's message. Absent = /dev/termination-log. */
    terminationMessagePath: Type.Optional(pattern('^/', 'must be an absolute path', { maxLength: VOLUME_LIMITS.path })),
    /** FallbackToLogsOnError: an empty file after a failure → the log's last lines instead. */
    terminationMessagePolicy: Type.Optional(stringEnum(['File', 'FallbackToLogsOnError'], { errorMessage: 'must be File or FallbackToLogsOnError' })),
    /** Init containers only (pod-rules.ts): Always makes it a native sidecar. */
    restartPolicy: Type.Optional(stringEnum(['Always'], { errorMessage: 'must be Always (a native sidecar): no other container restartPolicy is supported' })),
    ...unsupportedFields(UNSUPPORTED_CONTAINER_FIELDS),
  },
  { $id: 'Container' },
);
export type Container = Static<typeof Container>;

const NO_PROBES = 'init containers cannot have probes (they run to completion) unless restartPolicy is Always (a sidecar)';

/**
 * An init container: a container without probes or hooks (its job is to end, not to be ready),
 * unless it is a native sidecar (restartPolicy: Always), which may have both, as in Kubernetes.
 */
export const InitContainer = Type.Intersect([
  refTo(Container),
  Type.Unsafe<object>({
    type: 'object',
    if: { type: 'object', required: ['restartPolicy'] },
    then: {},
    else: closedless({
      livenessProbe: Type.Optional(unsupported(NO_PROBES)),
      readinessProbe: Type.Optional(unsupported(NO_PROBES)),
      startupProbe: Type.Optional(unsupported(NO_PROBES)),
      lifecycle: Type.Optional(unsupported('init containers cannot have lifecycle hooks unless restartPolicy is Always (a sidecar), as in Kubernetes')),
    }),
  }),
]);

/** The supplementary groups a pod may name (Linux gids, excluding the overflow id). */
export const SupplementalGroups = Type.Array(Type.Integer({ minimum: 0, maximum: 4294967294 }), { maxItems: CONTAINER_LIMITS.groups });

export const PodSecurityContext = closed({
  supplementalGroups: Type.Optional(SupplementalGroups),
  /** Every container's, unless the container sets its own (seccompProfile, runAsUser, runAsGroup, runAsNonRoot). */
  seccompProfile: Type.Optional(SeccompProfile),
  ...identityFields,
  /** Owner group of the pod's emptyDir, PVC, ConfigMap and Secret volumes (group-writable), and a supplementary group of every container. */
  fsGroup: Type.Optional(linuxId()),
  /** Always (absent): every file's group and mode checked at each start; OnRootMismatch: only when the volume's top differs. */
  fsGroupChangePolicy: Type.Optional(stringEnum(['OnRootMismatch', 'Always'])),
  /** Namespaced sysctls only (pod-runtime.ts checks which). */
  sysctls: Type.Optional(Sysctls),
  ...unsupportedFields([
    'supplementalGroupsPolicy',
    'seLinuxOptions', 'seLinuxChangePolicy', 'appArmorProfile', 'windowsOptions',
  ]),
});
export type PodSecurityContext = Static<typeof PodSecurityContext>;

