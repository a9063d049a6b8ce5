/**
 * compose depends_on on a node: PURE decisions of which pods wait for their dependencies.
 *
 * A pod with `dependsOn` is held (none of its containers, init containers included, is started
 * or restarted) while one of its dependencies is not met and none of its own containers runs.
 * A dependency on app A is met when A has no pod in this node's target (nothing to wait for
 * here: start order is a same-node matter), or when some pod of A on this node is:
 * - started:   every main container has been started (running, or exited since);
 * - healthy:   ready (running and passing its readiness probe, compose healthcheck);
 * - completed: every main container has exited with code 0.
 * A pod that runs is never held back because a dependency went away later (compose does not
 * stop dependants either); a pod that is down again entirely (crash, reboot) waits again, so
 * start order also holds after a reboot, offline.
 */
import type { AppDependency } from '../../../../src/core/model.js';
import type { PodStatus } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { dependenciesOf, inNamespace, podApp, podKey, statusKey } from './pod-fields.js';

export const DEPENDENCY_WAIT_REASON = 'WaitingForDependency';

const CONDITION_TEXT: Record<AppDependency['condition'], string> = {
  started: 'to start',
  healthy: 'to be healthy',
  completed: 'to complete successfully',
};

function meets(status: PodStatus | undefined, condition: AppDependency['condition']): boolean {
  if (!status || status.containers.length === 0) return false;
  if (condition === 'healthy') return status.ready;
  if (condition === 'started') return status.containers.every((c) => c.state !== 'waiting');
  return status.containers.every((c) => c.state === 'exited' && c.exitCode === 0);
}

function runsSomething(status: PodStatus | undefined): boolean {
  if (!status) return false;
  return [...(status.initContainers ?? []), ...status.containers].some((c) => c.state === 'running');
}

/**
 * Pods held back by an unmet dependency → why ("waits for db to be healthy"). `statuses` is the
 * node's status as the containers are now (status.ts deriveStatus), one per target pod.
 */
export function dependencyWaits(target: readonly WirePodTarget[], statuses: readonly PodStatus[]): Map<string, string> {
  const waits = new Map<string, string>();
  if (!target.some((p) => dependenciesOf(p).length > 0)) return waits;
  const statusOf = new Map(statuses.map((s) => [statusKey(s), s]));
  const podsOf = new Map<string, WirePodTarget[]>();
  for (const p of target) podsOf.set(podApp(p), [...(podsOf.get(podApp(p)) ?? []), p]);
  for (const pod of target) {
    const deps = dependenciesOf(pod);
    if (deps.length === 0 || runsSomething(statusOf.get(podKey(pod)))) continue;
    // The workloads named are of the pod's own namespace.
    const unmet = deps.filter((d) => {
      const deps = podsOf.get(inNamespace(pod.namespace, d.app)) ?? [];
      return deps.length > 0 && !deps.some((p) => meets(statusOf.get(podKey(p)), d.condition));
    });
    if (unmet.length > 0) waits.set(podKey(pod), `waits for ${unmet.map((d) => `${d.app} ${CONDITION_TEXT[d.condition]}`).join(' and ')}`);
  }
  return waits;
}

/** Waiting containers of held pods say what they wait for (instead of ContainerCreating). */
export function markDependencyWaits(statuses: PodStatus[], waits: ReadonlyMap<string, string>): PodStatus[] {
  if (waits.size === 0) return statuses;
  return statuses.map((s) => {
    const why = waits.get(statusKey(s));
    if (!why) return s;
    const mark = (c: PodStatus['containers'][number]) => (c.state === 'waiting' ? { ...c, reason: DEPENDENCY_WAIT_REASON, message: why } : c);
    return { ...s, containers: s.containers.map(mark), ...(s.initContainers ? { initContainers: s.initContainers.map(mark) } : {}) };
  });
}
