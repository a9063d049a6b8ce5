/**
 * The ONE module that spells store keys (docs/architecture.md, "Store layout"). No other module
 * writes a key or a key prefix as a literal.
 *
 * Objects:    <plural>/<namespace>/<name>   namespaced kinds   (deployments/default/web)
 *             <plural>/<name>               cluster-scoped     (nodes/pi-1, namespaces/default)
 * Internal:   grove/…                       Grove's own records, never Kubernetes objects
 *
 * Object values are the objects themselves; `metadata.resourceVersion` is the entry's store
 * revision, set when read (never stored). The store's own bookkeeping below the Store interface
 * (LevelStore's "\x00meta/revision", "\x00quarantine/…") stays in src/store.
 */
import { ErrorCode, GroveError } from './errors.js';
import { quoteValue } from './quote.js';

/** What a key needs of a kind (a kind registry entry, src/core/objects/kinds.ts, is one). */
export interface KeyKind {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Where objects go when no namespace is named; Grove creates it at start. */
export const DEFAULT_NAMESPACE = 'default';

function segment(value: string, what: string): string {
  if (value.length === 0 || value.includes('/') || value.includes('\0')) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid ${what} ${quoteValue(value)} in a store key: it must be non-empty, without "/"`);
  }
  return value;
}

/** `deployments/default/web`, `nodes/pi-1`. A namespaced kind needs a namespace; a cluster-scoped one refuses it. */
export function objectKey(kind: KeyKind, namespace: string | undefined, name: string): string {
  if (kind.namespaced) {
    if (namespace === undefined) throw new GroveError(ErrorCode.InvalidArgument, `${kind.plural} are namespaced: a key needs a namespace`);
    return `${namespacePrefix(kind, namespace)}${segment(name, 'name')}`;
  }
  if (namespace !== undefined) throw new GroveError(ErrorCode.InvalidArgument, `${kind.plural} are cluster-scoped: a key has no namespace`);
  return `${kindPrefix(kind)}${segment(name, 'name')}`;
}

/** Every object of a kind (all namespaces): `pods/`. */
export function kindPrefix(kind: KeyKind): string {
  return `${segment(kind.plural, 'resource')}/`;
}

/** Every object of a namespaced kind in one namespace: `pods/default/`. */
export function namespacePrefix(kind: KeyKind, namespace: string): string {
  if (!kind.namespaced) throw new GroveError(ErrorCode.InvalidArgument, `${kind.plural} are cluster-scoped: they have no namespace prefix`);
  return `${kindPrefix(kind)}${segment(namespace, 'namespace')}/`;
}

export interface ParsedObjectKey {
  plural: string;
  namespace?: string;
  name: string;
}

/** An object key's parts (`kinds` decides whether the plural is namespaced); undefined for anything else. */
export function parseObjectKey(key: string, kinds: readonly KeyKind[]): ParsedObjectKey | undefined {
  if (key.startsWith(GROVE_PREFIX)) return undefined;
  const parts = key.split('/');
  const kind = kinds.find((k) => k.plural === parts[0]);
  if (!kind || parts.some((p) => p === '')) return undefined;
  if (kind.namespaced) return parts.length === 3 ? { plural: kind.plural, namespace: parts[1]!, name: parts[2]! } : undefined;
  return parts.length === 2 ? { plural: kind.plural, name: parts[1]! } : undefined;
}

/* --------------------------------------------------------------- Grove's own */

/** Every internal record starts here; controllers that watch objects ignore it. */
export const GROVE_PREFIX = 'grove/';

const TARGETS = `${GROVE_PREFIX}targets/`;
const TOKENS = `${GROVE_PREFIX}tokens/`;
const NODE_CREDENTIALS = `${GROVE_PREFIX}nodecreds/`;
const NODE_KEYS = `${GROVE_PREFIX}nodekeys/`;
const CONFIG_BUNDLES = `${GROVE_PREFIX}config/`;
const USERS = `${GROVE_PREFIX}users/`;

/**
 * The server's internal records. Each names the 0.1 key it replaces (the migration reads
 * LEGACY_KEYS and writes these).
 */
export const GroveKeys = Object.freeze({
  /** Last published target revision and checksum per node (was targets/<node>). */
  target: (node: string) => TARGETS + segment(node, 'node'),
  targetPrefix: TARGETS,
  /** Join token records (was tokens/<id>). */
  token: (id: string) => TOKENS + segment(id, 'token id'),
  tokenPrefix: TOKENS,
  /** The node's MQTT credential hash; never in the Node object (was the credentialHash field of nodes/<node>). */
  nodeCredential: (node: string) => NODE_CREDENTIALS + segment(node, 'node'),
  nodeCredentialPrefix: NODE_CREDENTIALS,
  /** The node's config key, sealed at rest (was nodekeys/<node>). */
  nodeKey: (node: string) => NODE_KEYS + segment(node, 'node'),
  nodeKeyPrefix: NODE_KEYS,
  /** The config bundle last published to a node (was configs/<node>). */
  configBundle: (node: string) => CONFIG_BUNDLES + segment(node, 'node'),
  configBundlePrefix: CONFIG_BUNDLES,
  /** A named API user: role, token hashes, client certificate serials (new in issue 14). */
  user: (name: string) => USERS + segment(name, 'user'),
  userPrefix: USERS,
  /** The store layout's version: absent on a 0.1 data dir, which the migration upgrades (new). */
  schemaVersion: `${GROVE_PREFIX}meta/schema`,
  /** The cluster's name, chosen at first start (was cluster). */
  cluster: `${GROVE_PREFIX}meta/cluster`,
  /** The newest events, saved within the flash budget (src/server/events/event-snapshot.ts) (new). */
  events: `${GROVE_PREFIX}events/newest`,
});

/** Keys whose values the server seals at rest (src/server/sealed-store.ts): Secrets and node keys. */
export const SEALED_KEY_PREFIXES: readonly string[] = Object.freeze(['secrets/', NODE_KEYS]);

/* ----------------------------------------------------------------- the agent */

/** The agent's own store (its LevelDB): unchanged since 0.1, so an upgraded agent reads what it wrote. */
export const AgentKeys = Object.freeze({
  /** The last NodeTarget received. */
  target: 'target',
  /** The revision of the last target applied. */
  appliedRevision: 'applied-revision',
  /** A Job pod's runs, so a finished Job is not run again after a restart. */
  job: (pod: string) => `jobs/${segment(pod, 'pod')}`,
  jobPrefix: 'jobs/',
  /** The last cluster network view received (agent/src/agent/network-sync.ts): routes, rules and DNS offline. */
  networkView: 'network/view',
});

/* ---------------------------------------------------------- the 0.1 layout */

/**
 * The server store of Grove 0.1, for the migration (and backups taken by 0.1) only. Object
 * kinds had no namespace: `apps/<name>` held Deployments, DaemonSets, Jobs and CronJobs alike.
 */
export const LEGACY_KEYS = Object.freeze({
  /** Grove Apps → deployments|daemonsets|jobs|cronjobs/default/<name>. */
  appPrefix: 'apps/',
  /** App revisions revisions/<app>/<template hash> → ReplicaSets / ControllerRevisions. */
  revisionPrefix: 'revisions/',
  /** Rollout records → Deployment status and rollout annotations (grove.io/rollout-complete, grove.io/last-rollback). */
  rolloutPrefix: 'rollouts/',
  /** Pod assignments pods/<name> → pods/default/<name>. */
  podPrefix: 'pods/',
  /** configmaps/<name> → configmaps/default/<name>. */
  configMapPrefix: 'configmaps/',
  /** secrets/<name> (sealed) → secrets/default/<name>. */
  secretPrefix: 'secrets/',
  /** nodes/<name> → nodes/<name> (a Node object) + GroveKeys.nodeCredential. */
  nodePrefix: 'nodes/',
  tokenPrefix: 'tokens/',
  targetPrefix: 'targets/',
  nodeKeyPrefix: 'nodekeys/',
  configRecordPrefix: 'configs/',
  cluster: 'cluster',
});
