/**
 * JSON Schema definitions of the docker-compose subset Grove accepts (compose specification
 * field names). `x-*` extension fields are allowed everywhere compose allows them, and ignored,
 * as compose does; every other unknown field is rejected.
 */
import {
  closed,
  COMPOSE_SERVICE_NAME,
  quantity,
  ref,
  stringList,
  unsupported,
  unsupportedFields,
  type JsonSchema,
} from './schema-parts.js';
import { composeVolumeDefinitions } from './schema-compose-volumes.js';
import { composeStartOrderDefinitions } from './schema-compose-order.js';
import { composeNetworkDefinitions } from './schema-compose-networks.js';

const EXTENSIONS = { '^x-': {} };

/** Compose service fields Grove knows and does not implement yet (a later issue adds some). */
const UNSUPPORTED_SERVICE_FIELDS = [
  'annotations', 'attach', 'blkio_config', 'cgroup', 'cgroup_parent',
  'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares',
  'cpuset', 'credential_spec', 'develop', 'device_cgroup_rules', 'domainname', 'external_links', 'gpus',
  'isolation', 'label_file', 'mac_address', 'mem_swappiness',
  'memswap_limit', 'oom_kill_disable', 'oom_score_adj', 'post_start',
  'pre_stop', 'runtime',
  'stdin_open', 'storage_opt', 'tty', 'userns_mode',
  'uts', 'volumes_from',
];

/** A string (split like a shell would) or a list: compose's command and entrypoint. */
const commandLine: JsonSchema = { type: ['string', 'array'], items: { type: 'string' } };

/**
 * `["K=V", …]` or `{K: V}`. Map values may be numbers or booleans (compose stringifies them);
 * null (take it from the host) is valid compose, refused in code with a hint.
 */
const listOrMap: JsonSchema = {
  type: ['array', 'object'],
  items: { type: 'string' },
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
};

