/**
 * Cluster-scoped v1 kinds: Namespace (deleting one deletes what is in it) and Node (one per
 * joined board: cordon is `spec.unschedulable`; its credential hash lives under grove/nodecreds,
 * never in the object).
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsLabel, mergeList, quantity, stringEnum, stringMap, unsupportedFields } from './kit.js';
import { Conditions, objectMetaWithName, typeMeta } from './meta.js';
import { Taints } from './taints.js';

export const NAMESPACE_PHASES = ['Active', 'Terminating'] as const;

export const Namespace = closed(
  {
    ...typeMeta('v1', 'Namespace'),
    // Namespaces name pods' DNS domains in Kubernetes: a DNS label.
    metadata: objectMetaWithName(dnsLabel()),
    spec: Type.Optional(closed({ finalizers: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 16 })) })),
    status: Type.Optional(closed({ phase: Type.Optional(stringEnum(NAMESPACE_PHASES)), conditions: Type.Optional(Conditions) })),
  },
  { $id: 'Namespace' },
);
export type Namespace = Static<typeof Namespace>;

/** capacity / allocatable: cpu, memory, pods, and whatever a node reports (Kubernetes' ResourceList). */
export const NodeResources = stringMap(quantity('a quantity such as 4, 500m or 8Gi'), { maxProperties: 64 });

export const NodeAddress = closed({
  type: stringEnum(['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS']),
  address: Type.String({ minLength: 1, maxLength: 253 }),
});
export type NodeAddress = Static<typeof NodeAddress>;

/** What the node reports about itself; kubeletVersion is the Grove agent's version. */
export const NodeSystemInfo = closed({
  architecture: Type.String({ maxLength: 256 }),
  operatingSystem: Type.String({ maxLength: 256 }),
  kernelVersion: Type.String({ maxLength: 256 }),
  containerRuntimeVersion: Type.String({ maxLength: 256 }),
  kubeletVersion: Type.String({ maxLength: 256 }),
  osImage: Type.Optional(Type.String({ maxLength: 256 })),
  machineID: Type.Optional(Type.String({ maxLength: 256 })),
  bootID: Type.Optional(Type.String({ maxLength: 256 })),
  systemUUID: Type.Optional(Type.String({ maxLength: 256 })),
  kubeProxyVersion: Type.Optional(Type.String({ maxLength: 256 })),
});
export type NodeSystemInfo = Static<typeof NodeSystemInfo>;

export const NodeSpec = closed({
  /** Cordoned: no new pods are scheduled here. */
  unschedulable: Type.Optional(Type.Boolean()),
  /** The node's pod subnet (issue 15 hands these out). */
  podCIDR: Type.Optional(Type.String({ maxLength: 64 })),
  podCIDRs: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 2 })),
  /** NoSchedule / NoExecute keep pods without a matching toleration off (taints.ts); cordon adds node.kubernetes.io/unschedulable. */
  taints: Type.Optional(Taints),
  ...unsupportedFields(['providerID', 'configSource', 'externalID']),
});
export type NodeSpec = Static<typeof NodeSpec>;

export const NodeStatus = closed({
  /** Ready (lastHeartbeatTime written on transitions only: flash). */
  conditions: Type.Optional(Conditions),
  nodeInfo: Type.Optional(NodeSystemInfo),
  capacity: Type.Optional(NodeResources),
  allocatable: Type.Optional(NodeResources),
  addresses: Type.Optional(Type.Array(NodeAddress, { maxItems: 16, ...mergeList('type') })),
});
export type NodeStatus = Static<typeof NodeStatus>;

/** Node names go into MQTT topics and usernames: a DNS label, as `grove agent` requires. */
export const Node = closed(
  { ...typeMeta('v1', 'Node'), metadata: objectMetaWithName(dnsLabel()), spec: Type.Optional(NodeSpec), status: Type.Optional(NodeStatus) },
  { $id: 'Node' },
);
export type Node = Static<typeof Node>;

