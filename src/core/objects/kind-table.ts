/**
 * One line per kind: its API version, resource names (as kubectl spells them), scope, whether
 * the server writes a status, and its schema. Adding a kind is a schema file, a line here, and
 * a controller if it needs one; the registry (kinds.ts), the generated validators
 * (schemas.ts, generate.ts) and the store keys (src/core/keys.ts) follow from it.
 */
import type { TSchema } from '@sinclair/typebox';
import { CronJob, Job } from './batch.js';
import { Namespace, Node } from './cluster.js';
import { ConfigMap, Secret } from './config.js';
import { Pod } from './pod.js';
import { Ingress, IngressClass } from './ingress.js';
import { EndpointSlice, Service } from './service.js';
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from './storage.js';
import { ServiceAccount } from './service-account.js';
import { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from './workloads.js';

export interface KindRow<S extends TSchema = TSchema> {
  /** "v1", "apps/v1", "batch/v1". */
  apiVersion: string;
  /** The resource name in API paths and store keys: "deployments". */
  plural: string;
  /** kubectl's short names: deploy, rs, ds, po, no, cm, ns, cj. */
  shortNames: readonly string[];
  namespaced: boolean;
  /** Whether objects of the kind have a status the server writes. */
  hasStatus: boolean;
  schema: S;
}

function row<S extends TSchema>(apiVersion: string, plural: string, shortNames: string[], scope: 'namespaced' | 'cluster', schema: S, status: 'status' | 'no status' = 'status'): KindRow<S> {
  return Object.freeze({ apiVersion, plural, shortNames: Object.freeze(shortNames), namespaced: scope === 'namespaced', hasStatus: status === 'status', schema });
}

export const KIND_TABLE = Object.freeze({
  Namespace: row('v1', 'namespaces', ['ns'], 'cluster', Namespace),
  Node: row('v1', 'nodes', ['no'], 'cluster', Node),
  Pod: row('v1', 'pods', ['po'], 'namespaced', Pod),
  ConfigMap: row('v1', 'configmaps', ['cm'], 'namespaced', ConfigMap, 'no status'),
  Secret: row('v1', 'secrets', [], 'namespaced', Secret, 'no status'),
  Deployment: row('apps/v1', 'deployments', ['deploy'], 'namespaced', Deployment),
  ReplicaSet: row('apps/v1', 'replicasets', ['rs'], 'namespaced', ReplicaSet),
  DaemonSet: row('apps/v1', 'daemonsets', ['ds'], 'namespaced', DaemonSet),
  StatefulSet: row('apps/v1', 'statefulsets', ['sts'], 'namespaced', StatefulSet),
  ControllerRevision: row('apps/v1', 'controllerrevisions', [], 'namespaced', ControllerRevision, 'no status'),
  Job: row('batch/v1', 'jobs', [], 'namespaced', Job),
  CronJob: row('batch/v1', 'cronjobs', ['cj'], 'namespaced', CronJob),
  Service: row('v1', 'services', ['svc'], 'namespaced', Service),
  EndpointSlice: row('discovery.k8s.io/v1', 'endpointslices', [], 'namespaced', EndpointSlice, 'no status'),
  Ingress: row('networking.k8s.io/v1', 'ingresses', ['ing'], 'namespaced', Ingress),
  IngressClass: row('networking.k8s.io/v1', 'ingressclasses', [], 'cluster', IngressClass, 'no status'),
  PersistentVolumeClaim: row('v1', 'persistentvolumeclaims', ['pvc'], 'namespaced', PersistentVolumeClaim),
  PersistentVolume: row('v1', 'persistentvolumes', ['pv'], 'cluster', PersistentVolume),
  StorageClass: row('storage.k8s.io/v1', 'storageclasses', ['sc'], 'cluster', StorageClass, 'no status'),
  ServiceAccount: row('v1', 'serviceaccounts', ['sa'], 'namespaced', ServiceAccount, 'no status'),
});

export type KindName = keyof typeof KIND_TABLE;

/** The kinds a manifest may hold: what users write (Node and ControllerRevision are Grove's own). */
export const APPLIED_KINDS = ['Namespace', 'ConfigMap', 'Secret', 'Pod', 'Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob', 'Service', 'EndpointSlice', 'Ingress', 'IngressClass', 'PersistentVolumeClaim', 'PersistentVolume', 'StorageClass', 'ServiceAccount'] as const satisfies readonly KindName[];

/** The schema of each kind, by kind name. */
export type KindSchemas = { [K in KindName]: (typeof KIND_TABLE)[K]['schema'] };
