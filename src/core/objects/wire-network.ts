/**
 * The two retained, cluster-wide network messages (issue 15, docs/protocol.md "Network view"),
 * published by the server (src/server/network/network-publisher.ts) and decoded by every agent
 * (agent/src/agent/network-sync.ts, through src/core/wire-network.ts):
 *
 *   grove/v1/<cluster>/network/cluster                       WireNetworkCluster: settings, nodes,
 *       and the index of Services with their revisions (a Service absent from it is gone)
 *   grove/v1/<cluster>/network/services/<namespace>/<name>   WireNetworkService (empty = deleted)
 *
 * The static types are assignable to src/core/network/view.ts (a unit test holds them to it).
 * Limits: what an edge cluster can hold with room (nodes, Services, endpoints per Service), so
 * one message stays well under the payload limits of src/core/wire-network.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, IPV4 as IPV4_PATTERN, pattern, stringEnum, stringMap } from './kit.js';
import { WIRE_SCHEMA } from '../wire-types.js';

export const NETWORK_LIMITS = Object.freeze({ nodes: 5000, services: 10_000, endpoints: 5000, ports: 100, lbNodes: 5000, ingresses: 1000, ingressRules: 100, ingressPaths: 100 });

const int = (minimum = 0, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum, maximum });
const ipv4 = () => pattern(IPV4_PATTERN, 'expected an IPv4 address', { maxLength: 15 });
const CIDR = '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}/([0-9]|[12][0-9]|3[0-2])$';
const cidr = () => pattern(CIDR, 'expected an IPv4 CIDR such as 10.42.0.0/16', { maxLength: 18 });
const name = () => pattern('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'expected a DNS label', { maxLength: 63 });
const hostName = () => Type.String({ minLength: 1, maxLength: 253 });
const protocol = () => stringEnum(['TCP', 'UDP', 'SCTP'], { errorMessage: 'expected TCP, UDP or SCTP' });
const port = () => int(1, 65535);

export const WireNetworkNode = closed({ name: hostName(), internalIP: ipv4(), podCIDR: Type.Optional(cidr()), ingress: Type.Optional(Type.Boolean()) });

const ingressBackend = () => closed({ service: name(), port: Type.Union([port(), Type.String({ minLength: 1, maxLength: 15 })]) });
const ingressHost = () => Type.String({ maxLength: 253 });

/** An Ingress as ingress nodes need it (src/core/network/ingress-view.ts); TLS Secrets by name only. */
export const WireIngress = closed({
  namespace: name(),
  name: hostName(),
  defaultBackend: Type.Optional(ingressBackend()),
  rules: Type.Array(closed({
    host: ingressHost(),
    paths: Type.Array(closed({ path: Type.String({ minLength: 1, maxLength: 1024 }), pathType: stringEnum(['Exact', 'Prefix']), backend: ingressBackend() }), { maxItems: NETWORK_LIMITS.ingressPaths }),
  }), { maxItems: NETWORK_LIMITS.ingressRules }),
  tls: Type.Array(closed({ hosts: Type.Array(ingressHost(), { maxItems: 50 }), secretName: hostName() }), { maxItems: 50 }),
});

export const WireNetworkCluster = closed(
  {
    schema: Type.Literal(WIRE_SCHEMA),
    revision: int(1),
    clusterCIDR: cidr(),
    serviceCIDR: cidr(),
    clusterDomain: hostName(),
    overlay: closed({ backend: stringEnum(['vxlan', 'host-gw', 'none'], { errorMessage: 'expected vxlan, host-gw or none' }), vni: int(0, 16_777_215), port: port() }),
    nodes: Type.Array(WireNetworkNode, { maxItems: NETWORK_LIMITS.nodes }),
    /** "<namespace>/<name>" → the revision of its service message. */
    services: stringMap(int(1), { keys: pattern('^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'expected <namespace>/<name>', { maxLength: 127 }), maxProperties: NETWORK_LIMITS.services }),
    /** The Ingresses Grove serves; absent when there are none (so clusters without Ingresses send what older agents read). */
    ingresses: Type.Optional(Type.Array(WireIngress, { maxItems: NETWORK_LIMITS.ingresses })),
  },
  { $id: 'WireNetworkCluster' },
);
export type WireNetworkCluster = Static<typeof WireNetworkCluster>;

export const WireServicePort = closed({ name: Type.String({ maxLength: 15 }), protocol: protocol(), port: port(), nodePort: Type.Optional(port()) });

export const WireEndpoint = closed({
  ip: ipv4(),
  nodeName: Type.Optional(hostName()),
  ready: Type.Boolean(),
  terminating: Type.Optional(Type.Boolean()),
  hostname: Type.Optional(name()),
  targetRef: Type.Optional(Type.String({ maxLength: 320 })),
  ports: stringMap(port(), { keys: Type.String({ maxLength: 15 }), maxProperties: NETWORK_LIMITS.ports }),
});

export const WireServiceView = closed({
  namespace: name(),
  name: name(),
  type: stringEnum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], { errorMessage: 'expected a Service type' }),
  clusterIP: Type.Optional(ipv4()),
  externalName: Type.Optional(hostName()),
  sessionAffinitySeconds: Type.Optional(int(1, 86400)),
  ports: Type.Array(WireServicePort, { maxItems: NETWORK_LIMITS.ports }),
  loadBalancerNodes: Type.Optional(Type.Array(hostName(), { maxItems: NETWORK_LIMITS.lbNodes })),
  publishNotReadyAddresses: Type.Optional(Type.Boolean()),
  /** A compose service's own name when its Service's is derived from it (`my_db` → `my-db`): DNS answers both. */
  composeName: Type.Optional(pattern('^[a-z0-9_][a-z0-9_-]*$', 'expected a lowercase compose service name without dots', { maxLength: 63 })),
  endpoints: Type.Array(WireEndpoint, { maxItems: NETWORK_LIMITS.endpoints }),
});

export const WireNetworkService = closed(
  { schema: Type.Literal(WIRE_SCHEMA), revision: int(1), service: WireServiceView },
  { $id: 'WireNetworkService' },
);
export type WireNetworkService = Static<typeof WireNetworkService>;
