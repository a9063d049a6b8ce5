/**
 * PURE: the objects of a snapshot by uid, to follow ownerReferences up to the top-level
 * workload (Pod → ReplicaSet → Deployment; Job → CronJob). What a node is told about a pod
 * (update windows, locks, start order, /etc/hosts names) goes by that workload, as 0.1 went by
 * the app.
 */
import type { AnyObject } from '../../core/objects/changes.js';
import type { ObjectsByKind } from './controller.js';
import { controllerOf, metaOf, namespaceOf } from './object-kit.js';

export class OwnerIndex {
  private readonly byUid = new Map<string, AnyObject>();

  constructor(objects: ObjectsByKind) {
    for (const list of Object.values(objects) as (readonly AnyObject[])[]) {
      for (const o of list) {
        const uid = metaOf(o).uid;
        if (uid !== undefined) this.byUid.set(uid, o);
      }
    }
  }

  get(uid: string): AnyObject | undefined {
    return this.byUid.get(uid);
  }

  /** The object's controller when it exists (same namespace, matching kind and uid). */
  controller(o: AnyObject): AnyObject | undefined {
    const ref = controllerOf(o);
    if (!ref) return undefined;
    const owner = this.byUid.get(ref.uid);
    if (!owner || owner.kind !== ref.kind || namespaceOf(owner) !== namespaceOf(o)) return undefined;
    return owner;
  }

  /**
   * A pod of a CronJob's run record (a Job the CronJob owns): a record of what the node ran on
   * its own, never sent to a node, bound, moved or given status from a report.
   */
  isCronRunPod(pod: AnyObject): boolean {
    const job = this.controller(pod);
    return job?.kind === 'Job' && this.controller(job)?.kind === 'CronJob';
  }

  /** Follows controllers up (at most a few steps: kinds nest two deep) to the one with none. */
  topLevel(o: AnyObject): AnyObject {
    let current = o;
    for (let depth = 0; depth < 8; depth++) {
      const up = this.controller(current);
      if (!up) return current;
      current = up;
    }
    return current;
  }
}
