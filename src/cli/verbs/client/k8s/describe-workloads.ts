/**
 * `grove describe` of ReplicaSets, DaemonSets, Jobs and CronJobs in kubectl's layout, with the
 * pods they select counted by phase and the Grove block (what 0.1's `describe app` showed of a
 * DaemonSet's scheduling and a Job's runs).
 */
import type { KindObject } from '../../../../core/objects/validate.js';
import { formatLabels, formatSelector } from '../../../../core/objects/columns/cells.js';
import { jobCompletions, jobStatus } from '../../../../core/objects/columns/columns-batch.js';
import { describePodTemplate } from './describe-containers.js';
import { describeGrove } from './describe-grove.js';
import { describeTime, DescribeText } from './describe-writer.js';
import { between } from '../../../../core/objects/columns/human-duration.js';

type Pod = KindObject<'Pod'>;

/** "3 Running / 1 Waiting / 0 Succeeded / 0 Failed": the selected pods by phase (Pending waits). */
export function podsStatus(pods: readonly Pod[]): string {
  const count = (phase: string) => pods.filter((p) => (p.status?.phase ?? 'Pending') === phase).length;
  return `${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed`;
}

function header(out: DescribeText, o: { metadata: KindObject<'Pod'>['metadata'] }): void {
  out.field(0, 'Name', o.metadata.name);
  out.field(0, 'Namespace', o.metadata.namespace);
}

function controlledBy(out: DescribeText, o: { metadata: KindObject<'Pod'>['metadata'] }): void {
  const owner = o.metadata.ownerReferences?.find((r) => r.controller);
  if (owner) out.field(0, 'Controlled By', `${owner.kind}/${owner.name}`);
}

export function describeReplicaSet(rs: KindObject<'ReplicaSet'>, pods: readonly Pod[]): string {
  const out = new DescribeText();
  header(out, rs);
  out.field(0, 'Selector', formatSelector(rs.spec.selector));
  out.labels(0, 'Labels', rs.metadata.labels);
  out.annotations(0, 'Annotations', rs.metadata.annotations);
  controlledBy(out, rs);
  out.field(0, 'Replicas', `${rs.status?.replicas ?? 0} current / ${rs.spec.replicas ?? 1} desired`);
  out.field(0, 'Pods Status', podsStatus(pods));
  describePodTemplate(out, rs.spec.template);
  describeGrove(out, { annotations: [rs.spec.template.metadata?.annotations], pods });
  return out.toString();
}

export function describeDaemonSet(ds: KindObject<'DaemonSet'>, pods: readonly Pod[]): string {
  const out = new DescribeText();
  const s = ds.status ?? {};
  header(out, ds);
  out.field(0, 'Selector', formatSelector(ds.spec.selector));
  out.field(0, 'Node-Selector', formatLabels(ds.spec.template.spec.nodeSelector));
  out.labels(0, 'Labels', ds.metadata.labels);
  out.annotations(0, 'Annotations', ds.metadata.annotations);
  out.field(0, 'Desired Number of Nodes Scheduled', s.desiredNumberScheduled ?? 0);
  out.field(0, 'Current Number of Nodes Scheduled', s.currentNumberScheduled ?? 0);
  out.field(0, 'Number of Nodes Scheduled with Up-to-date Pods', s.updatedNumberScheduled ?? 0);
  out.field(0, 'Number of Nodes Scheduled with Available Pods', s.numberAvailable ?? 0);
  out.field(0, 'Number of Nodes Misscheduled', s.numberMisscheduled ?? 0);
  out.field(0, 'Pods Status', podsStatus(pods));
  describePodTemplate(out, ds.spec.template);
  describeGrove(out, { annotations: [ds.spec.template.metadata?.annotations, ds.metadata.annotations], pods });
  return out.toString();
}

