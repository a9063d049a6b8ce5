/**
 * Every kind's table columns, as kubectl shows them (the Kubernetes API server's column
 * definitions): shared by the server's meta.k8s.io Table and the CLI's text tables. Pure.
 */
import type { KindName } from '../validate.js';
import { cronJobColumns, jobColumns } from './columns-batch.js';
import { configMapColumns, namespaceColumns, nodeColumns, podColumns, secretColumns, serviceAccountColumns } from './columns-core.js';
import { controllerRevisionColumns, daemonSetColumns, deploymentColumns, replicaSetColumns, statefulSetColumns } from './columns-workloads.js';
import type { KindColumns } from './kind-columns.js';
import { endpointSliceColumns, serviceColumns } from './columns-network.js';
import { ingressClassColumns, ingressColumns } from './columns-ingress.js';
import { persistentVolumeClaimColumns, persistentVolumeColumns, storageClassColumns } from './columns-storage.js';

export type { ColumnDefinition, KindColumns } from './kind-columns.js';
export { headersOf } from './kind-columns.js';

/** Every kind has its columns: a kind added to the table without them does not compile. */
const COLUMNS: { readonly [K in KindName]: KindColumns<K> } = {
  Namespace: namespaceColumns,
  Node: nodeColumns,
  Pod: podColumns,
  ConfigMap: configMapColumns,
  Secret: secretColumns,
  Deployment: deploymentColumns,
  ReplicaSet: replicaSetColumns,
  DaemonSet: daemonSetColumns,
  StatefulSet: statefulSetColumns,
  ControllerRevision: controllerRevisionColumns,
  Job: jobColumns,
  CronJob: cronJobColumns,
  Service: serviceColumns,
  EndpointSlice: endpointSliceColumns,
  Ingress: ingressColumns,
  IngressClass: ingressClassColumns,
  PersistentVolumeClaim: persistentVolumeClaimColumns,
  PersistentVolume: persistentVolumeColumns,
  StorageClass: storageClassColumns,
  ServiceAccount: serviceAccountColumns,
};

/** The columns of `kind`, typed for objects of any kind (the caller passes objects of that kind). */
export function columnsOf(kind: KindName): KindColumns<KindName> {
  return COLUMNS[kind] as unknown as KindColumns<KindName>;
}
