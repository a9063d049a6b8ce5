/**
 * v1 Service and discovery.k8s.io/v1 EndpointSlice (issue 15, docs/networking.md "Services").
 *
 * A Service's virtual IP and node ports are allocated by the server inside the write that
 * creates or updates it (src/server/network/service-allocation.ts); its EndpointSlices are
 * written by the EndpointSlice controller from the pods its selector matches (or by users, for
 * a Service without a selector). Kubernetes' unconditional defaults are schema defaults (type
 * ClusterIP, sessionAffinity None, protocol TCP, internalTrafficPolicy Cluster); the ones that
 * depend on other fields (targetPort = port, externalTrafficPolicy for NodePort, the ClientIP
 * timeout) are code (service-defaults.ts). Rules across fields are service-rules.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsLabel, dnsSubdomain, IPV4, mergeList, pattern, refTo, stringEnum, stringMap, unsupported, unsupportedFields } from './kit.js';
import { Conditions, ObjectMeta, typeMeta } from './meta.js';
import { LABEL_VALUE, LABEL_VALUE_MESSAGE } from './names.js';
import { ENDPOINT_SLICE_ADDRESS_TYPES, SERVICE_LIMITS, SERVICE_TYPES } from './service-constants.js';

export * from './service-constants.js';

const ipv4 = () => pattern(IPV4, 'must be an IPv4 address', { maxLength: 15 });
/** An IANA service name (port names): at most 15 lowercase letters, digits and '-'. */
const IANA_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const portNumber = (what = 'a port number 1-65535') => Type.Integer({ minimum: 1, maximum: 65535, errorMessage: `must be ${what}` });
const protocol = () => stringEnum(['TCP', 'UDP', 'SCTP'], { default: 'TCP', errorMessage: 'must be TCP, UDP or SCTP' });

export const ServicePort = closed({
  /** Required when the Service has more than one port (a rule: service-rules.ts). */
  name: Type.Optional(Type.Unsafe<string>({ type: 'string', maxLength: 15, anyOf: [{ const: '' }, { pattern: IANA_NAME }], errorMessage: 'must be an IANA service name: at most 15 lowercase letters, digits and -' })),
  protocol: Type.Optional(protocol()),
  appProtocol: Type.Optional(Type.String({ maxLength: 253 })),
  port: portNumber(),
  /** A container port number, or the name of a container port (resolved per pod); default: `port`. */
  targetPort: Type.Optional(Type.Unsafe<number | string>({
    type: ['integer', 'string'],
    minimum: 1,
    maximum: 65535,
    maxLength: 15,
    pattern: IANA_NAME,
    errorMessage: 'must be a port number 1-65535 or the name of a container port',
  })),
  /** NodePort and LoadBalancer: allocated from --service-node-port-range when absent. */
  nodePort: Type.Optional(portNumber('a port number in the node port range (--service-node-port-range)')),
});
export type ServicePort = Static<typeof ServicePort>;

export const LoadBalancerIngress = closed({
  ip: Type.Optional(ipv4()),
  hostname: Type.Optional(Type.String({ maxLength: 253 })),
  ipMode: Type.Optional(stringEnum(['VIP', 'Proxy'])),
  ports: Type.Optional(Type.Array(closed({ port: portNumber(), protocol: protocol(), error: Type.Optional(Type.String({ maxLength: 316 })) }), { maxItems: SERVICE_LIMITS.ports })),
});
export type LoadBalancerIngress = Static<typeof LoadBalancerIngress>;

