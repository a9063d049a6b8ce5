/**
 * PURE: what a DELETE of a Pod with an explicit grace period does to it, as the Kubernetes API
 * server's pod strategy decides (CheckGracefulDelete):
 *
 * - a pod bound to a node that has not finished is MARKED, not removed: deletionTimestamp = now
 *   + grace (when it should be gone), deletionGracePeriodSeconds = grace. Its node receives it in
 *   its target with that grace and stops its containers with SIGTERM, then SIGKILL after the
 *   grace; the pod-termination controller removes the object once the node no longer runs it.
 * - a pod no node runs (unbound) or that has finished (Succeeded, Failed) has nothing to stop:
 *   it is removed at once.
 * - a pod already marked keeps the shorter grace: a second delete may shorten it (kubectl
 *   delete --now, --force after a plain delete), never lengthen it.
 *
 * Grove caps the grace at the pod spec's own maximum (an hour): nodes never wait longer.
 */
import { MAX_GRACE_SECONDS } from '../../core/objects/limits.js';

export interface PodDeletionView {
  metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export type GracefulDelete =
  | { action: 'remove' }
  | { action: 'unchanged' }
  /** deletionAt: milliseconds since the epoch, the deletionTimestamp to write. */
  | { action: 'mark'; deletionAt: number; deletionGracePeriodSeconds: number };

export function gracefulPodDelete(pod: PodDeletionView, gracePeriodSeconds: number, now: number): GracefulDelete {
  const phase = pod.status?.phase;
  if (pod.spec?.nodeName === undefined || phase === 'Succeeded' || phase === 'Failed') return { action: 'remove' };
  const grace = Math.min(Math.max(0, Math.floor(gracePeriodSeconds)), MAX_GRACE_SECONDS);
  const current = pod.metadata.deletionGracePeriodSeconds;
  if (pod.metadata.deletionTimestamp !== undefined && current !== undefined && current <= grace) return { action: 'unchanged' };
  return { action: 'mark', deletionAt: now + grace * 1000, deletionGracePeriodSeconds: grace };
}