export function describeJob(job: KindObject<'Job'>, pods: readonly Pod[]): string {
  const out = new DescribeText();
  const s = job.status ?? {};
  header(out, job);
  out.field(0, 'Selector', formatSelector(job.spec.selector));
  out.labels(0, 'Labels', job.metadata.labels);
  out.annotations(0, 'Annotations', job.metadata.annotations);
  controlledBy(out, job);
  out.field(0, 'Parallelism', job.spec.parallelism ?? 1);
  out.field(0, 'Completions', job.spec.completions ?? 1);
  out.field(0, 'Completion Mode', job.spec.completionMode ?? 'NonIndexed');
  out.field(0, 'Backoff Limit', job.spec.backoffLimit ?? 6);
  if (job.spec.activeDeadlineSeconds !== undefined) out.field(0, 'Active Deadline Seconds', `${job.spec.activeDeadlineSeconds}s`);
  if (job.spec.ttlSecondsAfterFinished !== undefined) out.field(0, 'TTL Seconds After Finished', job.spec.ttlSecondsAfterFinished);
  if (s.startTime) out.field(0, 'Start Time', describeTime(s.startTime));
  if (s.completionTime) out.field(0, 'Completed At', describeTime(s.completionTime));
  if (s.startTime && s.completionTime) out.field(0, 'Duration', between(s.startTime, s.completionTime));
  out.field(0, 'Status', `${jobStatus(job)} (${jobCompletions(job)} completions)`);
  out.field(0, 'Pods Statuses', `${s.active ?? 0} Active (${s.ready ?? 0} Ready) / ${s.succeeded ?? 0} Succeeded / ${s.failed ?? 0} Failed`);
  describePodTemplate(out, job.spec.template);
  const failed = s.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) out.field(0, 'Failed', `${failed.reason ?? ''}${failed.message ? `: ${failed.message}` : ''}`);
  describeGrove(out, { annotations: [job.spec.template.metadata?.annotations, job.metadata.annotations], pods });
  return out.toString();
}

export function describeCronJob(cj: KindObject<'CronJob'>, jobs: readonly KindObject<'Job'>[]): string {
  const out = new DescribeText();
  const spec = cj.spec;
  header(out, cj);
  out.labels(0, 'Labels', cj.metadata.labels);
  out.annotations(0, 'Annotations', cj.metadata.annotations);
  out.field(0, 'Schedule', spec.schedule);
  if (spec.timeZone) out.field(0, 'Time Zone', spec.timeZone);
  out.field(0, 'Concurrency Policy', spec.concurrencyPolicy ?? 'Allow');
  out.field(0, 'Suspend', spec.suspend ? 'True' : 'False');
  out.field(0, 'Successful Job History Limit', spec.successfulJobsHistoryLimit ?? 3);
  out.field(0, 'Failed Job History Limit', spec.failedJobsHistoryLimit ?? 1);
  out.field(0, 'Parallelism', spec.jobTemplate.spec.parallelism ?? 1);
  out.field(0, 'Completions', spec.jobTemplate.spec.completions ?? 1);
  describePodTemplate(out, spec.jobTemplate.spec.template);
  out.field(0, 'Last Schedule Time', cj.status?.lastScheduleTime ? describeTime(cj.status.lastScheduleTime) : '<unset>');
  if (cj.status?.lastSuccessfulTime) out.field(0, 'Last Successful Time', describeTime(cj.status.lastSuccessfulTime));
  out.field(0, 'Active Jobs', (cj.status?.active ?? []).map((j) => j.name).join(', '));
  // 0.1's "Runs": the Jobs this CronJob made that are still kept (history limits).
  const mine = jobs.filter((j) => j.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'CronJob' && o.name === cj.metadata.name));
  if (mine.length) {
    out.line(0, 'Jobs:');
    out.row(1, ['Name', 'Status', 'Completions', 'Started', 'Completed']);
    for (const j of mine) out.row(1, [j.metadata.name, jobStatus(j), jobCompletions(j), describeTime(j.status?.startTime), j.status?.completionTime ? describeTime(j.status.completionTime) : '']);
  }
  describeGrove(out, { annotations: [spec.jobTemplate.spec.template.metadata?.annotations, cj.metadata.annotations] });
  return out.toString();
}
