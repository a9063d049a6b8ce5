/**
 * kubectl's columns for apps/v1: Deployment, ReplicaSet, DaemonSet and ControllerRevision.
 * Counts come from the status the controllers write (0 while there is none); replicas absent
 * from a spec is Kubernetes' default, 1.
 */
import type { KindObject } from '../../../../core/objects/validate.js';
import { containerCells, formatLabels, formatSelector, n } from './cells.js';
import { since } from './human-duration.js';
import type { KindColumns } from './kind-columns.js';

const WIDE_TEMPLATE = ['CONTAINERS', 'IMAGES', 'SELECTOR'];

export const deploymentColumns: KindColumns<'Deployment'> = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wideHeaders: WIDE_TEMPLATE,
  row: (d, now) => [d.metadata.name, `${n(d.status?.readyReplicas)}/${d.spec.replicas ?? 1}`, n(d.status?.updatedReplicas), n(d.status?.availableReplicas), since(d.metadata.creationTimestamp, now)],
  wide: (d) => [...containerCells(d.spec.template.spec.containers), formatSelector(d.spec.selector)],
};

export const replicaSetColumns: KindColumns<'ReplicaSet'> = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wideHeaders: WIDE_TEMPLATE,
  row: (rs, now) => [rs.metadata.name, String(rs.spec.replicas ?? 1), n(rs.status?.replicas), n(rs.status?.readyReplicas), since(rs.metadata.creationTimestamp, now)],
  wide: (rs) => [...containerCells(rs.spec.template.spec.containers), formatSelector(rs.spec.selector)],
};

export const daemonSetColumns: KindColumns<'DaemonSet'> = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
  wideHeaders: WIDE_TEMPLATE,
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
  headers: ['NAME', 'CONTROLLER', 'REVISION', 'AGE'],
  row: (cr, now) => [cr.metadata.name, controllerText(cr), String(cr.revision), since(cr.metadata.creationTimestamp, now)],
};
