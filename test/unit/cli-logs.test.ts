import { describe, expect, it } from 'vitest';
import { logsPath, logsSubject, podErrorLine } from '../../src/cli/verbs/client/logs.js';
import { notFound, Raw, type Answer } from './cli-k8s-fake-api.js';
import { fakeGroveEachTest } from './cli-run-grove.js';

const line = (p: string, text: string, stream = 'stdout') => JSON.stringify({ pod: p, container: 'web', time: '2026-03-01T12:00:00Z', stream, text });
const ndjson = (...items: string[]): Answer => [200, new Raw(items.map((i) => `${i}\n`).join(''))];
const noPodError = JSON.stringify({ pod: 'web-b', error: { code: 'NOT_FOUND', message: 'pod web-b has no container yet (Pending)' } });
const missing: Answer = [404, { error: { code: 'NOT_FOUND', message: 'not found' } }];

describe('logs arguments (pure)', () => {
  it('a name or pod/NAME is a pod; any other TYPE/NAME a workload, checked by the server', () => {
    expect(logsSubject('web-x2k4')).toEqual({ pod: 'web-x2k4' });
    expect(logsSubject('po/web-x2k4')).toEqual({ pod: 'web-x2k4' });
    expect(logsSubject('deploy/web')).toEqual({ workload: 'deploy/web' });
    expect(logsPath('shop', { workload: 'ds/agent' }, { container: 'log', tail: 5, follow: true })).toBe('/v1/logs?namespace=shop&workload=ds%2Fagent&container=log&tail=5&follow=true');
    expect(logsPath('shop', { pod: 'a' }, { follow: false, previous: true, since: 1500 })).toBe('/v1/logs?namespace=shop&pod=a&previous=true&sinceSeconds=2');
  });

  it('names the pod of an error once', () => {
    expect(podErrorLine('web-1', 'pod web-1 has no container yet')).toBe('grove: pod web-1 has no container yet');
    expect(podErrorLine('web-1', 'node pi-1 is not ready')).toBe('grove: pod web-1: node pi-1 is not ready');
  });
});

describe('grove logs against the server', () => {
  const fake = fakeGroveEachTest();
  const setUp = () =>
    fake({
      'GET /v1/logs?namespace=default&pod=web-a': ndjson(line('web-a', 'hello'), line('web-a', 'oops', 'stderr')),
      'GET /v1/logs?namespace=default&pod=web-a&tail=1&follow=true': ndjson(line('web-a', 'last')),
      'GET /v1/logs?namespace=default&pod=web-a&container=web&previous=true&sinceSeconds=120': ndjson(line('web-a', 'before the crash')),
      'GET /v1/logs?namespace=default&workload=deploy%2Fweb': ndjson(line('web-a', 'hello'), noPodError),
      'GET /v1/logs?namespace=default&pod=web': [404, notFound('pods', 'web')],
      'GET /v1/logs?namespace=default&workload=deployment%2Fweb': ndjson(line('web-a', 'hello')),
      'GET /v1/logs?namespace=default&pod=backup': [404, notFound('pods', 'backup')],
      'GET /v1/logs?namespace=default&workload=deployment%2Fbackup': missing,
      'GET /v1/logs?namespace=default&workload=daemonset%2Fbackup': missing,
      'GET /v1/logs?namespace=default&workload=job%2Fbackup': ndjson(line('backup-x', 'done')),
      'GET /v1/logs?namespace=default&pod=nothing': [404, notFound('pods', 'nothing')],
      'GET /v1/logs?namespace=default&workload=deployment%2Fnothing': missing,
      'GET /v1/logs?namespace=default&workload=daemonset%2Fnothing': missing,
      'GET /v1/logs?namespace=default&workload=job%2Fnothing': missing,
      'GET /v1/logs?namespace=default&workload=cronjob%2Fnothing': missing,
    });

  it('prints one pod\'s lines on stdout and stderr as the container wrote them', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['logs', 'web-a'])).toEqual({ code: 0, out: 'hello\n', err: 'oops\n' });
    expect((await grove.run(['logs', 'pod/web-a', '--tail', '1', '-f'])).out).toBe('last\n');
  });

  it('-p reads the previous instance, --since the newer lines, --timestamps starts lines with their time', async () => {
    const { grove } = await setUp();
    expect((await grove.run(['logs', 'web-a', '-c', 'web', '-p', '--since', '2m', '--timestamps'])).out).toBe('2026-03-01T12:00:00Z before the crash\n');
  });

  it('TYPE/NAME reads every pod of the workload; a pod without logs makes the exit code 1', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['logs', 'deploy/web', '--prefix'])).toEqual({ code: 1, out: '[pod/web-a/web] hello\n', err: 'grove: pod web-b has no container yet (Pending)\n' });
  });

  it('a bare name that is no pod is the Deployment, DaemonSet, Job or CronJob of that name; else the pod\'s NotFound', async () => {
    const { grove } = await setUp();
    expect((await grove.run(['logs', 'web'])).out).toBe('hello\n');
    expect((await grove.run(['logs', 'backup'])).out).toBe('done\n');
    expect(await grove.run(['logs', 'nothing'])).toEqual({ code: 1, out: '', err: 'grove: pods "nothing" not found\n' });
  });
});
