/**
 * MQTT topic layout for the sync protocol (see src/core/wire-types.ts and docs/protocol.md).
 * Names go straight into topic strings, so they are validated here: a `+`, `#` or `/` in a
 * cluster or node name would let one node subscribe to or publish on another node's topics.
 */
import { ErrorCode, GroveError } from './errors.js';
import { quoteValue } from './quote.js';

export const TOPIC_ROOT = 'grove/v1';

export type NodeTopicKind = 'target' | 'status' | 'presence' | 'rpcRequest' | 'rpcResponse' | 'config';

export interface NodeTopics {
  target: string;
  status: string;
  presence: string;
  rpcRequest: string;
  rpcResponse: string;
  /** Retained: the node's ConfigMaps and Secrets, encrypted for it (src/core/wire-config.ts). */
  config: string;
}

export interface ParsedNodeTopic {
  cluster: string;
  node: string;
  kind: NodeTopicKind;
}

/** Topic suffix (after grove/v1/<cluster>/nodes/<node>/) of each kind. */
const SUFFIX: Readonly<Record<NodeTopicKind, string>> = Object.freeze({
  target: 'target',
  status: 'status',
  presence: 'presence',
  rpcRequest: 'rpc/req',
  rpcResponse: 'rpc/res',
  config: 'config',
});

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RE.test(name);
}

/** Throws InvalidArgument unless `name` is a DNS-label-like cluster or node name. */
export function validateName(name: unknown, what: string): string {
  if (!isValidName(name)) {
    const shown = typeof name === 'string' ? quoteValue(name) : typeof name;
    throw new GroveError(
      ErrorCode.InvalidArgument,
      `invalid ${what} name ${shown}: use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
      { details: { what, name: typeof name === 'string' ? name : undefined } },
    );
  }
  return name;
}

function nodeBase(cluster: string, node: string): string {
  return `${TOPIC_ROOT}/${cluster}/nodes/${node}`;
}

export function topicsFor(cluster: string, node: string): NodeTopics {
  validateName(cluster, 'cluster');
  validateName(node, 'node');
  const base = nodeBase(cluster, node);
  return {
    target: `${base}/${SUFFIX.target}`,
    status: `${base}/${SUFFIX.status}`,
    presence: `${base}/${SUFFIX.presence}`,
    rpcRequest: `${base}/${SUFFIX.rpcRequest}`,
    rpcResponse: `${base}/${SUFFIX.rpcResponse}`,
    config: `${base}/${SUFFIX.config}`,
  };
}

/** Subscription filter matching one kind of topic for every node, e.g. grove/v1/c/nodes/+/status. */
export function allNodesTopic(cluster: string, kind: NodeTopicKind): string {
  validateName(cluster, 'cluster');
  return `${nodeBase(cluster, '+')}/${SUFFIX[kind]}`;
}

/** Parses a concrete (non-wildcard) node topic; undefined for anything that is not one. */
export function parseNodeTopic(topic: string): ParsedNodeTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 6 || parts.length > 7) return undefined;
  const [root, version, cluster, nodes, node, ...rest] = parts;
  if (`${root}/${version}` !== TOPIC_ROOT || nodes !== 'nodes') return undefined;
  if (!isValidName(cluster) || !isValidName(node)) return undefined;
  const suffix = rest.join('/');
  for (const kind of Object.keys(SUFFIX) as NodeTopicKind[]) {
    if (SUFFIX[kind] === suffix) return { cluster, node, kind };
  }
  return undefined;
}

/**
 * The cluster-wide network view (issue 15, src/core/wire-network.ts): retained, published by the
 * server only, read by every node (`all`). Service topics carry namespace and name, both DNS
 * labels, so no topic level can hold a wildcard or a slash.
 */
export interface NetworkTopics {
  cluster: string;
  /** Every network topic: what a node subscribes to. */
  all: string;
  service(namespace: string, name: string): string;
}

export function networkTopics(cluster: string): NetworkTopics {
  validateName(cluster, 'cluster');
  const base = `${TOPIC_ROOT}/${cluster}/network`;
  return {
    cluster: `${base}/cluster`,
    all: `${base}/#`,
    service: (namespace, name) => `${base}/services/${validateName(namespace, 'namespace')}/${validateName(name, 'service')}`,
  };
}

/** `{namespace, name}` of a network service topic of `cluster`; undefined for anything else. */
export function parseNetworkServiceTopic(cluster: string, topic: string): { namespace: string; name: string } | undefined {
  const prefix = `${TOPIC_ROOT}/${cluster}/network/services/`;
  if (!topic.startsWith(prefix)) return undefined;
  const parts = topic.slice(prefix.length).split('/');
  if (parts.length !== 2 || !isValidName(parts[0]) || !isValidName(parts[1])) return undefined;
  return { namespace: parts[0], name: parts[1] };
}
