/**
 * JSON Schema definitions of the Kubernetes subset Grove accepts. Whatever would change how a
 * workload runs and is not implemented is listed and rejected by name (`unsupported`); anything
 * else unknown fails `additionalProperties: false`, so typos never pass silently.
 */
import { SECRET_TYPES } from '../objects/config.js';
import {
  annotations,
  closed,
  CONFIG_KEY,
  DNS_LABEL,
  DNS_LABEL_MESSAGE,
  DNS_SUBDOMAIN,
  DNS_SUBDOMAIN_MESSAGE,
  labels,
  pattern,
  PERCENT,
  quantity,
  ref,
  stringList,
  unsupported,
  unsupportedFields,
  type JsonSchema,
} from './schema-parts.js';
import { probeDefinitions, probeRef } from './schema-probes.js';
import { UNSUPPORTED_CONTAINER_FIELDS } from '../objects/pod-container.js';
import { UNSUPPORTED_POD_SPEC_FIELDS } from '../objects/pod.js';
import { batchDefinitions } from './schema-batch.js';
import { volumeDefinitions, volumeRefs } from './schema-volumes.js';

const SERVER_SET = 'set by the Kubernetes API server: remove it';

/**
 * Known pod spec fields Grove does not implement yet; a manifest may not bind its pods itself
 * either (nodeName, after os: the published schema keeps its order).
 */
const UNSUPPORTED_POD_FIELDS = UNSUPPORTED_POD_SPEC_FIELDS.flatMap((f) => (f === 'os' ? [f, 'nodeName'] : [f]));

function objectMeta(name: JsonSchema): JsonSchema {
  return closed(
    {
      name,
      labels,
      annotations,
      namespace: {
        const: 'default',
        errorMessage: 'is not supported: Grove has no namespaces (remove it, or use "default")',
      },
      // `kubectl create --dry-run=client -o yaml` writes `creationTimestamp: null`; the API
      // server ignores it on create, so it changes nothing.
      creationTimestamp: { type: ['string', 'null'] },
      generateName: unsupported(),
      ownerReferences: unsupported(),
      finalizers: unsupported(),
      ...unsupportedFields(
        ['uid', 'resourceVersion', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'],
        SERVER_SET,
      ),
    },
    ['name'],
  );
}

// Pod names are derived from app names, so apps keep to 63 characters, as Kubernetes pods must.
const appName = pattern(DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, { maxLength: 63 });
const objectName = pattern(DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, { maxLength: 253 });

/**
 * RuntimeDefault: Grove's default profile (Docker's policy); Unconfined: none; Localhost: a
 * file under the node's <data-dir>/seccomp/ (the path rules are checked in code, k8s-seccomp.ts).
 */
const seccompProfile = closed(
  {
    type: { enum: ['RuntimeDefault', 'Unconfined', 'Localhost'], errorMessage: 'must be RuntimeDefault, Unconfined or Localhost' },
    localhostProfile: { type: 'string', minLength: 1, maxLength: 1024 },
  },
  ['type'],
);

const container = closed(
  {
    name: pattern(DNS_LABEL, DNS_LABEL_MESSAGE, { maxLength: 63 }),
    image: { type: 'string', minLength: 1 },
    command: stringList,
    args: stringList,
    workingDir: { type: 'string' },
    env: {
      type: 'array',
      items: closed(
        {
          // Kubernetes accepts any printable ASCII except '=' in a variable name.
          name: pattern('^[\\x20-\\x3c\\x3e-\\x7e]+$', "must be printable ASCII without '='"),
          value: { type: 'string' },
          valueFrom: volumeRefs.valueFrom,
        },
        ['name'],
      ),
    },
    resources: closed({
      limits: ref('ResourceList'),
      requests: ref('ResourceList'),
      claims: unsupported(),
    }),
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    volumeMounts: volumeRefs.volumeMounts,
    envFrom: volumeRefs.envFrom,
    // Every container sees the pod's network; a hostPort publishes the port on the node.
    ports: {
      type: 'array',
      maxItems: 64,
      items: closed(
        {
          containerPort: { type: 'integer', minimum: 1, maximum: 65535 },
          protocol: { enum: ['TCP', 'UDP'], errorMessage: 'must be TCP or UDP (SCTP is not supported)' },
          name: pattern('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'must be an IANA service name: at most 15 lowercase letters, digits and -', {
            maxLength: 15,
          }),
          hostPort: { type: 'integer', minimum: 1, maximum: 65535 },
          hostIP: { type: 'string' },
        },
        ['containerPort'],
      ),
    },
    livenessProbe: probeRef,
    readinessProbe: probeRef,
    startupProbe: probeRef,
    // privileged and seccompProfile only: devices go through grove.io/devices, not a privileged container.
    securityContext: closed({
      privileged: { type: 'boolean' },
      seccompProfile,
      ...unsupportedFields([
        'runAsUser', 'runAsGroup', 'runAsNonRoot', 'readOnlyRootFilesystem', 'capabilities', 'allowPrivilegeEscalation',
        'seLinuxOptions', 'appArmorProfile', 'procMount', 'windowsOptions',
      ]),
    }),
    ...unsupportedFields(UNSUPPORTED_CONTAINER_FIELDS),
  },
  ['name', 'image'],
);

