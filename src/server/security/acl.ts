/**
 * Who may publish and subscribe where. Pure; the embedded broker calls it for every PUBLISH,
 * SUBSCRIBE and Last Will, and mosquitto.ts renders the same table as a Mosquitto ACL file.
 *
 *   grove-server   publish + subscribe   grove/v1/<cluster>/#   (wildcards allowed)
 *   node.<n>       subscribe             grove/v1/<cluster>/nodes/<n>/target, …/<n>/rpc/req, …/<n>/config
 *   node.<n>       publish               grove/v1/<cluster>/nodes/<n>/status, presence, rpc/res
 *   node.<n>       subscribe             grove/v1/<cluster>/network/# (the cluster-wide network view; never publish)
 *
 * Node topics are compared as exact strings, so a node can neither use wildcards (which could
 * match another node's topics) nor reach a node whose name merely starts with its own.
 */
import { TOPIC_ROOT, isValidName, networkTopics, topicsFor, type NodeTopicKind } from '../../core/topics.js';
import { SERVER_USERNAME, parseNodeUsername } from './credentials.js';

export type MqttAction = 'publish' | 'subscribe';

export interface AuthorizeRequest {
  username: string | undefined;
  action: MqttAction;
  topic: string;
  cluster: string;
}

/** The node-side permission table, shared with the Mosquitto ACL writer. */
export const NODE_PERMISSIONS: Readonly<Record<MqttAction, readonly NodeTopicKind[]>> = Object.freeze({
  subscribe: Object.freeze(['target', 'rpcRequest', 'config'] as const),
  publish: Object.freeze(['status', 'presence', 'rpcResponse'] as const),
});

export function clusterRoot(cluster: string): string {
  return `${TOPIC_ROOT}/${cluster}`;
}

/** The topics a node may use for `action`, in NODE_PERMISSIONS order. */
export function nodeTopicsFor(cluster: string, node: string, action: MqttAction): string[] {
  const topics = topicsFor(cluster, node);
  return NODE_PERMISSIONS[action].map((kind) => topics[kind]);
}

function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

export function authorize(request: AuthorizeRequest): boolean {
  const { username, action, topic, cluster } = request;
  // A bad cluster name would make the prefix checks below meaningless.
  if (!isValidName(cluster) || topic.length === 0 || topic.includes('\u0000')) return false;
  // Wildcards are never valid in a PUBLISH topic; brokers refuse them, we refuse them too.
  if (action === 'publish' && hasWildcard(topic)) return false;

  if (username === SERVER_USERNAME) {
    const root = clusterRoot(cluster);
    // `grove/v1/<cluster>/#` also matches the bare root level, as MQTT defines it.
    return topic === root || topic.startsWith(`${root}/`);
  }

  const node = parseNodeUsername(username);
  if (node === undefined) return false;
  // The network view is the same for every node: any filter inside it may be read, nothing written.
  if (action === 'subscribe' && isNetworkTopic(cluster, topic)) return true;
  return nodeTopicsFor(cluster, node, action).includes(topic);
}

/** Whether `topic` (a filter too) lies inside grove/v1/<cluster>/network/. */
export function isNetworkTopic(cluster: string, topic: string): boolean {
  return topic.startsWith(`${clusterRoot(cluster)}/network/`);
}
