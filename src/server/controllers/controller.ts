/**
 * The contract between Grove's controllers (Deployment, ReplicaSet, DaemonSet, Job, CronJob,
 * the scheduler, garbage collection, namespace deletion, pod status) and the loop that runs
 * them (src/server/objects/controller-loop.ts).
 *
 * A controller is PURE: it reads one snapshot of the cluster and returns the object changes it
 * wants; only the object store writes them (in one commit per pass). Nothing here reads a clock,
 * a random source or the store itself: the loop puts `now` and `randomSuffix` in the snapshot,
 * so a test gives a snapshot and asserts the exact changes.
 *
 * A controller may also ask to run again at a time (`wakeAt`): a rollout's progress deadline,
 * an eviction falling due, a Job's TTL, a scheduled CronJob record. The loop runs every
 * controller again on any store change anyway; wakeAt is for time passing with no change.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindName, KindObject } from '../../core/objects/validate.js';
import type { WireNodeStatus } from '../../core/objects/wire.js';

/** Every stored object of each kind (as read: metadata.resourceVersion set), in any order. */
export type ObjectsByKind = { readonly [K in KindName]: readonly KindObject<K>[] };

/** The last report a node sent (its status message) and when the server received it. */
export interface NodeReport {
  status: WireNodeStatus;
  /** Milliseconds since the epoch, server clock. */
  receivedAt: number;
  /** The node's MQTT session is up (presence); a report from an offline node is its last word. */
  online: boolean;
}

export interface ControllerSnapshot {
  objects: ObjectsByKind;
  /** By node name; a node that never reported since the server started is absent. */
  reports: ReadonlyMap<string, NodeReport>;
  /** Milliseconds since the epoch, from the server's injected Clock. */
  now: number;
  /**
   * 5 characters of [bcdfghjklmnpqrstvwxz2456789] (Kubernetes' name suffix alphabet), fresh on
   * each call: the random part of generated pod names. Controllers retry on a name in use.
   */
  randomSuffix: () => string;
}

export interface Reconciled {
  /** The changes wanted now, in the order they should be applied; [] when all is as wanted. */
  changes: ObjectChange[];
  /** Milliseconds since the epoch: run again then even if nothing changes (earliest wins). */
  wakeAt?: number;
}

export interface Controller {
  /** Short and stable ("deployment", "scheduler"): logs and metrics name controllers by it. */
  readonly name: string;
  reconcile(snapshot: ControllerSnapshot): Reconciled;
}

/** Kubernetes' alphabet for generated name suffixes (no vowels, no 0/1/3: no words, no look-alikes). */
export const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const NAME_SUFFIX_LENGTH = 5;

/** Objects of one kind in one namespace (or all namespaces with `namespace` undefined). */
export function objectsOf<K extends KindName>(snapshot: Pick<ControllerSnapshot, 'objects'>, kind: K, namespace?: string): readonly KindObject<K>[] {
  const all = snapshot.objects[kind] as readonly KindObject<K>[];
  if (namespace === undefined) return all;
  return all.filter((o) => (o.metadata as { namespace?: string }).namespace === namespace);
}

/** A snapshot with no objects, for tests and for the first pass of an empty store. */
export function emptyObjects(): ObjectsByKind {
  return {
    Namespace: [],
    Node: [],
    Pod: [],
    ConfigMap: [],
    Secret: [],
    Deployment: [],
    ReplicaSet: [],
    DaemonSet: [],
    StatefulSet: [],
    ControllerRevision: [],
    Job: [],
    CronJob: [],
    Service: [],
    EndpointSlice: [],
    Ingress: [],
    IngressClass: [],
    PersistentVolumeClaim: [],
    PersistentVolume: [],
    StorageClass: [],
    ServiceAccount: [],
  };
}
