/**
 * `grove get jobs` and `grove get cronjobs`: apps of those kinds, with the status their pod's
 * node reported (GET /v1/apps carries it in pods.job), in kubectl's columns.
 */
import { ago } from '../../format.js';
import type { AppView } from './views.js';

export type BatchKind = 'Job' | 'CronJob';

export function batchKind(kind: string): BatchKind | undefined {
  const k = kind.toLowerCase();
  if (['job', 'jobs'].includes(k)) return 'Job';
  if (['cronjob', 'cronjobs', 'cj'].includes(k)) return 'CronJob';
  return undefined;
}

/** kubectl's compact durations: 45s, 3m12s, 2h5m, 4d3h. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** Complete, Failed, Running, Pending, or Unknown while the node does not report. */
export function jobStatusText(a: AppView): string {
  const job = a.pods.job;
  if (job?.condition) return job.condition;
  if (a.pods.phase === 'Unknown') return 'Unknown';
  if (!job || a.pods.phase === 'Pending') return 'Pending';
  return 'Running';
}

function age(iso: string | undefined, now: Date): string {
  return iso ? ago(iso, now).replace(/ ago$/, '') : '';
}

export function batchRows(kind: BatchKind, apps: AppView[], now: Date): { headers: string[]; rows: string[][] } {
  if (kind === 'Job') {
    return {
      headers: ['NAME', 'COMPLETIONS', 'STATUS', 'DURATION', 'AGE', 'NODE'],
      rows: apps.map((a) => {
        const job = a.pods.job;
        const start = job?.startTime ? Date.parse(job.startTime) : undefined;
        const end = job?.completionTime ? Date.parse(job.completionTime) : now.getTime();
        const duration = start === undefined ? '' : shortDuration(end - start);
        return [a.meta.name, `${job?.succeeded ?? 0}/${a.spec.job?.completions ?? 1}`, jobStatusText(a), duration, age(a.meta.createdAt, now), a.pods.node ?? '<none>'];
      }),
    };
  }
  return {
    headers: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', 'NODE'],
    rows: apps.map((a) => {
      const job = a.pods.job;
      const last = job?.lastScheduleTime ? shortDuration(now.getTime() - Date.parse(job.lastScheduleTime)) : '<none>';
      return [
        a.meta.name,
        a.spec.cron?.schedule ?? '',
        a.spec.cron?.timeZone ?? '<none>',
        String(a.spec.cron?.suspend ?? false),
        String(job?.active ?? 0),
        last,
        age(a.meta.createdAt, now),
        a.pods.node ?? '<none>',
      ];
    }),
  };
}
