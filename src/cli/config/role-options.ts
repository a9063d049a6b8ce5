/**
 * The configuration of each role, declared once: every option with its flag, GROVE_* variable,
 * config file key, unit and default. `grove server --print-config` and `grove agent
 * --print-config` show them resolved; docs/operations.md's option table is generated from them
 * (test/unit/config-doc.test.ts keeps it current). Kept free of heavy imports: the command
 * table is built from these at every start, `grove --version` included.
 */
import { join } from 'node:path';
import { parseDurationMs } from '../../core/quantity.js';
import { DEFAULT_CONFIG_FILE } from './config-file.js';
import { many, onOff, option, type DeprecatedVariable, type OptionTable } from './option.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, DEFAULT_SERVICE_CIDR, OVERLAY_BACKENDS } from '../../core/network/cluster-ranges.js';
import { address, count, duration, keyValues, list, nodeAddressOrNone, oneOf, path, text, url } from './units.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Every command's: where state lives, how much it logs, and the client config of the API verbs. */
export const GLOBAL_OPTIONS = {
  dataDir: option({
    unit: path,
    description: 'state directory',
    env: 'GROVE_DATA_DIR',
    file: true,
    default: ({ host }) => (host.root ? '/var/lib/grove' : join(host.xdgDataHome ?? join(host.home, '.local', 'share'), 'grove')),
    defaultText: '/var/lib/grove as root, else ~/.local/share/grove',
  }),
  debug: onOff({ description: 'debug logs and stack traces on errors' }),
  logLevel: option({
    unit: oneOf(LOG_LEVELS, 'level'),
    description: `log level: ${LOG_LEVELS.join('|')}`,
    env: 'GROVE_LOG_LEVEL',
    file: true,
    default: ({ daemon, earlier }) => (earlier.debug === true ? 'debug' : daemon ? 'info' : 'warn'),
    defaultText: 'warn; info for server and agent; debug with --debug',
  }),
  config: option({
    unit: path,
    description: 'client config for API verbs (default <data-dir>/client.json); for server and agent, write --config after the role: it names their YAML file',
    env: 'GROVE_CONFIG',
  }),
} satisfies OptionTable;

/** The YAML file of server and agent (`grove server --config FILE`); other commands read $GROVE_CONFIG_FILE or the default. */
export const CONFIG_FILE_OPTION = option({
  unit: path,
  description: 'YAML configuration file: keys are the flag names (node-grace: 40s); absent is fine unless named',
  env: 'GROVE_CONFIG_FILE',
  default: DEFAULT_CONFIG_FILE,
});

export const PRINT_CONFIG = onOff({ description: 'print every option, its value and where it came from (flag, variable, file, default), then exit' });

/** How the node runs containers: `grove ctr`, `grove agent` and the server's local agent. */
export const RUNTIME_OPTIONS = {
  runtime: option({ unit: oneOf(['auto', 'crun', 'runc'] as const, 'name'), description: 'OCI runtime: auto|crun|runc', env: 'GROVE_RUNTIME', file: true, defaultText: "config.json's runtime, else auto" }),
  shim: option({ unit: path, description: 'the grove-shim binary', env: 'GROVE_SHIM', file: true, defaultText: 'the one beside the package' }),
  rootfsMode: option({
    unit: oneOf(['auto', 'overlay', 'copy'] as const, 'mode'),
    description: "containers' root filesystems: overlay, copy, or auto (overlay, else a copy)",
    env: 'GROVE_ROOTFS_MODE',
    file: true,
    default: 'auto',
  }),
} satisfies OptionTable;

/** An earlier release's GROVE_*_SECONDS variable: a plain number of seconds. */
function secondsVariable(name: string, instead: string): DeprecatedVariable<number> {
  return {
    name,
    instead,
    parse: (raw, where) => {
      const seconds = Number(raw);
      if (!Number.isFinite(seconds) || seconds <= 0) return parseDurationMs(raw, where);
      return Math.round(seconds * 1000);
    },
  };
}

