/**
 * CronJob → ONE Pod (owner: the CronJob), bound to one node by the scheduler, which carries the
 * schedule on the wire: the node's agent fires the runs itself, also while offline, as in 0.1.
 * A changed job template replaces the pod.
 *
 * The runs the node reports (its job history) appear as Job objects owned by the CronJob, named
 * as the agent named them, their status mirrored from the report, each with one Pod record
 * (cron-run-pods.ts); runs the node no longer reports, and runs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, are deleted.
 * CronJob status: lastScheduleTime, lastSuccessfulTime, active (the running Jobs).
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { WireJobRunStatus } from '../../core/objects/wire.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { jobStatusFromReport } from './job-status.js';
import { runsSpec } from './job.js';
import { ControlledIndex, controllerRef, isActiveOwner, isBeingDeleted, isoTime, NameSource, nsName, oldestFirst, parseTime, sameData, terminatingNamespaces } from './object-kit.js';
import { newPod } from './pod-factory.js';
import { runPodChanges } from './cron-run-pods.js';
import { reportedPod } from './pod-status.js';

type CronJob = KindObject<'CronJob'>;
type Job = KindObject<'Job'>;

const JOB_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function time(t: string | undefined): string | undefined {
  const ms = parseTime(t);
  return ms === undefined ? undefined : isoTime(ms);
}

/** The Job record of one run (spec from the CronJob's jobTemplate, as Kubernetes makes it). */
export function runRecord(cj: CronJob, run: WireJobRunStatus): Job {
  const t = cj.spec.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: run.name,
      namespace: cj.metadata.namespace ?? 'default',
      ...(t.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}),
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(cj)],
    },
    spec: structuredClone(t.spec),
  };
}

/** Runs to keep: the active ones, and the newest successful / failed within the history limits. */
export function keptRuns(cj: CronJob, runs: readonly WireJobRunStatus[]): WireJobRunStatus[] {
  const newestFirst = [...runs].sort((a, b) => (a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0));
  const ok = newestFirst.filter((r) => r.condition === 'Complete').slice(0, cj.spec.successfulJobsHistoryLimit ?? 3);
  const failed = newestFirst.filter((r) => r.condition === 'Failed').slice(0, cj.spec.failedJobsHistoryLimit ?? 1);
  return newestFirst.filter((r) => r.condition === undefined || ok.includes(r) || failed.includes(r));
}

interface Ctx {
  snapshot: ControllerSnapshot;
  names: NameSource;
  podsBy: ControlledIndex<KindObject<'Pod'>>;
  jobsBy: ControlledIndex<Job>;
}

function reconcileCronJob(cj: CronJob, ctx: Ctx): ObjectChange[] {
  const { snapshot, names } = ctx;
  const changes: ObjectChange[] = [];
  const ns = cj.metadata.namespace ?? 'default';
  const spec = cj.spec.jobTemplate.spec.template.spec;
  const pods = ctx.podsBy.of(cj).filter((p) => !isBeingDeleted(p)).sort(oldestFirst);
  const keep = pods.find((p) => runsSpec(p, spec));
  for (const p of pods) if (p !== keep) changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: ns, name: p.metadata.name } });
  if (!keep) changes.push({ op: 'put', object: newPod({ owner: cj, template: cj.spec.jobTemplate.spec.template, names }) });

  const report = keep?.spec.nodeName !== undefined ? reportedPod(keep, snapshot.reports.get(keep.spec.nodeName))?.job : undefined;
  if (!report) return changes; // Nothing heard yet: the records and status stored stand.
  const runs = keptRuns(cj, (report.jobs ?? []).filter((r) => JOB_NAME.test(r.name) && r.name.length <= 63));
  const records = ctx.jobsBy.of(cj);
  const byName = new Map(records.map((j) => [j.metadata.name, j]));
  for (const run of runs) {
    const existing = byName.get(run.name);
    const taken = existing === undefined && snapshot.objects.Job.some((j) => (j.metadata.namespace ?? 'default') === ns && j.metadata.name === run.name);
    if (taken) continue; // A Job of that name belongs to someone else: never overwrite it.
    if (!existing) changes.push({ op: 'put', object: runRecord(cj, run) });
    const status = jobStatusFromReport(existing?.status, run, snapshot.now);
    if (!sameData(status, existing?.status)) changes.push({ op: 'status', ref: { kind: 'Job', namespace: ns, name: run.name }, status });
    // Its pod record once the Job record is stored (its uid is what the pod's owner reference names).
    if (existing?.metadata.uid !== undefined) changes.push(...runPodChanges(existing, run, keep!.spec.nodeName!, ctx.podsBy.of(existing), names, snapshot.now));
  }
  const keptNames = new Set(runs.map((r) => r.name));
  for (const j of records) if (!keptNames.has(j.metadata.name)) changes.push({ op: 'delete', ref: { kind: 'Job', namespace: ns, name: j.metadata.name } });

  const active = runs
    .filter((r) => r.condition === undefined)
    .map((r) => ({ apiVersion: 'batch/v1', kind: 'Job', namespace: ns, name: r.name, ...(byName.get(r.name)?.metadata.uid ? { uid: byName.get(r.name)!.metadata.uid } : {}) }));
  const lastSchedule = time(report.lastScheduleTime) ?? cj.status?.lastScheduleTime;
  const lastSuccess = time(report.lastSuccessfulTime) ?? cj.status?.lastSuccessfulTime;
  const status = { ...(active.length ? { active } : {}), ...(lastSchedule ? { lastScheduleTime: lastSchedule } : {}), ...(lastSuccess ? { lastSuccessfulTime: lastSuccess } : {}) };
  if (!sameData(status, cj.status ?? {})) changes.push({ op: 'status', ref: { kind: 'CronJob', namespace: ns, name: cj.metadata.name }, status });
  return changes;
}

export function cronJobController(): Controller {
  return {
    name: 'cronjob',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const ctx: Ctx = {
        snapshot,
        names: new NameSource(snapshot.randomSuffix, new Set(snapshot.objects.Pod.map(nsName))),
        podsBy: new ControlledIndex(snapshot.objects.Pod),
        jobsBy: new ControlledIndex(snapshot.objects.Job),
      };
      const changes: ObjectChange[] = [];
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const cj of snapshot.objects.CronJob) {
        if (!isActiveOwner(cj, terminating)) continue;
        changes.push(...reconcileCronJob(cj, ctx));
      }
      return { changes };
    },
  };
}
