/**
 * Finishes graceful pod deletions. A pod deleted with a grace period while a node runs it is
 * marked (deletionTimestamp = when it should be gone, deletionGracePeriodSeconds; see
 * objects/pod-graceful-delete.ts) and stays in its node's target with that grace, so the node
 * stops its containers with SIGTERM, then SIGKILL after the grace. The object goes, as the
 * kubelet's final delete does in Kubernetes, when:
 *
 * - the node's last report no longer has the pod (its containers are gone, or it never ran it);
 * - the node cannot do it: no Node object, no report since the server started, offline, or not
 *   Ready (Kubernetes leaves such pods Terminating until someone forces them; Grove's node
 *   lifecycle moves pods off lost nodes anyway, and a pod kept forever helps nobody);
 * - or the node took too long: DEADLINE_MARGIN_MS past deletionTimestamp (an agent from before
 *   this existed refuses the target that carries the mark and never reports the pod gone).
 *
 * PURE: the snapshot in, deletes (and the next deadline) out.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { conditionOf, namespaceOf, parseTime, type Pod } from './object-kit.js';
import { reportedPod } from './pod-status.js';

/** How long past its deletionTimestamp a marked pod waits for its node before it goes anyway. */
export const DEADLINE_MARGIN_MS = 30_000;

/** A pod marked by a graceful delete (not a foreground-deletion mark, which the GC finishes). */
export function isTerminatingGracefully(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionGracePeriodSeconds !== undefined;
}

function nodeCannotStop(pod: Pod, snapshot: ControllerSnapshot): boolean {
  const nodeName = pod.spec.nodeName;
  if (nodeName === undefined) return true;
  const node = snapshot.objects.Node.find((n) => n.metadata.name === nodeName);
  const report = snapshot.reports.get(nodeName);
  if (!node || !report || !report.online) return true;
  return conditionOf(node.status?.conditions, 'Ready')?.status !== 'True';
}

export function podTerminationController(): Controller {
  return {
    name: 'pod-termination',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const changes: ObjectChange[] = [];
      let wakeAt: number | undefined;
      for (const pod of snapshot.objects.Pod) {
        if (!isTerminatingGracefully(pod)) continue;
        const deadline = (parseTime(pod.metadata.deletionTimestamp) ?? snapshot.now) + DEADLINE_MARGIN_MS;
        const gone = nodeCannotStop(pod, snapshot) || reportedPod(pod, snapshot.reports.get(pod.spec.nodeName!)) === undefined;
        if (gone || snapshot.now >= deadline) {
          changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: namespaceOf(pod), name: pod.metadata.name } });
        } else if (wakeAt === undefined || deadline < wakeAt) {
          wakeAt = deadline;
        }
      }
      return { changes, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    },
  };
}
