/**
 * The vocabulary between whoever decides what objects should change (the server's controllers,
 * the scheduler, the apply endpoint, the migration) and the one place that writes them (the
 * server's object store). Deciders are pure and return changes; the store applies a list of
 * changes in one commit, filling in what the server owns (uid, generation, creationTimestamp,
 * resourceVersion) and writing nothing for a change that changes nothing.
 */
import type { KindName, KindObject } from './validate.js';

/** Any object of a kind Grove knows. */
export type AnyObject = { [K in KindName]: KindObject<K> }[KindName];

/** Names one object: `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  kind: KindName;
  namespace?: string;
  name: string;
}

export type ObjectChange =
  /**
   * Creates the object or replaces its metadata (labels, annotations, ownerReferences) and spec.
   * The status already stored is kept (a put never writes status); `generation` moves when the
   * spec changes; a `metadata.resourceVersion` given must be the stored one (optimistic concurrency).
   * `expect`: 'absent' refuses to replace an object (AlreadyExists: a create), 'present' refuses
   * to create one (NotFound: an update).
   */
  | { op: 'put'; object: AnyObject; expect?: 'absent' | 'present' }
  /** Replaces only the status of an existing object; no generation change. */
  | { op: 'status'; ref: ObjectRef; status: unknown }
  /**
   * Removes the object; its dependents are collected by ownerReferences afterwards (background).
   * `propagation` 'Foreground' marks it instead (deletionTimestamp, finalizer foregroundDeletion):
   * the garbage collector deletes its dependents, then it. Deleting a marked object removes it,
   * unless the change asks for Foreground again. `preconditions`: the object's uid and
   * resourceVersion must still be these (Conflict otherwise).
   * `gracePeriodSeconds` (Pods only): a pod running on a node is marked as Kubernetes does
   * (deletionTimestamp = now + grace, deletionGracePeriodSeconds) and stays until its node has
   * stopped it with that grace (pod-termination.ts); an unbound or finished pod goes at once.
   */
  | { op: 'delete'; ref: ObjectRef; propagation?: DeletePropagation; preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number };

/** Kubernetes' propagationPolicy; Orphan is the API's (it releases dependents, then deletes in the background). */
export type DeletePropagation = 'Background' | 'Foreground' | 'Orphan';

/** The reference of an object (its kind, namespace when namespaced, name). */
export function refOf(object: AnyObject): ObjectRef {
  const ns = (object.metadata as { namespace?: string }).namespace;
  return { kind: object.kind as KindName, ...(ns !== undefined ? { namespace: ns } : {}), name: object.metadata.name as string };
}

/** "Deployment default/web", "Node pi-1": how logs and errors name an object. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace !== undefined ? `${ref.namespace}/` : ''}${ref.name}`;
}
