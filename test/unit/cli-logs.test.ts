import { describe, expect, it } from 'vitest';
import { logsPath, logsTarget, podErrorLine, podSelector } from '../../src/cli/verbs/client/logs.js';
import { KINDS } from '../../src/core/objects/kinds.js';
import { kubeList, notFound, Raw } from './cli-k8s-fake-api.js';
import { deployment, pod } from './cli-k8s-fixtures.js';
import { fakeGroveEachTest } from './cli-run-grove.js';

const line = (p: string, text: string, stream = 'stdout') => JSON.stringify({ pod: p, container: 'web', time: '2026-03-01T12:00:00Z', stream, text });

describe('logs arguments (pure)', () => {
  it('a name or pod/NAME is a pod; TYPE/NAME a workload; other kinds are refused', () => {
    expect(logsTarget('web-x2k4')).toEqual({ kind: KINDS.Pod, name: 'web-x2k4' });
    expect(logsTarget('deploy/web')).toEqual({ kind: KINDS.Deployment, name: 'web' });
    expect(logsTarget('job/backup')).toEqual({ kind: KINDS.Job, name: 'backup' });
    expect(() => logsTarget('cm/settings')).toThrow('logs reads pods, deployments, daemonsets, replicasets and jobs, not "cm"');
  });

  it('finds a workload\'s pods by its matchLabels, a Job\'s by its job-name label', () => {
    expect(podSelector(deployment('web', 1, {}))).toBe('app=web,tier=front');
    expect(podSelector({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'backup' }, spec: {} } as never)).toBe('batch.kubernetes.io/job-name=backup');
  });

  it('asks the server for one pod in its namespace', () => {
    expect(logsPath('shop', 'web-1', { container: 'log', tail: 5, follow: true, prefix: false })).toBe('/v1/logs?namespace=shop&pod=web-1&container=log&tail=5&follow=true');
    expect(podErrorLine('web-1', 'pod web-1 has no container yet')).toBe('grove: pod web-1 has no container yet');
    expect(podErrorLine('web-1', 'node pi-1 is not ready')).toBe('grove: pod web-1: node pi-1 is not ready');
  });
});

describe('grove logs against the server', () => {
  const fake = fakeGroveEachTest();

  const web = deployment('web', 2, {});
  const pods = [pod('web-b', {}, { metadata: { labels: { app: 'web', tier: 'front' } } }), pod('web-a', {}, { metadata: { labels: { app: 'web', tier: 'front' } } })];

  function setUp() {
    return fake({
      'GET /api/v1/namespaces/default/pods/web-a': [200, pods[1]],
      'GET /api/v1/namespaces/default/pods/web': [404, notFound('pods', 'web')],
      'GET /apis/apps/v1/namespaces/default/deployments/web': [200, web],
      'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb%2Ctier%3Dfront': [200, kubeList('Pod', pods)],
      'GET /v1/logs?namespace=default&pod=web-a': [200, new Raw(`${line('web-a', 'hello')}\n${line('web-a', 'oops', 'stderr')}\n`)],
      'GET /v1/logs?namespace=default&pod=web-b': [200, new Raw(`${JSON.stringify({ pod: 'web-b', error: { code: 'NOT_FOUND', message: 'pod web-b has no container yet (Pending)' } })}\n`)],
      'GET /v1/logs?namespace=default&pod=web-a&tail=1&follow=true': [200, new Raw(`${line('web-a', 'last')}\n`)],
    });
  }

  it('prints one pod\'s lines on stdout and stderr as the container wrote them', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['logs', 'web-a'])).toEqual({ code: 0, out: 'hello\n', err: 'oops\n' });
    expect((await grove.run(['logs', 'pod/web-a', '--tail', '1', '-f'])).out).toBe('last\n');
  });

  it('deploy/NAME and a bare workload name read every pod; a pod without logs makes the exit code 1', async () => {
    const { api, grove } = await setUp();
    const r = await grove.run(['logs', 'deploy/web', '--prefix']);
    expect(r).toEqual({ code: 1, out: '[pod/web-a/web] hello\n', err: '[pod/web-a/web] oops\ngrove: pod web-b has no container yet (Pending)\n' });
    expect((await grove.run(['logs', 'web'])).out).toBe('hello\n');
    expect(api.seen.filter((s) => s.url.startsWith('/v1/logs')).map((s) => s.url)).toContain('/v1/logs?namespace=default&pod=web-b');
  });

  it('a name that is neither a pod nor a workload: the pod\'s NotFound in kubectl\'s words', async () => {
    const { api, grove } = await fake({
      'GET /api/v1/namespaces/default/pods/nothing': [404, notFound('pods', 'nothing')],
      'GET /apis/apps/v1/namespaces/default/deployments/nothing': [404, notFound('deployments.apps', 'nothing')],
      'GET /apis/apps/v1/namespaces/default/daemonsets/nothing': [404, notFound('daemonsets.apps', 'nothing')],
      'GET /apis/apps/v1/namespaces/default/replicasets/nothing': [404, notFound('replicasets.apps', 'nothing')],
      'GET /apis/batch/v1/namespaces/default/jobs/nothing': [404, notFound('jobs.batch', 'nothing')],
    });
    expect(await grove.run(['logs', 'nothing'])).toEqual({ code: 1, out: '', err: 'grove: Error from server (NotFound): pods "nothing" not found\n' });
    expect(api.seen.map((s) => s.url)).toHaveLength(5);
  });
});
