/**
 * Which pods `grove node drain` evicts, ignores or refuses to touch, decided as kubectl's drain
 * filters decide (in its order, without its skip of long-terminating pods, off by default): DaemonSet pods
 * would come back at once, so they are refused unless --ignore-daemonsets (then ignored with a
 * warning); pods with emptyDir data lose it, so they need --delete-emptydir-data; pods no
 * controller recreates are gone for good, so they need --force. Finished pods go without checks.
 * Pure: the caller lists the node's pods.
 */
import type { KindObject } from '../../../../core/objects/validate.js';

type Pod = KindObject<'Pod'>;

export interface DrainOptions {
  ignoreDaemonSets: boolean;
  deleteEmptyDirData: boolean;
  force: boolean;
}

export interface DrainPlan {
  /** Evicted, in the order listed. */
  evict: Pod[];
  /** One line each: "ignoring DaemonSet-managed Pods: ns/a, ns/b". */
  warnings: string[];
  /** One line each; any refusal stops the drain before anything is evicted. */
  refusals: string[];
}

function controllerKind(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller === true)?.kind;
}

function finished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function hasEmptyDir(pod: Pod): boolean {
  return (pod.spec.volumes ?? []).some((v) => (v as { emptyDir?: unknown }).emptyDir !== undefined);
}

function names(pods: readonly Pod[]): string {
  return pods.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`).join(', ');
}

export function planDrain(pods: readonly Pod[], options: DrainOptions): DrainPlan {
  const daemonSet: Pod[] = [];
  const localStorage: Pod[] = [];
  const unreplicated: Pod[] = [];
  const evict: Pod[] = [];
  for (const pod of pods) {
    if (controllerKind(pod) === 'DaemonSet') {
      daemonSet.push(pod);
      continue;
    }
    if (!finished(pod) && hasEmptyDir(pod)) localStorage.push(pod);
    if (!finished(pod) && controllerKind(pod) === undefined) unreplicated.push(pod);
    evict.push(pod);
  }
  const warnings: string[] = [];
  const refusals: string[] = [];
  if (daemonSet.length > 0) {
    if (options.ignoreDaemonSets) warnings.push(`ignoring DaemonSet-managed Pods: ${names(daemonSet)}`);
    else refusals.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${names(daemonSet)}`);
  }
  if (localStorage.length > 0) {
    if (options.deleteEmptyDirData) warnings.push(`deleting Pods with local storage: ${names(localStorage)}`);
    else refusals.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${names(localStorage)}`);
  }
  if (unreplicated.length > 0) {
    if (options.force) warnings.push(`deleting Pods that declare no controller: ${names(unreplicated)}`);
    else refusals.push(`cannot delete Pods that declare no controller (use --force to override): ${names(unreplicated)}`);
  }
  return { evict, warnings, refusals };
}