const service = {
  ...closed({
    image: { type: 'string', minLength: 1 },
    command: commandLine,
    entrypoint: commandLine,
    environment: listOrMap,
    labels: listOrMap,
    working_dir: { type: 'string' },
    restart: {
      type: 'string',
      pattern: '^(no|always|unless-stopped|on-failure(:[0-9]{1,4})?)$',
      patternErrorMessage: 'must be one of no, always, on-failure[:N], unless-stopped',
    },
    // linux/ARCH[/VARIANT]: the nodes of that architecture run it (grove.io/arch), pulling that variant.
    platform: { type: 'string', pattern: '^linux/[a-z0-9_]{1,16}(/[a-z0-9]{1,8})?$', patternErrorMessage: 'must be linux/ARCH[/VARIANT] (linux/arm64, linux/arm/v7)' },
    mem_limit: quantity,
    mem_reservation: quantity,
    cpus: quantity,
    pids_limit: { type: 'integer', minimum: -1 },
    stop_grace_period: { type: 'string' },
    pull_policy: {
      enum: ['always', 'never', 'missing', 'if_not_present'],
      errorMessage: 'must be one of always, never, missing, if_not_present',
    },
    // "host", "bridge", "none", "service:x", "container:x": checked in code (compose-network.ts), each refusal with its reason.
    network_mode: { type: 'string', maxLength: 253 },
    // Ports reachable inside the project only: container ports and the service's Service ports (compose-network.ts).
    expose: { type: 'array', maxItems: 64, items: { type: ['string', 'integer'] } },
    // The project networks the service joins (list of names, or names to {aliases}); checked in code.
    networks: ref('ComposeServiceNetworks'),
    // Short "[IP:]HOST:CONTAINER[/proto]" strings or the long syntax; checked in code (compose-ports.ts).
    ports: {
      type: 'array',
      maxItems: 64,
      items: {
        type: ['string', 'integer', 'object'],
        properties: {
          target: { type: ['integer', 'string'] },
          published: { type: ['integer', 'string'] },
          host_ip: { type: 'string' },
          protocol: { enum: ['tcp', 'udp'] },
          mode: { enum: ['host', 'ingress'] },
          name: { type: 'string' },
          app_protocol: { type: 'string' },
        },
        required: ['target'],
        additionalProperties: false,
      },
    },
    deploy: ref('ComposeDeploy'),
    // HOST[:CONTAINER][:PERMISSIONS] strings, as docker --device; checked in code.
    devices: { type: 'array', maxItems: 64, items: { type: 'string' } },
    group_add: { type: 'array', maxItems: 32, items: { type: ['string', 'integer'] } },
    privileged: { type: 'boolean' },
    // seccomp=unconfined|PROFILE and no-new-privileges, as docker writes them; checked in code.
    security_opt: { type: 'array', maxItems: 16, items: { type: 'string' } },
    // UID[:GID] (numbers only: Kubernetes runAsUser/runAsGroup); checked in code.
    user: { type: ['string', 'integer'], maxLength: 64 },
    read_only: { type: 'boolean' },
    // Capability names as docker writes them (NET_ADMIN, CAP_NET_ADMIN, ALL); checked in code.
    cap_add: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 64 } },
    cap_drop: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 64 } },
    volumes: { type: 'array', maxItems: 64, items: { oneOf: [{ type: 'string' }, ref('ComposeServiceVolume')] } },
    tmpfs: { type: ['string', 'array'], maxItems: 64, items: { type: 'string' } },
    // Docker units ("256m"): /dev/shm as a memory emptyDir of that size (compose-volumes.ts).
    shm_size: quantity,
    depends_on: ref('ComposeDependsOn'),
    healthcheck: ref('ComposeHealthcheck'),
    build: unsupported('not supported: build the image, push it to a registry and set image:'),
    // Read at apply time, relative to the project directory (compose-prepare.ts).
    env_file: { type: ['string', 'array'], maxItems: 32, items: { type: ['string', 'object'] } },
    // Docker's container name rule; names the container on its node (grove.io/container-name).
    container_name: {
      type: 'string',
      pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$',
      patternErrorMessage: "must be a container name: at most 128 letters, digits, '_', '.' and '-', starting with a letter or digit",
    },
    profiles: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$' } },
    // Names of the top-level secrets / configs, or {source, target, mode}: checked in code (compose-stores.ts).
    secrets: { type: 'array', maxItems: 64, items: { type: ['string', 'object'] } },
    configs: { type: 'array', maxItems: 64, items: { type: ['string', 'object'] } },
    scale: unsupported('not supported: use deploy.replicas'),
    // dns*, ulimits, init, stop_signal, logging, links: checked in code (compose-runtime.ts).
    dns: { type: ['string', 'array'], maxItems: 3, items: { type: 'string', maxLength: 64 } },
    dns_search: { type: ['string', 'array'], maxItems: 32, items: { type: 'string', maxLength: 253 } },
    dns_opt: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 128 } },
    ulimits: {
      type: 'object',
      maxProperties: 16,
      additionalProperties: {
        type: ['integer', 'string', 'object'],
        properties: { soft: { type: ['integer', 'string'] }, hard: { type: ['integer', 'string'] } },
        required: ['soft', 'hard'],
        additionalProperties: false,
      },
    },
    init: { type: 'boolean' },
    stop_signal: { type: 'string', maxLength: 32 },
    logging: closed({ driver: { type: 'string', maxLength: 64 }, options: { type: 'object', maxProperties: 32, additionalProperties: { type: ['string', 'number', 'boolean'] } } }),
    links: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 253 } },
    // host (→ hostPID / hostIPC); other modes refused in code with the reason (compose-pod-runtime.ts).
    pid: { type: 'string', maxLength: 256 },
    ipc: { type: 'string', maxLength: 256 },
    // HOST:IP / HOST=IP strings, or HOST: IP | [IP, …]; checked in code (compose-pod-runtime.ts).
    extra_hosts: {
      type: ['array', 'object'],
      maxItems: 64,
      items: { type: 'string', maxLength: 512 },
      maxProperties: 64,
      additionalProperties: { type: ['string', 'array', 'null'], maxItems: 16, items: { type: 'string', maxLength: 64 } },
    },
    sysctls: { ...listOrMap, maxItems: 64, maxProperties: 64 },
    // The pod's hostname (a DNS label, as Kubernetes requires); checked in code (compose-runtime.ts).
    hostname: { type: 'string', maxLength: 253 },
    ...unsupportedFields(UNSUPPORTED_SERVICE_FIELDS),
  }),
  patternProperties: EXTENSIONS,
  // A `build:` without image reports build, not the missing image: the error ranking
  // (object-errors.ts, objects/explain.ts) puts rejected fields before other errors.
  required: ['image'],
};