/** Pod specs differ by kind only in the restart policies allowed (and whether one is required). */
function podSpecWith(restartPolicy: JsonSchema, required: string[] = []): JsonSchema {
  return closed(
    {
      containers: { type: 'array', minItems: 1, items: ref('Container') },
      // Same fields as containers; probes are refused in code (k8s-init.ts) with a clearer message.
      initContainers: { type: 'array', maxItems: 32, items: ref('Container') },
      nodeSelector: labels,
      restartPolicy,
      hostNetwork: { type: 'boolean' },
      terminationGracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
      volumes: volumeRefs.volumes,
      securityContext: closed({
        supplementalGroups: { type: 'array', maxItems: 32, items: { type: 'integer', minimum: 0, maximum: 4294967294 } },
        // Every container's, unless the container sets its own.
        seccompProfile,
        ...unsupportedFields([
          'runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'fsGroupChangePolicy', 'supplementalGroupsPolicy', 'sysctls',
          'seLinuxOptions', 'seLinuxChangePolicy', 'appArmorProfile', 'windowsOptions',
        ]),
      }),
      ...unsupportedFields(UNSUPPORTED_POD_FIELDS),
    },
    ['containers', ...required],
  );
}

const podSpec = podSpecWith({
  const: 'Always',
  errorMessage: 'must be Always: Deployment and DaemonSet pods always restart (as in Kubernetes)',
});

// Kubernetes rejects Always (its default) for Job pods, so the field must be written.
const jobPodSpec = podSpecWith(
  { enum: ['OnFailure', 'Never'], errorMessage: 'must be OnFailure or Never: a Job runs its pods to completion (as in Kubernetes)' },
  ['restartPolicy'],
);

const podTemplate = closed(
  {
    metadata: closed({ labels, annotations, creationTimestamp: { type: ['string', 'null'] } }),
    spec: ref('PodSpec'),
  },
  ['metadata', 'spec'],
);

const selector = closed(
  {
    matchLabels: { ...labels, minProperties: 1 },
    matchExpressions: unsupported('not supported yet: use matchLabels'),
  },
  ['matchLabels'],
);

/** maxSurge / maxUnavailable: a count or a percentage of the desired pods. */
const intOrPercent: JsonSchema = {
  type: ['integer', 'string'],
  minimum: 0,
  maximum: 10000,
  pattern: PERCENT,
  patternErrorMessage: 'must be a whole number or a percentage from 0% to 100%, such as "25%"',
};

function strategyOf(types: string[], message: string): JsonSchema {
  return closed(
    {
      type: { enum: types, errorMessage: message },
      rollingUpdate: closed({ maxSurge: intOrPercent, maxUnavailable: intOrPercent }),
    },
    [],
    // Kubernetes' rule: rollingUpdate parameters only with type RollingUpdate.
    { if: { required: ['type'], properties: { type: { not: { const: 'RollingUpdate' } } } }, then: { properties: { rollingUpdate: unsupported('only with type: RollingUpdate') } } },
  );
}

