/**
 * The Service and EndpointSlice kinds' plain constants, apart from their schemas (service.ts) so
 * that the server's controllers and network view read them without loading TypeBox at start.
 */

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
export type ServiceTypeName = (typeof SERVICE_TYPES)[number];

/** Kubernetes' limits: ports per Service, endpoints per slice (its controller's default max is 100; 1000 is the API's). */
export const SERVICE_LIMITS = Object.freeze({ ports: 100, endpointsPerSlice: 1000, sessionAffinityMaxSeconds: 86400 });

/** ClientIP affinity lasts this long unless the Service says otherwise (Kubernetes' default: 3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

export const ENDPOINT_SLICE_ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;

/** The label that ties an EndpointSlice to its Service (kube-proxy and DNS read slices by it). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Who manages a slice: the controller only touches slices carrying its own value. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const GROVE_SLICE_MANAGER = 'endpointslice-controller.grove.io';
