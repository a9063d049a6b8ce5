/**
 * The fields of a pod target that the plan and the status read, in one place. The target's
 * shape is about to change (issue 13: a Kubernetes PodSpec under `spec`, Grove's extensions in
 * annotations); the planners ask these accessors, so that change touches this file rather than
 * every planner.
 */
import type { AppDependency, CronSpec, JobSpec, RestartPolicy } from '../../../../src/core/model.js';
import type { ContainerTarget, PodTarget, UpdatePolicy } from '../../../../src/core/wire-types.js';

const NONE: readonly never[] = [];

/** The app (workload) the pod belongs to: update windows, locks, start order and /etc/hosts names go by it. */
export const podApp = (pod: PodTarget): string => pod.app;

export const restartPolicyOf = (pod: PodTarget): RestartPolicy => pod.restartPolicy;

export const onHostNetwork = (pod: PodTarget): boolean => pod.hostNetwork;

/** The main containers, in order. */
export const mainContainers = (pod: PodTarget): readonly ContainerTarget[] => pod.containers;

/** The init containers, in order (none when the pod has none). */
export const initContainersOf = (pod: PodTarget): readonly ContainerTarget[] => pod.initContainers ?? NONE;

/** Every container the pod may have, init containers first: what the planner must not remove. */
export function allContainersOf(pod: PodTarget): readonly ContainerTarget[] {
  return pod.initContainers?.length ? [...pod.initContainers, ...pod.containers] : pod.containers;
}

export const updatePolicyOf = (pod: PodTarget): UpdatePolicy | undefined => pod.update;

/** Same-node start order (compose depends_on). */
export const dependenciesOf = (pod: PodTarget): readonly AppDependency[] => pod.dependsOn ?? NONE;

export const jobOf = (pod: PodTarget): JobSpec | undefined => pod.job;

export const cronOf = (pod: PodTarget): CronSpec | undefined => pod.cron;

/** A pod like `pod` under another name (a Job's run), optionally with another policy and fewer containers. */
export function podVariant(pod: PodTarget, name: string, change: { restartPolicy?: RestartPolicy; containers?: ContainerTarget[] } = {}): PodTarget {
  const { job: _job, cron: _cron, ...base } = pod;
  return { ...base, name, ...change };
}
