/**
 * batch/v1 Job and CronJob → a Grove App of kind Job / CronJob. The schema has checked shapes and
 * bounds; here: Kubernetes' defaults, the selector rule, and the cron expression and time zone
 * (which only a parser can check).
 */
import cron from 'node-cron';
import type { App, CronSpec, JobSpec, PodTemplate, ResourceMeta } from '../model.js';
import { isKnownTimeZone } from '../wire-jobs.js';
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

/** Kubernetes' schedule macros, written out for node-cron. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The expression as node-cron takes it: macros expanded, spaces normalised. */
export function normalizeSchedule(schedule: string): string {
  const s = schedule.trim().replace(/\s+/g, ' ');
  return MACROS[s] ?? s;
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
  if (schedule.startsWith('CRON_TZ=') || schedule.startsWith('TZ=')) {
    throw manifestError(ctx, [...specPath, 'schedule'], 'must not set a time zone: use spec.timeZone');
  }
  if (!cron.validate(schedule)) {
    throw manifestError(ctx, [...specPath, 'schedule'], `${quote(s.schedule)} is not a cron expression (5 fields, or 6 with seconds first)`);
  }
  const out: CronSpec = {
    schedule,
    concurrencyPolicy: s.concurrencyPolicy ?? 'Allow',
    successfulJobsHistoryLimit: s.successfulJobsHistoryLimit ?? 3,
    failedJobsHistoryLimit: s.failedJobsHistoryLimit ?? 1,
    suspend: s.suspend ?? false,
  };
  if (s.timeZone !== undefined) {
    if (!isKnownTimeZone(s.timeZone)) throw manifestError(ctx, [...specPath, 'timeZone'], `${quote(s.timeZone)} is not a known time zone (e.g. Europe/Berlin, UTC)`);
    out.timeZone = s.timeZone;
  }
  return out;
}

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