/** A node agent's, for `grove agent` and the server's local agent. */
const NODE_AGENT_OPTIONS = {
  nodeName: option({
    unit: text('name', 253),
    description: "this node's name",
    env: 'GROVE_NODE_NAME',
    file: true,
    default: ({ host }) => host.hostname.replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, ''),
    defaultText: 'hostname',
  }),
  label: many({ unit: keyValues('k=v'), description: 'node label (repeatable; comma-separated in the variable)', env: 'GROVE_LABELS', file: true }),
  nodeIp: option({
    unit: text('ip', 15),
    description: "this node's InternalIP: what other nodes send its pods' traffic to (on a host with several addresses)",
    env: 'GROVE_NODE_IP',
    file: true,
    defaultText: 'the first address of a physical-looking interface',
  }),
  restartBackoff: option({
    unit: duration,
    description: 'first delay before restarting an exited container, doubling to 5m',
    env: 'GROVE_RESTART_BACKOFF',
    deprecatedEnv: secondsVariable('GROVE_RESTART_BACKOFF_SECONDS', 'GROVE_RESTART_BACKOFF=10s'),
    file: true,
    default: 10_000,
  }),
  updateLockMax: option({ unit: duration, description: 'longest an update lock may defer a stop, for apps without grove.io/update-lock-max', env: 'GROVE_UPDATE_LOCK_MAX', file: true, default: 3_600_000 }),
  heartbeat: option({
    unit: duration,
    description: "how often the node's status is sent when nothing changes",
    env: 'GROVE_HEARTBEAT',
    deprecatedEnv: secondsVariable('GROVE_HEARTBEAT_SECONDS', 'GROVE_HEARTBEAT=15s'),
    file: true,
    default: 15_000,
  }),
  hostPathRoot: many({ unit: list('dir'), description: 'hostPath volumes must lie under this directory (repeatable; none = any path, see docs/security.md)', env: 'GROVE_HOST_PATH_ROOTS', file: true }),
  clusterDns: option({
    unit: nodeAddressOrNone,
    description: "this node's cluster DNS address, the nameserver of pods' resolv.conf (put on interface grvd-<tag>, port 53); none: no cluster DNS, pods get the node's resolv.conf",
    env: 'GROVE_CLUSTER_DNS',
    file: true,
    default: '169.254.20.10',
  }),
  ingressHttpPort: option({ unit: count(1, 65_535, 'port'), description: 'on a node labelled node-role.kubernetes.io/ingress=true: the port its Caddy serves Ingresses on over HTTP', env: 'GROVE_INGRESS_HTTP_PORT', file: true, default: 80 }),
  ingressHttpsPort: option({ unit: count(1, 65_535, 'port'), description: "on an ingress node: the port its Caddy serves the Ingresses' TLS hosts on over HTTPS", env: 'GROVE_INGRESS_HTTPS_PORT', file: true, default: 443 }),
  v8Tuning: onOff({ negate: true, description: 'V8 tuned for a small heap (--optimize-for-size); off to compare (docs/performance.md)', env: 'GROVE_V8_TUNING', file: true }),
} satisfies OptionTable;

export const AGENT_OPTIONS = {
  config: CONFIG_FILE_OPTION,
  printConfig: PRINT_CONFIG,
  server: option({ unit: url, description: 'server API URL, e.g. https://192.168.1.10:7080 (needed to join)', env: 'GROVE_SERVER_URL', file: true }),
  tokenFile: option({ unit: path, description: 'file holding the join token from `grove token create`, read for the first join only', env: 'GROVE_TOKEN_FILE', file: true }),
  token: option({ unit: text('token'), description: "join token: as a flag it joins (again), proving the node's name with its saved credential; visible in ps, prefer --token-file", env: 'GROVE_TOKEN', file: true, secret: true }),
  ...NODE_AGENT_OPTIONS,
  ...RUNTIME_OPTIONS,
} satisfies OptionTable;

/**
 * The cluster's pod network, the same for every node (docs/networking.md "Pod network"); k3s'
 * flag names. Checked together at start (src/core/network/cluster-ranges.ts).
 */
const CLUSTER_NETWORK_OPTIONS = {
  clusterCidr: option({ unit: text('cidr', 18), description: 'IPv4 range pod addresses come from; each node gets a block of it', env: 'GROVE_CLUSTER_CIDR', file: true, default: DEFAULT_CLUSTER_CIDR }),
  nodeCidrMaskSize: option({ unit: count(1, 32, 'bits'), description: "prefix length of each node's pod CIDR (a /24 holds 253 pods)", env: 'GROVE_NODE_CIDR_MASK_SIZE', file: true, default: DEFAULT_NODE_CIDR_MASK_SIZE }),
  serviceCidr: option({ unit: text('cidr', 18), description: "IPv4 range Services' cluster IPs come from; must not overlap --cluster-cidr", env: 'GROVE_SERVICE_CIDR', file: true, default: DEFAULT_SERVICE_CIDR }),
  flannelBackend: option({
    unit: oneOf(OVERLAY_BACKENDS, 'backend'),
    description: "how nodes reach each other's pods: vxlan (an overlay, works across routed networks), host-gw (plain routes, one flat LAN), none",
    env: 'GROVE_FLANNEL_BACKEND',
    file: true,
    default: 'vxlan',
  }),
  vxlanVni: option({ unit: count(1, 16_777_215), description: 'VXLAN network identifier of the vxlan backend', env: 'GROVE_VXLAN_VNI', file: true, default: 1 }),
  vxlanPort: option({ unit: count(1, 65_535, 'port'), description: 'UDP port of the vxlan backend', env: 'GROVE_VXLAN_PORT', file: true, default: 8472 }),
} satisfies OptionTable;

