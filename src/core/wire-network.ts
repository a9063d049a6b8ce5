/**
 * The network view on the wire (issue 15, docs/protocol.md "Network view"): encoding the two
 * retained messages (src/core/objects/wire-network.ts), decoding them through the generated
 * validators (size-limited first), and assembling the ClusterNetworkView a node programs from.
 * Pure; the server publishes, the agent subscribes.
 */
import type { ClusterNetworkView, ServiceView } from './network/view.js';
import type { WireNetworkCluster, WireNetworkService } from './objects/wire-network.js';
import { WireNetworkCluster as ClusterValidator, WireNetworkService as ServiceValidator } from './objects/generated/wire-network.js';
import { encodeMessage } from './wire-codec.js';
import { FieldError, schemaDecoder } from './wire-check.js';
import { WIRE_SCHEMA } from './wire-types.js';

export type { WireNetworkCluster, WireNetworkService };

/** The index: 5,000 nodes and 10,000 Services fit in well under this. */
export const MAX_NETWORK_CLUSTER_BYTES = 2 * 1024 * 1024;
/** One Service: 5,000 endpoints with their ports fit in well under this. */
export const MAX_NETWORK_SERVICE_BYTES = 1024 * 1024;

export const decodeNetworkCluster = schemaDecoder<WireNetworkCluster>({
  max: MAX_NETWORK_CLUSTER_BYTES,
  what: 'network index',
  schema: WIRE_SCHEMA,
  label: () => 'network index',
  validator: ClusterValidator,
});

export const decodeNetworkService = schemaDecoder<WireNetworkService>({
  max: MAX_NETWORK_SERVICE_BYTES,
  what: 'network service',
  schema: WIRE_SCHEMA,
  label: (o) => {
    const s = o.service as { namespace?: unknown; name?: unknown } | undefined;
    return typeof s?.namespace === 'string' && typeof s.name === 'string' && s.namespace.length + s.name.length < 130 ? `network service ${s.namespace}/${s.name}` : 'network service';
  },
  validator: ServiceValidator,
  then: (m) => {
    const names = new Set(m.service.ports.map((p) => p.name));
    if (names.size !== m.service.ports.length) throw new FieldError('service.ports', 'port names must be unique');
    return m;
  },
});

export function encodeNetworkCluster(m: WireNetworkCluster): Buffer {
  return encodeMessage(m);
}

export function encodeNetworkService(m: WireNetworkService): Buffer {
  return encodeMessage(m);
}

export function serviceKey(s: { namespace: string; name: string }): string {
  return `${s.namespace}/${s.name}`;
}

/**
 * The view from the index and the service messages received: a Service counts only when the
 * index lists it (one that left the index is gone even if its deletion was missed while the
 * node was offline); one listed whose message has not arrived yet is left out until it does.
 * Services in name order, so equal inputs give equal views.
 */
export function assembleView(index: WireNetworkCluster, services: ReadonlyMap<string, WireNetworkService>): ClusterNetworkView {
  const listed: ServiceView[] = [];
  for (const key of Object.keys(index.services).sort()) {
    const m = services.get(key);
    if (m) listed.push(m.service);
  }
  return {
    revision: index.revision,
    clusterCIDR: index.clusterCIDR,
    serviceCIDR: index.serviceCIDR,
    clusterDomain: index.clusterDomain,
    overlay: index.overlay,
    nodes: index.nodes,
    services: listed,
    ...(index.ingresses?.length ? { ingresses: index.ingresses } : {}),
  };
}
