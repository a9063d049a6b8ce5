/**
 * PURE: a Deployment's or DaemonSet's template history as `kubectl rollout history|undo` reads
 * it: the ReplicaSets the Deployment controls (revision = their deployment.kubernetes.io/revision
 * annotation; template = theirs without the pod-template-hash label), or the ControllerRevisions
 * the DaemonSet controls (their `revision`, `data.spec.template`).
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { CHANGE_CAUSE_ANNOTATION, DEPLOYMENT_REVISION_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from '../../../../core/objects/annotations.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { PodTemplateSpec } from '../../../../core/objects/pod.js';
import { podTemplateHash } from '../../../../core/objects/template-hash.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import { table } from '../../../format.js';

export type Workload = KindObject<'Deployment'> | KindObject<'DaemonSet'>;

export interface Revision {
  revision: number;
  /** The template as the workload had it (no hash label). */
  template: PodTemplateSpec;
  changeCause?: string;
}

/** The objects `owner` controls (its uid in a controller ownerReference). */
export function controlledBy<T extends AnyObject>(owner: AnyObject, objects: readonly T[]): T[] {
  return objects.filter((o) => o.metadata.ownerReferences?.some((r) => r.controller === true && r.kind === owner.kind && r.uid === owner.metadata.uid));
}

function withoutHashLabel(template: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...template.metadata?.labels };
  if (!(POD_TEMPLATE_HASH_LABEL in labels)) return template;
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const { labels: _old, ...metadata } = template.metadata ?? {};
  return { ...template, metadata: { ...metadata, ...(Object.keys(labels).length ? { labels } : {}) } };
}

function cause(o: AnyObject): { changeCause?: string } {
  const c = o.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return c !== undefined ? { changeCause: c } : {};
}

/** Oldest first. ReplicaSets without a revision annotation are not history (kubectl skips them too). */
export function deploymentRevisions(d: KindObject<'Deployment'>, replicaSets: readonly KindObject<'ReplicaSet'>[]): Revision[] {
  const out: Revision[] = [];
  for (const rs of controlledBy(d, replicaSets)) {
    const n = Number(rs.metadata.annotations?.[DEPLOYMENT_REVISION_ANNOTATION]);
    if (Number.isInteger(n) && n > 0) out.push({ revision: n, template: withoutHashLabel(rs.spec.template as PodTemplateSpec), ...cause(rs) });
  }
  return out.sort((a, b) => a.revision - b.revision);
}

export function daemonSetRevisions(ds: KindObject<'DaemonSet'>, revisions: readonly KindObject<'ControllerRevision'>[]): Revision[] {
  const out: Revision[] = [];
  for (const cr of controlledBy(ds, revisions)) {
    if (cr.data) out.push({ revision: cr.revision, template: cr.data.spec.template as PodTemplateSpec, ...cause(cr) });
  }
  return out.sort((a, b) => a.revision - b.revision);
}

/** `rollout history`'s table: `REVISION  CHANGE-CAUSE`, oldest first, as kubectl prints it. */
export function historyTable(revisions: readonly Revision[]): string {
  return table(['REVISION', 'CHANGE-CAUSE'], revisions.map((r) => [String(r.revision), r.changeCause ?? '<none>']));
}

export type UndoPlan = { action: 'rollback'; revision: number; template: PodTemplateSpec } | { action: 'skip'; revision: number };

/**
 * Where `rollout undo` goes: revision `toRevision`, or (0) the one before the newest, as
 * kubectl; `skip` when the workload's template already is that revision's.
 */
export function undoPlan(workload: Workload, revisions: readonly Revision[], toRevision: number): UndoPlan {
  const what = `${workload.kind === 'Deployment' ? 'deployment' : 'daemon set'} ${JSON.stringify(workload.metadata.name)}`;
  if (revisions.length === 0) throw new GroveError(ErrorCode.NotFound, `no rollout history found for ${what}`);
  let target: Revision | undefined;
  if (toRevision === 0) {
    if (revisions.length < 2) throw new GroveError(ErrorCode.NotFound, `no rollout history found for ${what}: it has one revision only`);
    target = revisions[revisions.length - 2];
  } else {
    target = revisions.find((r) => r.revision === toRevision);
    if (!target) throw new GroveError(ErrorCode.NotFound, `unable to find specified revision ${toRevision} in history of ${what}`);
  }
  if (podTemplateHash(target!.template) === podTemplateHash(workload.spec.template)) return { action: 'skip', revision: target!.revision };
  return { action: 'rollback', revision: target!.revision, template: structuredClone(target!.template) };
}