export const ServiceSpec = closed({
  type: Type.Optional(stringEnum(SERVICE_TYPES, { default: 'ClusterIP', errorMessage: `must be one of ${SERVICE_TYPES.join(', ')}` })),
  ports: Type.Optional(Type.Array(ServicePort, { maxItems: SERVICE_LIMITS.ports, ...mergeList('port', 'protocol') })),
  selector: Type.Optional(stringMap(pattern(LABEL_VALUE, LABEL_VALUE_MESSAGE, { maxLength: 63 }), { maxProperties: 64 })),
  /** Allocated from --service-cidr when absent; "None" makes a headless Service. Immutable. */
  clusterIP: Type.Optional(Type.Unsafe<string>({ type: 'string', maxLength: 15, anyOf: [{ const: 'None' }, { const: '' }, { pattern: IPV4 }], errorMessage: 'must be an IPv4 address, "None" (headless) or empty (allocated)' })),
  clusterIPs: Type.Optional(Type.Array(Type.String({ maxLength: 15 }), { maxItems: 1, errorMessage: 'holds one IPv4 address: Grove has no dual-stack Services' })),
  ipFamilies: Type.Optional(Type.Array(Type.Literal('IPv4', { errorMessage: 'must be IPv4: Grove has no IPv6 Services yet' }), { maxItems: 1 })),
  ipFamilyPolicy: Type.Optional(Type.Literal('SingleStack', { errorMessage: 'must be SingleStack: Grove has no dual-stack Services' })),
  /** ExternalName Services: the DNS name they are a CNAME of. */
  externalName: Type.Optional(dnsSubdomain({ errorMessage: 'must be a DNS name' })),
  sessionAffinity: Type.Optional(stringEnum(['None', 'ClientIP'], { default: 'None', errorMessage: 'must be None or ClientIP' })),
  sessionAffinityConfig: Type.Optional(closed({
    clientIP: Type.Optional(closed({ timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: SERVICE_LIMITS.sessionAffinityMaxSeconds, errorMessage: `must be 1-${SERVICE_LIMITS.sessionAffinityMaxSeconds} seconds` })) })),
  })),
  /** Whether not-ready pods are published too (StatefulSet peers finding each other). */
  publishNotReadyAddresses: Type.Optional(Type.Boolean()),
  externalTrafficPolicy: Type.Optional(Type.Unsafe<'Cluster'>({ type: 'string', enum: ['Cluster'], errorMessage: 'must be Cluster: Grove sends node-port traffic to endpoints on any node (Local is not supported yet)' })),
  internalTrafficPolicy: Type.Optional(Type.Unsafe<'Cluster'>({ type: 'string', enum: ['Cluster'], default: 'Cluster', errorMessage: 'must be Cluster (Local is not supported yet)' })),
  allocateLoadBalancerNodePorts: Type.Optional(Type.Boolean()),
  ...unsupportedFields(['externalIPs', 'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'healthCheckNodePort', 'trafficDistribution', 'topologyKeys']),
});
export type ServiceSpec = Static<typeof ServiceSpec>;

export const ServiceStatus = closed({
  loadBalancer: Type.Optional(closed({ ingress: Type.Optional(Type.Array(LoadBalancerIngress, { maxItems: 256 })) })),
  conditions: Type.Optional(Conditions),
});
export type ServiceStatus = Static<typeof ServiceStatus>;

/** Service names become DNS labels (<svc>.<ns>.svc.cluster.local): a DNS label, as Kubernetes requires. */
export const Service = closed(
  {
    ...typeMeta('v1', 'Service'),
    metadata: Type.Intersect([refTo(ObjectMeta), Type.Object({ name: dnsLabel() })]),
    spec: Type.Optional(ServiceSpec),
    status: Type.Optional(ServiceStatus),
  },
  { $id: 'Service' },
);
export type Service = Static<typeof Service>;

/* ----------------------------------------------------------------- EndpointSlice */

export const EndpointConditions = closed({
  ready: Type.Optional(Type.Boolean()),
  serving: Type.Optional(Type.Boolean()),
  terminating: Type.Optional(Type.Boolean()),
});

export const EndpointTargetRef = closed({
  kind: Type.Optional(Type.String({ maxLength: 63 })),
  namespace: Type.Optional(Type.String({ maxLength: 63 })),
  name: Type.Optional(Type.String({ maxLength: 253 })),
  uid: Type.Optional(Type.String({ maxLength: 128 })),
  apiVersion: Type.Optional(Type.String({ maxLength: 253 })),
  resourceVersion: Type.Optional(Type.String({ maxLength: 20 })),
  fieldPath: Type.Optional(Type.String({ maxLength: 253 })),
});

export const Endpoint = closed({
  addresses: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 }),
  conditions: Type.Optional(EndpointConditions),
  hostname: Type.Optional(dnsLabel()),
  targetRef: Type.Optional(EndpointTargetRef),
  nodeName: Type.Optional(Type.String({ maxLength: 253 })),
  zone: Type.Optional(Type.String({ maxLength: 63 })),
  hints: Type.Optional(unsupported('topology hints are not supported')),
  deprecatedTopology: Type.Optional(unsupported('deprecated: not supported')),
});
export type Endpoint = Static<typeof Endpoint>;

export const EndpointPort = closed({
  name: Type.Optional(Type.Unsafe<string>({ type: 'string', maxLength: 15, anyOf: [{ const: '' }, { pattern: IANA_NAME }], errorMessage: 'must be an IANA service name: at most 15 lowercase letters, digits and -' })),
  protocol: Type.Optional(protocol()),
  port: Type.Optional(portNumber()),
  appProtocol: Type.Optional(Type.String({ maxLength: 253 })),
});
export type EndpointPort = Static<typeof EndpointPort>;

export const EndpointSlice = closed(
  {
    ...typeMeta('discovery.k8s.io/v1', 'EndpointSlice'),
    metadata: refTo(ObjectMeta),
    addressType: stringEnum(ENDPOINT_SLICE_ADDRESS_TYPES, { errorMessage: 'must be IPv4, IPv6 or FQDN' }),
    endpoints: Type.Array(Endpoint, { maxItems: SERVICE_LIMITS.endpointsPerSlice }),
    ports: Type.Optional(Type.Array(EndpointPort, { maxItems: SERVICE_LIMITS.ports })),
  },
  { $id: 'EndpointSlice' },
);
export type EndpointSlice = Static<typeof EndpointSlice>;


