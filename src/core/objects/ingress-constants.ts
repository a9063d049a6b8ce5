/**
 * The Ingress and IngressClass kinds' plain constants, apart from their schemas (ingress.ts), so
 * the server's network publisher and the agent read them without loading TypeBox.
 */

export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;
export type PathTypeName = (typeof PATH_TYPES)[number];

/** Size limits of one Ingress (Kubernetes has none this tight; Grove's nodes are small). */
export const INGRESS_LIMITS = Object.freeze({ rules: 100, paths: 100, tls: 50, hosts: 50, pathLength: 1024 });

/** The controller name of Grove's ingress (IngressClass spec.controller). */
export const INGRESS_CONTROLLER = 'grove.io/ingress-caddy';

/** Kubernetes' annotation marking the IngressClass used by Ingresses that name none. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** The Secret type an Ingress' TLS entry must name (kubectl create secret tls). */
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** The node label that makes a node serve Ingresses (value "true"; k3s' ServiceLB label style). */
export const INGRESS_NODE_LABEL = 'node-role.kubernetes.io/ingress';

/** Whether a Node's labels mark it for ingress (INGRESS_NODE_LABEL=true). */
export const isIngressNode = (labels: Readonly<Record<string, string>> | undefined): boolean => labels?.[INGRESS_NODE_LABEL] === 'true';