const resources = (fields: Record<string, JsonSchema>): JsonSchema => ({
  ...closed(fields),
  patternProperties: EXTENSIONS,
});

const deploy: JsonSchema = {
  ...closed({
    mode: { enum: ['replicated', 'global'] },
    replicas: { type: 'integer', minimum: 0, maximum: 1000 },
    resources: resources({
      limits: resources({ memory: quantity, cpus: quantity, pids: { type: 'integer', minimum: 1 } }),
      reservations: resources({ memory: quantity, cpus: quantity, devices: unsupported(), generic_resources: unsupported() }),
    }),
    placement: resources({
      constraints: stringList,
      preferences: unsupported(),
      max_replicas_per_node: unsupported(),
    }),
    restart_policy: unsupported('not supported yet: use restart:'),
    update_config: resources({
      parallelism: { type: 'integer', minimum: 0, maximum: 10000 },
      order: { enum: ['stop-first', 'start-first'] },
      failure_action: { enum: ['rollback', 'pause', 'continue'] },
      monitor: { type: 'string' },
      ...unsupportedFields(['delay', 'max_failure_ratio']),
    }),
    ...unsupportedFields(['endpoint_mode', 'labels', 'rollback_config']),
  }),
  patternProperties: EXTENSIONS,
};

export function composeDefinitions(): Record<string, JsonSchema> {
  return {
    ComposeFile: {
      ...closed(
        {
          version: { type: ['string', 'number'], description: 'Obsolete in the compose specification; accepted and ignored.' },
          name: { type: 'string', description: "Project name: the namespace the project's objects go to (docs/networking.md#compose-networking)." },
          services: {
            type: 'object',
            minProperties: 1,
            // Compose's rule ('_' and capitals too): the objects get a DNS label derived from it (compose-service.ts).
            propertyNames: {
              type: 'string',
              pattern: COMPOSE_SERVICE_NAME,
              maxLength: 63,
              patternErrorMessage: "must be at most 63 letters, digits, '_', '.' and '-', starting with a letter or digit",
            },
            additionalProperties: ref('ComposeService'),
          },
          volumes: { type: 'object', maxProperties: 64, additionalProperties: { oneOf: [{ type: 'null' }, ref('ComposeVolume')] } },
          networks: { type: 'object', maxProperties: 32, additionalProperties: ref('ComposeNetwork') },
          // Each a Secret / ConfigMap (compose-stores.ts): file:, environment: or content:, checked in code.
          secrets: { type: 'object', maxProperties: 64, additionalProperties: { type: 'object' } },
          configs: { type: 'object', maxProperties: 64, additionalProperties: { type: 'object' } },
          ...unsupportedFields(['include', 'models']),
        },
        ['services'],
      ),
      patternProperties: EXTENSIONS,
    },
    ComposeService: service,
    ComposeDeploy: deploy,
    ...composeNetworkDefinitions(),
    ...composeVolumeDefinitions(),
    ...composeStartOrderDefinitions(),
  };
}
