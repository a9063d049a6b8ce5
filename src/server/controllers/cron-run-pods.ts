/**
 * PURE: the Pod record of one CronJob run (`kubectl get pods` lists the runs as in Kubernetes):
 * one Pod owned by the run's Job record, bound to the node that ran it, the job labels, and a
 * status from the run as the node reported it (Running while active, then Succeeded or Failed).
 * It is a record only: never sent to a node (the CronJob's own pod runs the schedule there),
 * never bound, moved or given a status from a pod report (OwnerIndex.isCronRunPod).
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { PodStatus } from '../../core/objects/pod.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { WireJobRunStatus } from '../../core/objects/wire.js';
import { jobPodLabels } from './job.js';
import { isControlledBy, isoTime, parseTime, sameData, setCondition, type NameSource, type Pod } from './object-kit.js';
import { newPod } from './pod-factory.js';

type Job = KindObject<'Job'>;

export function runPodStatus(before: PodStatus | undefined, run: WireJobRunStatus, now: number): PodStatus {
  const phase = run.condition === 'Complete' ? 'Succeeded' : run.condition === 'Failed' ? 'Failed' : 'Running';
  let conditions = setCondition(before?.conditions, { type: 'PodScheduled', status: 'True' }, now);
  conditions = setCondition(conditions, { type: 'Initialized', status: 'True' }, now);
  const ready = phase === 'Running' ? { status: 'True' as const } : { status: 'False' as const, reason: 'PodCompleted' };
  conditions = setCondition(conditions, { type: 'ContainersReady', ...ready }, now);
  conditions = setCondition(conditions, { type: 'Ready', ...ready }, now);
  const start = parseTime(run.startTime);
  return { phase, conditions, ...(start !== undefined ? { startTime: isoTime(start) } : {}) };
}

/** The changes that give `record` (a stored run Job; `pods` its pods) its one Pod record on `node`, with the run's status. */
export function runPodChanges(record: Job, run: WireJobRunStatus, node: string, pods: readonly Pod[], names: NameSource, now: number): ObjectChange[] {
  const ns = record.metadata.namespace ?? 'default';
  const existing = pods.find((p) => isControlledBy(p, record));
  const changes: ObjectChange[] = [];
  let name: string;
  if (existing) name = existing.metadata.name;
  else {
    const pod = newPod({ owner: record, template: record.spec.template, names, labels: jobPodLabels(record), nodeName: node });
    name = pod.metadata.name;
    changes.push({ op: 'put', object: pod });
  }
  const status = runPodStatus(existing?.status, run, now);
  if (!sameData(status, existing?.status)) changes.push({ op: 'status', ref: { kind: 'Pod', namespace: ns, name }, status });
  return changes;
}
