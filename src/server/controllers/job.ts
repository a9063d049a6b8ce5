/**
 * Job → one Pod, bound by the scheduler; the node's agent runs completions, parallelism and
 * backoffLimit itself (Grove's documented deviation from Kubernetes for completions > 1, as in
 * 0.1). The Job's status mirrors the node's job report. ttlSecondsAfterFinished deletes a
 * finished Job (its pod follows by garbage collection), as Kubernetes' TTL controller does; the
 * agent removes the containers at the same moment on its own, so an offline node is cleaned up
 * too. Jobs a CronJob ran are records the CronJob controller keeps; this one leaves them alone.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import { samePodSpec } from '../../core/objects/template-equality.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { finishedAt, isFinished, jobStatusFromReport } from './job-status.js';
import { ControlledIndex, isActiveOwner, isBeingDeleted, NameSource, nsName, oldestFirst, sameData, terminatingNamespaces, type Pod } from './object-kit.js';
import { OwnerIndex } from './owner-index.js';
import { newPod } from './pod-factory.js';
import { reportedPod } from './pod-status.js';

type Job = KindObject<'Job'>;

export function jobPodLabels(job: Job): Record<string, string> {
  const uid = job.metadata.uid ?? '';
  return { 'batch.kubernetes.io/job-name': job.metadata.name, 'job-name': job.metadata.name, 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid };
}

/**
 * Whether `pod` runs `spec` (its template's): a changed template is a new Job, as in 0.1. Compared
 * by meaning (template-equality.ts: defaults, image references, quantities), so a pod the
 * migration wrote in 0.1's spelling keeps running when the same manifest is applied again.
 */
export function runsSpec(pod: Pod, spec: Pod['spec']): boolean {
  const { nodeName: _n, ...mine } = pod.spec;
  return samePodSpec(mine, spec);
}

export function jobController(): Controller {
  return {
    name: 'job',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const owners = new OwnerIndex(snapshot.objects);
      const names = new NameSource(snapshot.randomSuffix, new Set(snapshot.objects.Pod.map(nsName)));
      const podsBy = new ControlledIndex(snapshot.objects.Pod);
      const changes: ObjectChange[] = [];
      let wakeAt: number | undefined;
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const job of snapshot.objects.Job) {
        if (!isActiveOwner(job, terminating) || owners.controller(job)?.kind === 'CronJob') continue;
        const ns = job.metadata.namespace ?? 'default';
        const ref = { kind: 'Job' as const, namespace: ns, name: job.metadata.name };
        const ttl = job.spec.ttlSecondsAfterFinished;
        const done = finishedAt(job.status);
        if (ttl !== undefined && done !== undefined) {
          const due = done + ttl * 1000;
          if (snapshot.now >= due) {
            changes.push({ op: 'delete', ref });
            continue;
          }
          if (wakeAt === undefined || due < wakeAt) wakeAt = due;
        }
        const pods = podsBy.of(job).filter((p) => !isBeingDeleted(p)).sort(oldestFirst);
        const keep = pods.find((p) => runsSpec(p, job.spec.template.spec));
        for (const p of pods) if (p !== keep) changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: ns, name: p.metadata.name } });
        if (!keep && !isFinished(job.status)) {
          changes.push({ op: 'put', object: newPod({ owner: job, template: job.spec.template, names, labels: jobPodLabels(job) }) });
        }
        const reported = keep?.spec.nodeName !== undefined ? reportedPod(keep, snapshot.reports.get(keep.spec.nodeName))?.job : undefined;
        if (reported) {
          const status = jobStatusFromReport(job.status, reported, snapshot.now);
          if (!sameData(status, job.status)) changes.push({ op: 'status', ref, status });
        }
      }
      return { changes, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    },
  };
}
