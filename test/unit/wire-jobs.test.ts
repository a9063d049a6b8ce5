import { describe, expect, it } from 'vitest';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus, PodTarget } from '../../src/core/wire-types.js';

const pod = (extra: Partial<PodTarget> = {}): PodTarget => ({
  name: 'backup-abc123-x2k4q',
  app: 'backup',
  templateHash: 'abc123',
  restartPolicy: 'OnFailure',
  hostNetwork: false,
  containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', env: [], resources: {} }],
  job: { completions: 1, parallelism: 1, backoffLimit: 6, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 60 },
  cron: { schedule: '*/5 * * * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false },
  ...extra,
});

const target = (p: PodTarget) => encodeMessage(makeNodeTarget({ cluster: 'default', node: 'pi-1', revision: 3, pods: [p], issuedAt: '2026-01-01T00:00:00Z' }));

const status = (job: unknown): NodeStatus =>
  ({
    schema: 1,
    node: 'pi-1',
    seq: 1,
    observedRevision: 3,
    heartbeat: false,
    facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: 'k', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '0', labels: {} },
    pods: [{ name: 'backup-abc123-x2k4q', app: 'backup', templateHash: 'abc123', phase: 'Running', ready: true, restarts: 0, containers: [], job }],
    sentAt: '2026-01-01T00:00:00Z',
  }) as NodeStatus;

describe('Job / CronJob fields on the wire', () => {
  it('round-trips job and cron settings in a pod target', () => {
    expect(decodeNodeTarget(target(pod())).pods[0]).toEqual(pod());
    const plain = pod();
    delete plain.job;
    delete plain.cron;
    expect(decodeNodeTarget(target(plain)).pods[0]).toEqual(plain);
  });

  it('rejects out-of-bounds and malformed settings with the field path', () => {
    const cases: [Partial<PodTarget>, RegExp][] = [
      [{ job: { completions: 0, parallelism: 1, backoffLimit: 6 } }, /pods\[0\]\.job\.completions: must be 1\.\.1000/],
      [{ job: { completions: 1, parallelism: 1, backoffLimit: -1 } }, /job\.backoffLimit/],
      [{ cron: { ...pod().cron!, schedule: 'x'.repeat(200) } }, /cron\.schedule: longer than 128/],
      [{ cron: { ...pod().cron!, schedule: '* * * * *; rm -rf /' } }, /cron\.schedule: contains characters/],
      [{ cron: { ...pod().cron!, successfulJobsHistoryLimit: 101 } }, /successfulJobsHistoryLimit: must be 0\.\.100/],
      [{ cron: { ...pod().cron!, concurrencyPolicy: 'Sometimes' as 'Allow' } }, /concurrencyPolicy: expected one of Allow, Forbid, Replace/],
      [{ cron: { ...pod().cron!, suspend: 'no' as unknown as boolean } }, /cron\.suspend: expected a boolean/],
    ];
    for (const [extra, re] of cases) expect(() => decodeNodeTarget(target(pod(extra)))).toThrow(re);
  });

  it('round-trips a job status, and bounds it', () => {
    const job = {
      active: 1,
      succeeded: 2,
      failed: 0,
      lastScheduleTime: '2026-01-01T00:00:00.000Z',
      jobs: [{ name: 'backup-abc123-x2k4q-1767225600', active: 0, succeeded: 1, failed: 0, startTime: '2026-01-01T00:00:00.000Z', completionTime: '2026-01-01T00:00:02.000Z', condition: 'Complete' }],
    };
    expect(decodeNodeStatus(encodeMessage(status(job))).pods[0]?.job).toEqual(job);
    expect(() => decodeNodeStatus(encodeMessage(status({ ...job, condition: 'Done' })))).toThrow(/job\.condition: expected one of Complete, Failed/);
    expect(() => decodeNodeStatus(encodeMessage(status({ ...job, jobs: new Array(301).fill(job.jobs[0]) })))).toThrow(/more than 300/);
    expect(() => decodeNodeStatus(encodeMessage(status({ ...job, startTime: 'yesterday' })))).toThrow(/startTime: expected an ISO 8601/);
  });
});
