/**
 * Garbage collection by ownerReferences, and namespace deletion.
 *
 * - An object all of whose owners are gone (no object of that kind and uid in its namespace, or
 *   one being deleted in this same pass) is deleted: background cascade, the whole chain of
 *   dependents in one pass (a Deployment's ReplicaSets and their Pods go together).
 * - Foreground deletion (DELETE with propagationPolicy Foreground marks the owner with
 *   deletionTimestamp and the `foregroundDeletion` finalizer): the owner counts as gone for its
 *   dependents, which are deleted; the owner itself is deleted in a later pass, once no object
 *   names it as owner any more.
 * - A Namespace marked for deletion (deletionTimestamp, or phase Terminating) has everything in
 *   it deleted; once nothing is left, the Namespace itself goes.
 */
import type { AnyObject, ObjectChange, ObjectRef } from '../../core/objects/changes.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { KindName } from '../../core/objects/validate.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { metaOf, namespaceOf, terminatingNamespaces } from './object-kit.js';

function refFor(o: AnyObject): ObjectRef {
  const ns = KINDS[o.kind as KindName].namespaced ? namespaceOf(o) : undefined;
  return { kind: o.kind as KindName, ...(ns !== undefined ? { namespace: ns } : {}), name: metaOf(o).name };
}

function allObjects(snapshot: ControllerSnapshot): AnyObject[] {
  return (Object.values(snapshot.objects) as (readonly AnyObject[])[]).flat();
}

/** The objects to delete because their owners are gone, dependents of dependents included. */
export function orphans(objects: readonly AnyObject[]): AnyObject[] {
  const live = new Map<string, AnyObject>();
  for (const o of objects) {
    const uid = metaOf(o).uid;
    if (uid !== undefined && !deletingInForeground(o)) live.set(uid, o);
  }
  const doomed = new Set<AnyObject>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const o of objects) {
      const refs = metaOf(o).ownerReferences ?? [];
      if (refs.length === 0 || doomed.has(o)) continue;
      const ownerAlive = refs.some((r) => {
        const owner = live.get(r.uid);
        return owner !== undefined && owner.kind === r.kind && (!KINDS[owner.kind as KindName].namespaced || namespaceOf(owner) === namespaceOf(o));
      });
      if (ownerAlive) continue;
      doomed.add(o);
      const uid = metaOf(o).uid;
      if (uid !== undefined) live.delete(uid);
      changed = true;
    }
  }
  return [...doomed];
}

function deletingInForeground(o: AnyObject): boolean {
  return metaOf(o).finalizers?.includes('foregroundDeletion') === true;
}

/** Objects deleted in the foreground whose dependents are all gone: they go now. */
export function finishedForeground(objects: readonly AnyObject[]): AnyObject[] {
  const owners = new Set<string>();
  for (const o of objects) for (const r of metaOf(o).ownerReferences ?? []) owners.add(r.uid);
  return objects.filter((o) => deletingInForeground(o) && !owners.has(metaOf(o).uid ?? ''));
}

export function garbageCollector(): Controller {
  return {
    name: 'garbage-collector',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const objects = allObjects(snapshot);
      const doomed = [...orphans(objects), ...finishedForeground(objects)];
      return { changes: [...new Set(doomed)].map((o) => ({ op: 'delete', ref: refFor(o) })) };
    },
  };
}

export function namespaceController(): Controller {
  return {
    name: 'namespace',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const changes: ObjectChange[] = [];
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      if (terminating.size === 0) return { changes };
      const left = new Set<string>();
      for (const o of allObjects(snapshot)) {
        if (!KINDS[o.kind as KindName].namespaced || !terminating.has(namespaceOf(o))) continue;
        left.add(namespaceOf(o));
        changes.push({ op: 'delete', ref: refFor(o) });
      }
      for (const name of terminating) if (!left.has(name)) changes.push({ op: 'delete', ref: { kind: 'Namespace', name } });
      return { changes };
    },
  };
}
