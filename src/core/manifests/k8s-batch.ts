/**
 * batch/v1 Job and CronJob → a Grove App of kind Job / CronJob. The schema has checked shapes and
 * bounds; here: Kubernetes' defaults, the selector rule, and the cron expression and time zone
 * (which only a parser can check).
 */
import type { App, CronSpec, JobSpec, PodTemplate, ResourceMeta } from '../model.js';
import { normalizeSchedule, scheduleProblem, timeZoneProblem } from './cron-schedule.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

interface K8sJobSpec {
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  selector?: { matchLabels: Record<string, string> };
  template: unknown;
}

export interface K8sBatch {
  kind: 'Job' | 'CronJob';
  metadata: { name: string };
  spec: K8sJobSpec & {
    schedule?: string;
    timeZone?: string;
    concurrencyPolicy?: CronSpec['concurrencyPolicy'];
    suspend?: boolean;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate?: { spec: K8sJobSpec };
  };
}

/** What the Kubernetes translator lends: its pod template and selector rules. */
export interface BatchHelpers {
  podTemplate: (ctx: DocContext, path: FieldPath, template: never) => PodTemplate;
  checkSelector: (ctx: DocContext, path: FieldPath, matchLabels: Record<string, string>, templateLabels: Record<string, string>) => void;
}

function jobSpec(s: K8sJobSpec): JobSpec {
  const out: JobSpec = { completions: s.completions ?? 1, parallelism: s.parallelism ?? 1, backoffLimit: s.backoffLimit ?? 6 };
  if (s.activeDeadlineSeconds !== undefined) out.activeDeadlineSeconds = s.activeDeadlineSeconds;
  if (s.ttlSecondsAfterFinished !== undefined) out.ttlSecondsAfterFinished = s.ttlSecondsAfterFinished;
  // Kubernetes caps parallelism at what is left to do; so does Grove's runner, the value stays.
  return out;
}

function cronSpec(ctx: DocContext, specPath: FieldPath, s: K8sBatch['spec']): CronSpec {
  const schedule = normalizeSchedule(s.schedule ?? '');
  const wrong = scheduleProblem(s.schedule ?? '');
  if (wrong) throw manifestError(ctx, [...specPath, 'schedule'], wrong);
  const out: CronSpec = {
    schedule,
    concurrencyPolicy: s.concurrencyPolicy ?? 'Allow',
    successfulJobsHistoryLimit: s.successfulJobsHistoryLimit ?? 3,
    failedJobsHistoryLimit: s.failedJobsHistoryLimit ?? 1,
    suspend: s.suspend ?? false,
  };
  if (s.timeZone !== undefined) {
    const zone = timeZoneProblem(s.timeZone);
    if (zone) throw manifestError(ctx, [...specPath, 'timeZone'], zone);
    out.timeZone = s.timeZone;
  }
  return out;
}

export { normalizeSchedule };

export function batchApp(ctx: DocContext, base: FieldPath, b: K8sBatch, meta: ResourceMeta, helpers: BatchHelpers): App {
  const specPath: FieldPath = [...base, 'spec'];
  const jobPath: FieldPath = b.kind === 'CronJob' ? [...specPath, 'jobTemplate', 'spec'] : specPath;
  const job = b.kind === 'CronJob' ? b.spec.jobTemplate!.spec : b.spec;
  const template = helpers.podTemplate(ctx, [...jobPath, 'template'], job.template as never);
  // The Job runner counts a run's main containers; init containers there are left for later.
  if (template.initContainers) throw manifestError(ctx, [...jobPath, 'template', 'spec', 'initContainers'], `is not supported on ${b.kind} pods yet`);
  if (job.selector) helpers.checkSelector(ctx, [...jobPath, 'selector', 'matchLabels'], job.selector.matchLabels, template.labels);
  const app: App = { kind: 'App', meta, spec: { kind: b.kind, template, job: jobSpec(job) } };
  if (b.kind === 'CronJob') app.spec.cron = cronSpec(ctx, specPath, b.spec);
  return app;
}
