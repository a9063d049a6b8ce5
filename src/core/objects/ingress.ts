/**
 * networking.k8s.io/v1 Ingress and IngressClass (issue 15, docs/networking.md "Ingress").
 *
 * An Ingress routes HTTP(S) by host and path to Services; the agents of the nodes labelled for
 * ingress serve it through Caddy (agent/src/runtime/net/ingress*.ts). Rules across fields (a
 * path's shape by pathType, one of port name or number, rules or a default backend) are
 * ingress-rules.ts, worded as Kubernetes' ValidateIngress words them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsLabel, dnsSubdomain, pattern, refTo, stringEnum, unsupported } from './kit.js';
import { LoadBalancerIngress } from './service.js';
import { ObjectMeta, typeMeta } from './meta.js';
import { INGRESS_LIMITS, PATH_TYPES } from './ingress-constants.js';

export * from './ingress-constants.js';

/** A host as Kubernetes takes it: a DNS subdomain, optionally with one leading "*." wildcard label. */
const WILDCARD_HOST = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const host = () => pattern(WILDCARD_HOST, "must be a DNS name (lowercase letters, digits, '-' and '.'), optionally starting with '*.'", { maxLength: 253 });

export const IngressServiceBackend = closed({
  name: dnsLabel(),
  port: Type.Optional(closed({
    name: Type.Optional(Type.String({ maxLength: 15 })),
    number: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number 1-65535' })),
  })),
});
export type IngressServiceBackend = Static<typeof IngressServiceBackend>;

export const IngressBackend = closed({
  service: Type.Optional(IngressServiceBackend),
  resource: Type.Optional(unsupported('resource backends are not supported: use a Service backend')),
});
export type IngressBackend = Static<typeof IngressBackend>;

export const HTTPIngressPath = closed({
  path: Type.Optional(Type.String({ maxLength: INGRESS_LIMITS.pathLength })),
  pathType: stringEnum(PATH_TYPES, { errorMessage: `must be one of ${PATH_TYPES.join(', ')}` }),
  backend: IngressBackend,
});
export type HTTPIngressPath = Static<typeof HTTPIngressPath>;

export const IngressRule = closed({
  host: Type.Optional(host()),
  http: Type.Optional(closed({ paths: Type.Array(HTTPIngressPath, { minItems: 1, maxItems: INGRESS_LIMITS.paths }) })),
});
export type IngressRule = Static<typeof IngressRule>;

export const IngressTLS = closed({
  hosts: Type.Optional(Type.Array(host(), { maxItems: INGRESS_LIMITS.hosts })),
  secretName: Type.Optional(dnsSubdomain()),
});
export type IngressTLS = Static<typeof IngressTLS>;

export const IngressSpec = closed({
  ingressClassName: Type.Optional(dnsSubdomain()),
  defaultBackend: Type.Optional(IngressBackend),
  tls: Type.Optional(Type.Array(IngressTLS, { maxItems: INGRESS_LIMITS.tls })),
  rules: Type.Optional(Type.Array(IngressRule, { maxItems: INGRESS_LIMITS.rules })),
});
export type IngressSpec = Static<typeof IngressSpec>;

/** The nodes serving the Ingress, as a LoadBalancer Service's status lists them (same shape as Kubernetes'). */
export const IngressStatus = closed({
  loadBalancer: Type.Optional(closed({ ingress: Type.Optional(Type.Array(LoadBalancerIngress, { maxItems: 256 })) })),
});
export type IngressStatus = Static<typeof IngressStatus>;

export const Ingress = closed(
  {
    ...typeMeta('networking.k8s.io/v1', 'Ingress'),
    metadata: refTo(ObjectMeta),
    spec: Type.Optional(IngressSpec),
    status: Type.Optional(IngressStatus),
  },
  { $id: 'Ingress' },
);
export type Ingress = Static<typeof Ingress>;

/* ----------------------------------------------------------------- IngressClass */

export const IngressClassSpec = closed({
  /** Which controller serves the class: Grove's is INGRESS_CONTROLLER ("grove.io/ingress-caddy"). */
  controller: Type.Optional(Type.String({ maxLength: 250 })),
  parameters: Type.Optional(unsupported('IngressClass parameters are not supported')),
});

export const IngressClass = closed(
  {
    ...typeMeta('networking.k8s.io/v1', 'IngressClass'),
    metadata: refTo(ObjectMeta),
    spec: Type.Optional(IngressClassSpec),
  },
  { $id: 'IngressClass' },
);
export type IngressClass = Static<typeof IngressClass>;
