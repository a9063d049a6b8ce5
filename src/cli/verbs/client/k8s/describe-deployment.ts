/**
 * `grove describe deployment`: kubectl's layout (replicas, strategy, pod template, conditions,
 * old and new ReplicaSets) plus the Grove block (auto-rollback, update window, start order,
 * why pods wait for a node). Its ReplicaSet is the newest one whose template is the Deployment's
 * by meaning (template-equality.ts, the hash label left out), as the controller finds it.
 */
import { DEPLOYMENT_REVISION_ANNOTATION } from '../../../../core/objects/annotations.js';
import { findTemplate } from '../../../../core/objects/template-equality.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import { formatSelector } from '../../../../core/objects/columns/cells.js';
import { describePodTemplate } from './describe-containers.js';
import { describeGrove } from './describe-grove.js';
import { describeTime, DescribeText } from './describe-writer.js';

type Deployment = KindObject<'Deployment'>;
type ReplicaSet = KindObject<'ReplicaSet'>;

/** The ReplicaSets `d` controls (by owner uid), split into its current one and the older ones still running pods. */
export function deploymentReplicaSets(d: Deployment, all: readonly ReplicaSet[]): { current?: ReplicaSet; old: ReplicaSet[] } {
  const owned = all.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'Deployment' && (o.uid === d.metadata.uid || (d.metadata.uid === undefined && o.name === d.metadata.name))));
  const current = findTemplate(owned, (rs) => rs.spec.template, (rs) => Number(rs.metadata.annotations?.[DEPLOYMENT_REVISION_ANNOTATION]) || 0, d.spec.template);
  return { ...(current ? { current } : {}), old: owned.filter((rs) => rs !== current && (rs.spec.replicas ?? 1) > 0) };
}

function replicaSetText(rs: ReplicaSet): string {
  return `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec.replicas ?? 1} replicas created)`;
}

export function describeDeployment(d: Deployment, replicaSets: readonly ReplicaSet[], pods: readonly KindObject<'Pod'>[]): string {
  const out = new DescribeText();
  const s = d.status ?? {};
  const strategy = d.spec.strategy ?? {};
  out.field(0, 'Name', d.metadata.name);
  out.field(0, 'Namespace', d.metadata.namespace);
  out.field(0, 'CreationTimestamp', describeTime(d.metadata.creationTimestamp));
  out.labels(0, 'Labels', d.metadata.labels);
  out.annotations(0, 'Annotations', d.metadata.annotations);
  out.field(0, 'Selector', formatSelector(d.spec.selector));
  out.field(0, 'Replicas', `${d.spec.replicas ?? 1} desired | ${s.updatedReplicas ?? 0} updated | ${s.replicas ?? 0} total | ${s.availableReplicas ?? 0} available | ${s.unavailableReplicas ?? 0} unavailable`);
  out.field(0, 'StrategyType', strategy.type ?? 'RollingUpdate');
  out.field(0, 'MinReadySeconds', 0);
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const r = strategy.rollingUpdate ?? {};
    out.field(0, 'RollingUpdateStrategy', `${r.maxUnavailable ?? '25%'} max unavailable, ${r.maxSurge ?? '25%'} max surge`);
  }
  const t = d.spec.template;
  describePodTemplate(out, t);
  if (s.conditions?.length) {
    out.line(0, 'Conditions:');
    out.row(1, ['Type', 'Status', 'Reason']);
    out.row(1, ['----', '------', '------']);
    for (const c of s.conditions) out.row(1, [c.type, c.status, c.reason ?? '']);
  }
  const { current, old } = deploymentReplicaSets(d, replicaSets);
  out.field(0, 'OldReplicaSets', old.map(replicaSetText).join(', '));
  out.field(0, 'NewReplicaSet', current ? replicaSetText(current) : undefined);
  describeGrove(out, { annotations: [t.metadata?.annotations, d.metadata.annotations], progressDeadlineSeconds: d.spec.progressDeadlineSeconds ?? 600, pods });
  return out.toString();
}
