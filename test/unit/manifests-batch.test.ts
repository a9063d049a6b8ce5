import { describe, expect, it } from 'vitest';
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';
import type { App } from '../../src/core/resolved-pod.js';

const validator = createManifestValidator();
const parse = (text: string) => parseManifests(text, { file: 'batch.yaml' }, { validator });
const app = (text: string) => parse(text)[0] as App;

function job(spec = '', podSpec = '      restartPolicy: Never\n'): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
${spec}  template:
    spec:
${podSpec}      containers:
        - name: main
          image: busybox
          command: [sh, -c, "echo done"]
`;
}

function cronJob(spec: string, jobSpec = ''): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
${spec}  jobTemplate:
    spec:
${jobSpec}      template:
        metadata:
          labels:
            app: backup
        spec:
          restartPolicy: OnFailure
          containers:
            - name: main
              image: busybox
`;
}

describe('batch/v1 Job and CronJob manifests', () => {
  it('translates a Job with Kubernetes defaults', () => {
    const a = app(job());
    expect(a.spec.kind).toBe('Job');
    expect(a.spec.job).toEqual({ completions: 1, parallelism: 1, backoffLimit: 6 });
    expect(a.spec.cron).toBeUndefined();
    expect(a.spec.template.restartPolicy).toBe('Never');
    expect(a.spec.template.labels).toEqual({});
  });

  it('keeps completions, parallelism, backoffLimit, activeDeadlineSeconds and ttlSecondsAfterFinished', () => {
    const a = app(job('  completions: 3\n  parallelism: 2\n  backoffLimit: 0\n  activeDeadlineSeconds: 60\n  ttlSecondsAfterFinished: 30\n'));
    expect(a.spec.job).toEqual({ completions: 3, parallelism: 2, backoffLimit: 0, activeDeadlineSeconds: 60, ttlSecondsAfterFinished: 30 });
  });

  it('requires restartPolicy OnFailure or Never, as Kubernetes does', () => {
    expect(() => parse(job('', '      restartPolicy: Always\n'))).toThrow(/restartPolicy: "Always" must be OnFailure or Never/);
    expect(() => parse(job('', ''))).toThrow(/restartPolicy: required field is missing/);
  });

  it('rejects Job fields Grove does not implement by name', () => {
    expect(() => parse(job('  suspend: true\n'))).toThrow(/spec\.suspend: not supported yet/);
    expect(() => parse(job('  completionMode: Indexed\n'))).toThrow(/Indexed Jobs are not supported yet/);
  });

  it('translates a CronJob: schedule, time zone, policy, history limits, job template', () => {
    const a = app(cronJob('  schedule: "*/5 * * * *"\n  timeZone: Europe/Berlin\n  concurrencyPolicy: Forbid\n  successfulJobsHistoryLimit: 2\n', '      backoffLimit: 1\n'));
    expect(a.spec.kind).toBe('CronJob');
    expect(a.spec.cron).toEqual({
      schedule: '*/5 * * * *',
      timeZone: 'Europe/Berlin',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 1,
      suspend: false,
    });
    expect(a.spec.job).toEqual({ completions: 1, parallelism: 1, backoffLimit: 1 });
    expect(a.spec.template.labels).toEqual({ app: 'backup' });
  });

  it('accepts 6-field (seconds) schedules and expands macros', () => {
    expect(app(cronJob('  schedule: "*/2 * * * * *"\n')).spec.cron?.schedule).toBe('*/2 * * * * *');
    expect(app(cronJob('  schedule: "@hourly"\n')).spec.cron?.schedule).toBe('0 * * * *');
  });

  it('rejects a bad schedule, an unknown time zone and startingDeadlineSeconds with a clear line', () => {
    expect(() => parse(cronJob('  schedule: "every day"\n'))).toThrow(/spec\.schedule: "every day" is not a cron expression/);
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n  timeZone: Mars/Olympus\n'))).toThrow(/"Mars\/Olympus" is not a known time zone/);
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n  startingDeadlineSeconds: 10\n'))).toThrow(/not caught up/);
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n  concurrencyPolicy: Sometimes\n'))).toThrow(/concurrencyPolicy/);
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n  successfulJobsHistoryLimit: 101\n'))).toThrow(/at most 100/);
  });

  it("limits CronJob names to 52 characters, as Kubernetes does (its Jobs' names add the time)", () => {
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n').replace('name: backup', `name: ${'b'.repeat(53)}`))).toThrow(/metadata\.name: must be at most 52 characters/);
    expect(() => parse(cronJob('  schedule: "0 * * * *"\n').replace('name: backup', `name: ${'b'.repeat(52)}`))).not.toThrow();
  });

  it('says batch/v1 when the apiVersion is wrong', () => {
    expect(() => parse(job().replace('batch/v1', 'apps/v1'))).toThrow(/Job is batch\/v1/);
  });

  it('checks a hand-written selector against the template labels', () => {
    expect(() => parse(job('  selector:\n    matchLabels:\n      app: other\n'))).toThrow(/app=other does not match/);
  });
});
