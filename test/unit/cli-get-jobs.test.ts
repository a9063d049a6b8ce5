import { describe, expect, it } from 'vitest';
import { batchKind, batchRows, jobStatusText, shortDuration } from '../../src/cli/verbs/client/get-jobs.js';
import type { AppView } from '../../src/cli/verbs/client/views.js';

const NOW = new Date('2026-01-01T01:00:00Z');

function view(kind: 'Job' | 'CronJob', pods: Partial<AppView['pods']>): AppView {
  return {
    kind: 'App',
    meta: { name: kind === 'Job' ? 'mig' : 'tick', labels: {}, annotations: {}, createdAt: '2026-01-01T00:00:00Z' },
    spec: {
      kind,
      template: { labels: {}, annotations: {}, nodeSelector: {}, restartPolicy: 'Never', hostNetwork: false, containers: [] },
      job: { completions: 2, parallelism: 1, backoffLimit: 6 },
      ...(kind === 'CronJob' ? { cron: { schedule: '*/5 * * * *', timeZone: 'UTC', concurrencyPolicy: 'Forbid' as const, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false } } : {}),
    },
    pods: { desired: 1, current: 1, ready: 0, upToDate: 1, ...pods },
  };
}

describe('get jobs / cronjobs', () => {
  it('knows the kind words', () => {
    expect(['job', 'Jobs', 'cronjob', 'cj', 'pods'].map(batchKind)).toEqual(['Job', 'Job', 'CronJob', 'CronJob', undefined]);
  });

  it('formats durations as kubectl does', () => {
    expect([0, 45_000, 192_000, 3_600_000, 7_500_000, 200 * 3_600_000].map(shortDuration)).toEqual(['0s', '45s', '3m12s', '1h', '2h5m', '8d8h']);
  });

  it('shows completions, status, duration and node of Jobs', () => {
    const done = view('Job', { node: 'pi-1', phase: 'Succeeded', job: { active: 0, succeeded: 2, failed: 1, condition: 'Complete', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:01:05Z' } });
    const running = view('Job', { node: 'pi-2', phase: 'Running', job: { active: 1, succeeded: 1, failed: 0, startTime: '2026-01-01T00:59:30Z' } });
    const t = batchRows('Job', [done, running, view('Job', {})], NOW);
    expect(t.headers).toEqual(['NAME', 'COMPLETIONS', 'STATUS', 'DURATION', 'AGE', 'NODE']);
    expect(t.rows.map((r) => [r[1], r[2], r[3], r[5]])).toEqual([
      ['2/2', 'Complete', '1m5s', 'pi-1'],
      ['1/2', 'Running', '30s', 'pi-2'],
      ['0/2', 'Pending', '', '<none>'],
    ]);
    expect(jobStatusText(view('Job', { phase: 'Unknown', job: { active: 1, succeeded: 0, failed: 0 } }))).toBe('Unknown');
    expect(jobStatusText(view('Job', { phase: 'Unknown', job: { active: 0, succeeded: 0, failed: 7, condition: 'Failed' } }))).toBe('Failed');
  });

  it('shows schedule, suspend, active and last schedule of CronJobs', () => {
    const t = batchRows('CronJob', [view('CronJob', { node: 'pi-1', job: { active: 1, succeeded: 3, failed: 0, lastScheduleTime: '2026-01-01T00:58:00Z' } })], NOW);
    expect(t.headers).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', 'NODE']);
    expect(t.rows[0]).toEqual(['tick', '*/5 * * * *', 'UTC', 'false', '1', '2m', 'About an hour', 'pi-1']);
  });
});
