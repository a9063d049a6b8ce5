/**
 * PURE: what a StatefulSet's controller does next with its pods `<name>-<ordinal>`, as
 * Kubernetes' StatefulSet controller decides it (issue 16 item 1; not wired to a kind yet, see
 * /work/briefs/s4-storage-status.md):
 *
 * - Pods that failed are deleted (a new one with the same name follows).
 * - OrderedReady: the lowest missing ordinal below `replicas` is created only once every pod
 *   below it is Running and Ready; nothing else happens while a pod is missing, not ready or
 *   terminating. Scale-down deletes the highest ordinal first, one at a time, all others ready.
 * - Parallel: every missing ordinal is created and every surplus one deleted at once.
 * - RollingUpdate: once the set is complete and ready, the pod with the highest ordinal at or
 *   above `partition` that is not at the update revision is deleted (it comes back at the update
 *   revision); one at a time, in reverse ordinal order. OnDelete: pods change only when deleted.
 * - A new pod is at the update revision, except below the partition (RollingUpdate), where it
 *   keeps the current revision.
 */

export interface StatefulPodState {
  ordinal: number;
  revision: string;
  /** Running and Ready. */
  ready: boolean;
  /** Being deleted (deletionTimestamp). */
  terminating: boolean;
  /** phase Failed (or Succeeded): it must be replaced. */
  failed: boolean;
}

export interface StatefulSetPlanInput {
  replicas: number;
  podManagementPolicy: 'OrderedReady' | 'Parallel';
  updateStrategy: { type: 'RollingUpdate'; partition: number } | { type: 'OnDelete' };
  currentRevision: string;
  updateRevision: string;
  pods: readonly StatefulPodState[];
}

export interface StatefulSetPlan {
  /** Ordinals to create, with the revision each is made at. */
  create: { ordinal: number; revision: string }[];
  /** Ordinals to delete (surplus, failed, or replaced by a rolling update). */
  delete: number[];
}

function revisionFor(input: StatefulSetPlanInput, ordinal: number): string {
  const s = input.updateStrategy;
  return s.type === 'RollingUpdate' && ordinal < s.partition ? input.currentRevision : input.updateRevision;
}

export function planStatefulSet(input: StatefulSetPlanInput): StatefulSetPlan {
  const plan: StatefulSetPlan = { create: [], delete: [] };
  const ordered = input.podManagementPolicy === 'OrderedReady';
  const byOrdinal = new Map(input.pods.map((p) => [p.ordinal, p]));

  // Failed pods go first: their replacement is a create in a later pass.
  for (const p of input.pods) if (p.failed && !p.terminating) plan.delete.push(p.ordinal);
  if (plan.delete.length > 0 && ordered) return plan;

  for (let ordinal = 0; ordinal < input.replicas; ordinal++) {
    const pod = byOrdinal.get(ordinal);
    if (!pod) {
      plan.create.push({ ordinal, revision: revisionFor(input, ordinal) });
      if (ordered) return plan;
      continue;
    }
    if (ordered && (!pod.ready || pod.terminating)) return plan;
  }

  const surplus = input.pods.filter((p) => p.ordinal >= input.replicas && !p.terminating).sort((a, b) => b.ordinal - a.ordinal);
  const settled = input.pods.every((p) => p.ready && !p.terminating);
  if (surplus.length > 0) {
    if (!ordered) plan.delete.push(...surplus.map((p) => p.ordinal));
    else if (settled) plan.delete.push(surplus[0]!.ordinal);
    return plan;
  }
  if (plan.create.length > 0 || plan.delete.length > 0) return plan;

  const s = input.updateStrategy;
  if (s.type !== 'RollingUpdate' || !settled) return plan;
  for (let ordinal = input.replicas - 1; ordinal >= s.partition; ordinal--) {
    const pod = byOrdinal.get(ordinal);
    if (pod && pod.revision !== input.updateRevision) {
      plan.delete.push(ordinal);
      break;
    }
  }
  return plan;
}
