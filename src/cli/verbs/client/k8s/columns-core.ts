/** kubectl's columns for the v1 kinds: Pod, Node, Namespace, ConfigMap, Secret. */
import type { KindObject } from '../../../../core/objects/validate.js';
import { since } from './human-duration.js';
import type { KindColumns } from './kind-columns.js';
import { podSummary } from './pod-status.js';

export const podColumns: KindColumns<'Pod'> = {
  headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  // Grove has no preemption (NOMINATED NODE) and no readiness gates: kubectl prints <none> for both.
  wideHeaders: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
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
  headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wideHeaders: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  row: (node, now) => [node.metadata.name, nodeStatus(node), nodeRoles(node), since(node.metadata.creationTimestamp, now), node.status?.nodeInfo?.kubeletVersion ?? ''],
  wide: (node) => {
    const info = node.status?.nodeInfo;
    return [address(node, 'InternalIP'), address(node, 'ExternalIP'), info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>'];
  },
};

export const namespaceColumns: KindColumns<'Namespace'> = {
  headers: ['NAME', 'STATUS', 'AGE'],
  row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? '', since(ns.metadata.creationTimestamp, now)],
};

export const configMapColumns: KindColumns<'ConfigMap'> = {
  headers: ['NAME', 'DATA', 'AGE'],
  row: (cm, now) => [cm.metadata.name, String(Object.keys(cm.data ?? {}).length), since(cm.metadata.creationTimestamp, now)],
};

export const secretColumns: KindColumns<'Secret'> = {
  headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
  row: (s, now) => [s.metadata.name, s.type ?? 'Opaque', String(Object.keys(s.data ?? {}).length), since(s.metadata.creationTimestamp, now)],
};
