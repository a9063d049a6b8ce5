/**
 * PURE: a DaemonSet's or StatefulSet's template history as ControllerRevisions, as Kubernetes
 * keeps it: one per template, named `<owner>-<controller-revision-hash>`, found again by comparing templates
 * by meaning (migrated revisions keep 0.1's hash and spelling), its `revision` only growing (a template that becomes
 * current again gets the next number); old ones beyond revisionHistoryLimit go once no pod
 * runs them.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../core/objects/annotations.js';
import { findTemplate } from '../../core/objects/template-equality.js';
import { podTemplateHash } from '../../core/objects/template-hash.js';
import { controllerRef, type Pod } from './object-kit.js';

/** The kinds whose template history is kept as ControllerRevisions. */
type DaemonSet = KindObject<'DaemonSet'> | KindObject<'StatefulSet'>;
type ControllerRevision = KindObject<'ControllerRevision'>;

export function revisionHash(cr: ControllerRevision): string | undefined {
  return cr.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
}

export interface CurrentRevision {
  hash: string;
  /** The revision object as it should be stored; `changed` when it must be written. */
  revision: ControllerRevision;
  changed: boolean;
  collisionCount: number;
}

/** `owned`: the DaemonSet's revisions; `all`: every revision (a new name must be free among them). */
export function currentRevision(ds: DaemonSet, owned: readonly ControllerRevision[], all: readonly ControllerRevision[]): CurrentRevision {
  const ns = ds.metadata.namespace ?? 'default';
  const newest = Math.max(0, ...owned.map((cr) => cr.revision));
  let collisionCount = ds.status?.collisionCount ?? 0;
  // By template (the same by meaning: template-equality.ts); else its own revision of the very
  // hash (never a collision with itself).
  const ownHash = podTemplateHash(ds.spec.template, collisionCount);
  const labelled = owned.filter((cr) => revisionHash(cr) !== undefined);
  const found = findTemplate(labelled, (cr) => cr.data?.spec.template, (cr) => cr.revision, ds.spec.template) ?? owned.find((cr) => revisionHash(cr) === ownHash);
  if (found) {
    const stale = found.revision < newest;
    return { hash: revisionHash(found)!, revision: stale ? { ...found, revision: newest + 1 } : found, changed: stale, collisionCount };
  }
  let hash = podTemplateHash(ds.spec.template, collisionCount);
  while (all.some((cr) => (cr.metadata.namespace ?? 'default') === ns && cr.metadata.name === `${ds.metadata.name}-${hash}`) && collisionCount < 100) {
    hash = podTemplateHash(ds.spec.template, ++collisionCount);
  }
  const revision: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata.name}-${hash}`,
      namespace: ns,
      labels: { ...ds.spec.template.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [controllerRef(ds)],
    },
    data: { spec: { template: structuredClone(ds.spec.template) } },
    revision: newest + 1,
  };
  return { hash, revision, changed: true, collisionCount };
}

/**
 * `owned`: the owner's revisions; `pods`: its pods, whose controller-revision-hash label names
 * the revision they run (a DaemonSet's pods carry the hash, a StatefulSet's the revision's name).
 */
export function pruneRevisions(ds: DaemonSet, owned: readonly ControllerRevision[], currentHash: string, pods: readonly Pod[]): ObjectChange[] {
  const labels = new Set(pods.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]));
  const live = new Set(owned.filter((cr) => labels.has(revisionHash(cr)) || labels.has(cr.metadata.name)).map(revisionHash));
  const old = owned.filter((cr) => revisionHash(cr) !== currentHash).sort((a, b) => a.revision - b.revision);
  const excess = Math.max(0, old.length - (ds.spec.revisionHistoryLimit ?? 10));
  return old
    .filter((cr) => !live.has(revisionHash(cr)))
    .slice(0, excess)
    .map((cr) => ({ op: 'delete' as const, ref: { kind: 'ControllerRevision' as const, namespace: cr.metadata.namespace ?? 'default', name: cr.metadata.name } }));
}