export const SERVER_OPTIONS = {
  config: CONFIG_FILE_OPTION,
  printConfig: PRINT_CONFIG,
  apiAddr: option({ unit: address, description: 'HTTP API listen address', env: 'GROVE_API_ADDR', file: true, default: { host: '0.0.0.0', port: 7080 } }),
  mqttAddr: option({ unit: address, description: 'embedded MQTT broker listen address', env: 'GROVE_MQTT_ADDR', file: true, default: { host: '0.0.0.0', port: 1883 } }),
  mqttMaxConnections: option({ unit: count(2, 1_000_000), description: 'embedded broker: most MQTT connections at once (nodes + the server itself)', env: 'GROVE_MQTT_MAX_CONNECTIONS', file: true, default: 5000 }),
  mqttUrl: option({
    unit: text('url'),
    description: 'use an external broker (e.g. Mosquitto) instead of the embedded one; with --broker-credentials a comma-separated list of cluster members',
    env: 'GROVE_MQTT_URL',
    file: true,
  }),
  brokerCredentials: option({
    unit: path,
    description: 'with --mqtt-url: a broker with its own users (NATS, EMQX): JSON {server:{username,password}, node:{username,password}}; no Mosquitto files are written',
    env: 'GROVE_BROKER_CREDENTIALS',
    file: true,
  }),
  mosquittoDir: option({ unit: path, description: 'with --mqtt-url: where to write mosquitto.conf, passwd and acl', env: 'GROVE_MOSQUITTO_DIR', file: true, defaultText: '<data-dir>/server/mosquitto' }),
  mosquittoPidFile: option({ unit: path, description: 'with --mqtt-url: reload this Mosquitto (SIGHUP) when nodes join', env: 'GROVE_MOSQUITTO_PID_FILE', file: true }),
  mosquittoUser: option({ unit: text('user'), description: "with --mqtt-url: the user Mosquitto drops to (its `user` option; default Mosquitto's own)", env: 'GROVE_MOSQUITTO_USER', file: true }),
  maxApiConnections: option({
    unit: count(1, 1_000_000),
    description: 'HTTP API: most connections open at once; more are refused as they arrive (keep it and --mqtt-max-connections under the open-file limit)',
    env: 'GROVE_MAX_API_CONNECTIONS',
    file: true,
    default: 10_000,
  }),
  maxJoinsInFlight: option({ unit: count(1, 100_000), description: 'joins worked on at once; more are answered 503 with Retry-After and the agents retry', env: 'GROVE_MAX_JOINS_IN_FLIGHT', file: true, default: 1000 }),
  advertiseAddr: option({ unit: text('host'), description: 'address nodes use to reach this server', env: 'GROVE_ADVERTISE_ADDR', file: true, defaultText: 'first LAN IPv4' }),
  cluster: option({ unit: text('name', 63), description: 'cluster name, chosen at first start', env: 'GROVE_CLUSTER', file: true, defaultText: 'the stored one, else default' }),
  tls: onOff({ description: 'serve the API and MQTT over TLS with a cluster CA generated at first start', env: 'GROVE_TLS', file: true }),
  agent: onOff({ negate: true, description: 'run an agent for this host', env: 'GROVE_AGENT', file: true }),
  nodeGrace: option({ unit: duration, description: 'a node silent this long (no status, no presence) is NotReady', env: 'GROVE_NODE_GRACE', file: true, default: 40_000 }),
  evictionTimeout: option({
    unit: duration,
    description: 'Deployment pods move off a node NotReady this long (per app: annotation grove.io/eviction-timeout)',
    env: 'GROVE_EVICTION_TIMEOUT',
    file: true,
    default: 300_000,
  }),
  ...CLUSTER_NETWORK_OPTIONS,
  serviceNodePortRange: option({ unit: text('range', 11), description: 'NodePort and LoadBalancer Services get their node ports from this range', env: 'GROVE_SERVICE_NODE_PORT_RANGE', file: true, default: '30000-32767' }),
  clusterDomain: option({ unit: text('domain', 253), description: "the cluster's DNS domain: <service>.<namespace>.svc.<domain>", env: 'GROVE_CLUSTER_DOMAIN', file: true, default: 'cluster.local' }),
  ...NODE_AGENT_OPTIONS,
  ...RUNTIME_OPTIONS,
} satisfies OptionTable;

/** The tables whose options the YAML file may set, by role, for the docs and the file's key check. */
export const ROLE_TABLES: readonly { readonly role: string; readonly table: OptionTable }[] = [
  { role: 'all', table: GLOBAL_OPTIONS },
  { role: 'server', table: SERVER_OPTIONS },
  { role: 'agent', table: AGENT_OPTIONS },
  { role: 'ctr', table: RUNTIME_OPTIONS },
  { role: 'check', table: { runtime: RUNTIME_OPTIONS.runtime } },
];