const deploymentStrategy = strategyOf(['RollingUpdate', 'Recreate'], 'must be RollingUpdate or Recreate');
const daemonSetStrategy = strategyOf(['RollingUpdate', 'OnDelete'], 'must be RollingUpdate or OnDelete');
const revisionHistoryLimit: JsonSchema = { type: 'integer', minimum: 0, maximum: 100 };

function workload(kind: string, spec: JsonSchema): JsonSchema {
  return closed(
    {
      apiVersion: { const: 'apps/v1' },
      kind: { const: kind },
      metadata: objectMeta(appName),
      spec,
      // Written by the API server; kubectl's --dry-run output has `status: {}`. Ignored.
      status: { type: 'object' },
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  );
}

const configKeyMap: JsonSchema = {
  type: 'object',
  propertyNames: pattern(CONFIG_KEY, 'must be letters, digits, -, _ or .', { maxLength: 253 }),
  additionalProperties: { type: 'string' },
};

export function kubernetesDefinitions(): Record<string, JsonSchema> {
  return {
    Deployment: workload(
      'Deployment',
      closed(
        {
          replicas: { type: 'integer', minimum: 0, maximum: 1000 },
          selector: ref('LabelSelector'),
          template: ref('PodTemplate'),
          strategy: deploymentStrategy,
          revisionHistoryLimit,
          progressDeadlineSeconds: { type: 'integer', minimum: 1, maximum: 604800 },
          ...unsupportedFields(['minReadySeconds', 'paused']),
        },
        ['selector', 'template'],
      ),
    ),
    DaemonSet: workload(
      'DaemonSet',
      closed(
        {
          selector: ref('LabelSelector'),
          template: ref('PodTemplate'),
          updateStrategy: daemonSetStrategy,
          revisionHistoryLimit,
          ...unsupportedFields(['minReadySeconds']),
        },
        ['selector', 'template'],
      ),
    ),
    ConfigMap: closed(
      {
        apiVersion: { const: 'v1' },
        kind: { const: 'ConfigMap' },
        metadata: objectMeta(objectName),
        data: configKeyMap,
        binaryData: unsupported('not supported yet: ConfigMap values are text'),
        immutable: { type: 'boolean' },
      },
      ['apiVersion', 'kind', 'metadata'],
    ),
    Secret: closed(
      {
        apiVersion: { const: 'v1' },
        kind: { const: 'Secret' },
        metadata: objectMeta(objectName),
        type: { enum: [...SECRET_TYPES], errorMessage: `must be one of ${SECRET_TYPES.join(', ')}` },
        data: configKeyMap,
        stringData: configKeyMap,
        immutable: { type: 'boolean' },
      },
      ['apiVersion', 'kind', 'metadata'],
    ),
    // `kubectl get -o yaml` wraps several objects in a List; its items are checked one by one.
    List: {
      type: 'object',
      properties: {
        apiVersion: { const: 'v1' },
        kind: { const: 'List' },
        metadata: { type: 'object' },
        items: {
          type: 'array',
          items: { oneOf: [ref('Deployment'), ref('DaemonSet'), ref('Job'), ref('CronJob'), ref('ConfigMap'), ref('Secret')] },
        },
      },
      required: ['apiVersion', 'kind', 'items'],
      additionalProperties: false,
    },
    ...batchDefinitions({
      objectMeta: objectMeta(appName),
      // Kubernetes' own limit: a CronJob's Jobs are named <name>-<time>, which must stay short.
      cronObjectMeta: objectMeta(pattern(DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, { maxLength: 52 })),
      podSpec: jobPodSpec,
    }),
    LabelSelector: selector,
    PodTemplate: podTemplate,
    PodSpec: podSpec,
    Container: container,
    ...probeDefinitions(),
    ...volumeDefinitions(),
    ResourceList: {
      type: 'object',
      properties: { memory: quantity, cpu: quantity },
      additionalProperties: unsupported('not supported yet: Grove limits memory and cpu only'),
    },
  };
}
