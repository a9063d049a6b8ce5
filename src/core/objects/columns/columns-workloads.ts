/**
 * kubectl's columns for apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet and ControllerRevision.
 * Counts come from the status the controllers write (0 while there is none); replicas absent
 * from a spec is Kubernetes' default, 1.
 */
import type { KindObject } from '../validate.js';
import { containerCells, formatLabels, formatSelector, n } from './cells.js';
import { since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, TEMPLATE_WIDE_COLUMNS, type KindColumns } from './kind-columns.js';

export const deploymentColumns: KindColumns<'Deployment'> = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pods that are ready, of the desired replicas.'),
    column('Up-to-date', 'integer', 'Total number of pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'integer', 'Total number of pods targeted by this deployment that have been ready for at least minReadySeconds.'),
    AGE_COLUMN,
  ],
  wideColumns: TEMPLATE_WIDE_COLUMNS,
  row: (d, now) => [d.metadata.name, `${n(d.status?.readyReplicas)}/${d.spec.replicas ?? 1}`, n(d.status?.updatedReplicas), n(d.status?.availableReplicas), since(d.metadata.creationTimestamp, now)],
  wide: (d) => [...containerCells(d.spec.template.spec.containers), formatSelector(d.spec.selector)],
};

export const replicaSetColumns: KindColumns<'ReplicaSet'> = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'The number of pods the replica set wants.'),
    column('Current', 'integer', 'The most recently observed number of pods.'),
    column('Ready', 'integer', 'The number of pods that are ready.'),
    AGE_COLUMN,
  ],
  wideColumns: TEMPLATE_WIDE_COLUMNS,
  row: (rs, now) => [rs.metadata.name, String(rs.spec.replicas ?? 1), n(rs.status?.replicas), n(rs.status?.readyReplicas), since(rs.metadata.creationTimestamp, now)],
  wide: (rs) => [...containerCells(rs.spec.template.spec.containers), formatSelector(rs.spec.selector)],
};

export const daemonSetColumns: KindColumns<'DaemonSet'> = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'The number of nodes that should be running the daemon pod.'),
    column('Current', 'integer', 'The number of nodes running at least one daemon pod that are supposed to.'),
    column('Ready', 'integer', 'The number of nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'The number of nodes running the updated daemon pod.'),
    column('Available', 'integer', 'The number of nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'The node labels the daemon pods are restricted to.'),
    AGE_COLUMN,
  ],
  wideColumns: TEMPLATE_WIDE_COLUMNS,
  row: (ds, now) => {
    const s = ds.status;
    return [ds.metadata.name, n(s?.desiredNumberScheduled), n(s?.currentNumberScheduled), n(s?.numberReady), n(s?.updatedNumberScheduled), n(s?.numberAvailable), formatLabels(ds.spec.template.spec.nodeSelector), since(ds.metadata.creationTimestamp, now)];
  },
  wide: (ds) => [...containerCells(ds.spec.template.spec.containers), formatSelector(ds.spec.selector)],
};

/** "daemonset.apps/agent": the controller's kind (lower case, with its group) and name. */
function controllerText(cr: KindObject<'ControllerRevision'>): string {
  const owner = cr.metadata.ownerReferences?.find((o) => o.controller);
  if (!owner) return '<none>';
  const slash = owner.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : `.${owner.apiVersion.slice(0, slash)}`;
  return `${owner.kind.toLowerCase()}${group}/${owner.name}`;
}

export const controllerRevisionColumns: KindColumns<'ControllerRevision'> = {
  columns: [NAME_COLUMN, column('Controller', 'string', 'The object this revision belongs to.'), column('Revision', 'integer', 'The revision number.'), AGE_COLUMN],
  row: (cr, now) => [cr.metadata.name, controllerText(cr), String(cr.revision), since(cr.metadata.creationTimestamp, now)],
};

/** As kubectl prints StatefulSets: NAME READY AGE; wide adds CONTAINERS IMAGES (no selector column). */
export const statefulSetColumns: KindColumns<'StatefulSet'> = {
  columns: [NAME_COLUMN, column('Ready', 'string', 'Number of the pods that are ready, of the desired replicas.'), AGE_COLUMN],
  wideColumns: TEMPLATE_WIDE_COLUMNS.slice(0, 2),
  row: (s, now) => [s.metadata.name, `${n(s.status?.readyReplicas)}/${s.spec.replicas ?? 1}`, since(s.metadata.creationTimestamp, now)],
  wide: (s) => containerCells(s.spec.template.spec.containers),
};
