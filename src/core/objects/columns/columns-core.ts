/** kubectl's columns for the v1 kinds: Pod, Node, Namespace, ConfigMap, Secret. */
import type { KindObject } from '../validate.js';
import { since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, wideColumn, type KindColumns } from './kind-columns.js';
import { podSummary } from './pod-status.js';

export const podColumns: KindColumns<'Pod'> = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
  ],
  // Grove has no preemption (NOMINATED NODE) and no readiness gates: kubectl prints <none> for both.
  wideColumns: [
    wideColumn('IP', 'string', 'The IP address allocated to the pod.'),
    wideColumn('Node', 'string', 'The node the pod is scheduled onto.'),
    wideColumn('Nominated Node', 'string', 'Grove does not preempt: always <none>.'),
    wideColumn('Readiness Gates', 'string', 'Grove has no readiness gates: always <none>.'),
  ],
  row: (pod, now) => {
    const s = podSummary(pod, now);
    return [pod.metadata.name, s.ready, s.status, s.restarts, since(pod.metadata.creationTimestamp, now)];
  },
  wide: (pod) => [pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>'],
};

type Node = KindObject<'Node'>;

/** Ready / NotReady / Unknown (no Ready condition yet), ",SchedulingDisabled" when cordoned. */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value) roles.add(value);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function address(node: Node, type: 'InternalIP' | 'ExternalIP'): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

export const nodeColumns: KindColumns<'Node'> = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', 'The version of the Grove agent on the node.'),
  ],
  wideColumns: [
    wideColumn('Internal-IP', 'string', 'The node\'s InternalIP address.'),
    wideColumn('External-IP', 'string', 'The node\'s ExternalIP address.'),
    wideColumn('OS-Image', 'string', 'The OS image reported by the node (/etc/os-release).'),
    wideColumn('Kernel-Version', 'string', 'The kernel version reported by the node (uname -r).'),
    wideColumn('Container-Runtime', 'string', 'The container runtime reported by the node.'),
  ],
  row: (node, now) => [node.metadata.name, nodeStatus(node), nodeRoles(node), since(node.metadata.creationTimestamp, now), node.status?.nodeInfo?.kubeletVersion ?? ''],
  wide: (node) => {
    const info = node.status?.nodeInfo;
    return [address(node, 'InternalIP'), address(node, 'ExternalIP'), info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>'];
  },
};

export const namespaceColumns: KindColumns<'Namespace'> = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? '', since(ns.metadata.creationTimestamp, now)],
};

export const configMapColumns: KindColumns<'ConfigMap'> = {
  columns: [NAME_COLUMN, column('Data', 'integer', 'The number of keys in the config map.'), AGE_COLUMN],
  row: (cm, now) => [cm.metadata.name, String(Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length), since(cm.metadata.creationTimestamp, now)],
};

/** kubectl's ServiceAccount table: SECRETS counts the listed token Secrets (Grove makes none). */
export const serviceAccountColumns: KindColumns<'ServiceAccount'> = {
  columns: [NAME_COLUMN, column('Secrets', 'integer', 'The number of Secrets listed by the service account.'), AGE_COLUMN],
  row: (sa, now) => [sa.metadata.name, String(sa.secrets?.length ?? 0), since(sa.metadata.creationTimestamp, now)],
};

export const secretColumns: KindColumns<'Secret'> = {
  columns: [NAME_COLUMN, column('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), column('Data', 'integer', 'The number of keys in the secret.'), AGE_COLUMN],
  row: (s, now) => [s.metadata.name, s.type ?? 'Opaque', String(Object.keys(s.data ?? {}).length), since(s.metadata.creationTimestamp, now)],
};
