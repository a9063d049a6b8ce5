import { afterEach, describe, expect, it } from 'vitest';
import { runDescribe } from '../../src/cli/verbs/client/k8s/describe.js';
import { describeCronJob, describeDaemonSet, describeJob, podsStatus } from '../../src/cli/verbs/client/k8s/describe-workloads.js';
import { parseResourceArgs } from '../../src/cli/verbs/client/k8s/resource-args.js';
import { capture, fakeKubeApi, kubeList, type FakeApi } from './cli-k8s-fake-api.js';
import { ago, NOW, pod, running, stored } from './cli-k8s-fixtures.js';

const sensorPods = [pod('sensor-a', { phase: 'Running', containerStatuses: [running('web')] }), pod('sensor-b', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'node pi-4 has no free port 9100' }] }, { spec: { nodeName: undefined } })];

const ds = stored('DaemonSet', {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'sensor', namespace: 'default', annotations: { 'grove.io/update-window': '0 2 * * *', 'grove.io/update-window-duration': '2h' } },
  spec: { selector: { matchLabels: { app: 'sensor' } }, template: { metadata: { labels: { app: 'sensor' } }, spec: { nodeSelector: { role: 'sensor' }, containers: [{ name: 'read', image: 'ghcr.io/acme/sensor:2' }] } } },
  status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1, numberMisscheduled: 0 },
});

const job = stored('Job', {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'backup-29541600', namespace: 'default', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'backup', uid: 'uid-backup', controller: true, blockOwnerDeletion: true }] },
  spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'dump', image: 'postgres:16' }] } } },
  status: { failed: 3, startTime: ago(400), conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] },
});

describe('describe DaemonSet, Job, CronJob', () => {
  it('pods by phase, as kubectl counts them', () => {
    expect(podsStatus(sensorPods)).toBe('1 Running / 1 Waiting / 0 Succeeded / 0 Failed');
  });

  it('a DaemonSet: node counts, pods, template, and why a pod waits for its node', () => {
    const text = describeDaemonSet(ds, sensorPods);
    expect(text).toMatch(/^Node-Selector: +role=sensor$/m);
    expect(text).toMatch(/^Number of Nodes Scheduled with Available Pods: +1$/m);
    expect(text).toMatch(/^Pods Status: +1 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^   read:\n    Image: +ghcr.io\/acme\/sensor:2$/m);
    expect(text.split('\n').slice(-3)).toEqual(['Grove:', '  Update Window:     0 2 * * * (2h)', '  FailedScheduling:  node pi-4 has no free port 9100 (1 pod Pending)']);
  });

  it('a Job: limits, times, status and why it failed', () => {
    const text = describeJob(job, []);
    expect(text).toContain('Controlled By:    CronJob/backup');
    expect(text).toContain('Backoff Limit:    2');
    expect(text).toContain('Status:           Failed (0/1 completions)');
    expect(text).toContain('Pods Statuses:    0 Active (0 Ready) / 0 Succeeded / 3 Failed');
    expect(text).toMatch(/^Failed: +BackoffLimitExceeded: Job has reached the specified backoff limit$/m);
  });

  it('a CronJob: schedule, history limits, and the Jobs it keeps', () => {
    const cj = stored('CronJob', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'backup', namespace: 'default' },
      spec: { schedule: '0 3 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'dump', image: 'postgres:16' }] } } } } },
      status: { lastScheduleTime: ago(400) },
    });
    const text = describeCronJob(cj, [job]);
    expect(text).toContain('Concurrency Policy:            Forbid');
    expect(text).toContain('Last Schedule Time:  Sun, 01 Mar 2026 11:53:20 +0000');
    expect(text).toContain('Active Jobs:         <none>');
    expect(text).toMatch(/^ {2}backup-29541600 +Failed +0\/1 +Sun, 01 Mar 2026 11:53:20 \+0000$/m);
  });
});

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('runDescribe of workloads', () => {
  it('a Job without a selector: its pods by the job-name label', async () => {
    api = await fakeKubeApi({
      'GET /apis/batch/v1/namespaces/default/jobs/backup-29541600': [200, job],
      'GET /api/v1/namespaces/default/pods?labelSelector=batch.kubernetes.io%2Fjob-name%3Dbackup-29541600': [200, kubeList('Pod', [])],
    });
    const c = capture();
    await runDescribe(api.client, c.io, { resources: parseResourceArgs(['job', 'backup-29541600'], 'describe'), namespace: 'default' }, NOW);
    expect(c.out()).toMatch(/^Name: +backup-29541600$/m);
    // The job, its pods, and its events (which this server does not serve: no Events section, as kubectl).
    expect(api.seen.map((s) => s.url)).toHaveLength(3);
    expect(c.out()).not.toContain('Events');
  });
});
