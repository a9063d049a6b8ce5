/**
 * What the Kubernetes paths serve for each stored kind, as discovery announces it: the verbs
 * (kubectl refuses a verb discovery does not list, so they must be honest) and the categories
 * (`kubectl get all`). ONE table, so what the server serves is corrected in one place when a
 * part of the API lands or goes. Subresources (pods/log, deployments/scale…) are announced by
 * the parts that serve them, as DiscoveryResource extras (discovery.ts).
 */
import { ALL_KINDS, type KindName } from '../../core/objects/kinds.js';
import type { DiscoveryResource } from './discovery.js';

/** Kubernetes' verbs, as discovery spells them. */
export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

/** Everything the object routes serve for a kind users write: read, watch, write, delete. */
const READ_WRITE: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface ServedKind {
  verbs: readonly Verb[];
  /** `all`: what `kubectl get all` lists (Kubernetes' workloads and pods). */
  categories: readonly string[];
}

export const SERVED_KINDS: { readonly [K in KindName]: ServedKind } = {
  Namespace: { verbs: READ_WRITE, categories: [] },
  // Nodes join with a token; the API reads, labels, cordons (patch/update) and deletes them.
  Node: { verbs: ['delete', 'get', 'list', 'patch', 'update', 'watch'], categories: [] },
  Pod: { verbs: READ_WRITE, categories: ['all'] },
  ConfigMap: { verbs: READ_WRITE, categories: [] },
  Secret: { verbs: READ_WRITE, categories: [] },
  Deployment: { verbs: READ_WRITE, categories: ['all'] },
  ReplicaSet: { verbs: READ_WRITE, categories: ['all'] },
  DaemonSet: { verbs: READ_WRITE, categories: ['all'] },
  StatefulSet: { verbs: READ_WRITE, categories: ['all'] },
  // Written by the controllers only; read by `kubectl rollout history`.
  ControllerRevision: { verbs: ['delete', 'get', 'list', 'watch'], categories: [] },
  Job: { verbs: READ_WRITE, categories: ['all'] },
  CronJob: { verbs: READ_WRITE, categories: ['all'] },
  Service: { verbs: READ_WRITE, categories: ['all'] },
  // Written by the EndpointSlice controller for Services with a selector; by users for the others.
  EndpointSlice: { verbs: READ_WRITE, categories: [] },
  Ingress: { verbs: READ_WRITE, categories: [] },
  IngressClass: { verbs: READ_WRITE, categories: [] },
  PersistentVolumeClaim: { verbs: READ_WRITE, categories: [] },
  PersistentVolume: { verbs: READ_WRITE, categories: [] },
  StorageClass: { verbs: READ_WRITE, categories: [] },
  ServiceAccount: { verbs: READ_WRITE, categories: [] },
};

/** The kinds with a scale subresource (served by subresources.ts). */
export const SCALABLE_KINDS: readonly KindName[] = ['Deployment', 'ReplicaSet', 'StatefulSet'];

/** status and scale as discovery announces them (DiscoveryResource, discovery.ts). */
export function writeSubresources(): DiscoveryResource[] {
  const status = ALL_KINDS.filter((k) => k.hasStatus).map((k) => ({
    group: k.group,
    version: k.version,
    kind: k.kind,
    plural: `${k.plural}/status`,
    singular: '',
    shortNames: [],
    namespaced: k.namespaced,
    verbs: ['get', 'patch', 'update'],
  }));
  const scale = ALL_KINDS.filter((k) => SCALABLE_KINDS.includes(k.kind)).map((k) => ({
    group: k.group,
    version: k.version,
    kind: 'Scale',
    plural: `${k.plural}/scale`,
    singular: '',
    shortNames: [],
    namespaced: k.namespaced,
    verbs: ['get', 'patch', 'update'],
    responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  }));
  return [...status, ...scale];
}
