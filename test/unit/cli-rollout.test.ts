/**
 * `grove rollout` against a fake of the server's rollout routes: the workload argument forms,
 * kubectl's lines, the status loop's verdicts (an automatic rollback while watching fails it).
 */
import { describe, expect, it } from 'vitest';
import { historyTable, rolloutArgs, rolloutPath, statusVerdict } from '../../src/cli/verbs/client/rollout.js';
import { kubeStatus, type Answer } from './cli-k8s-fake-api.js';
import { fakeGroveEachTest } from './cli-run-grove.js';

const missing = (what: string): Answer => [404, { error: { code: 'NOT_FOUND', message: `${what} "agent" not found` } }];

describe('rollout (pure)', () => {
  it('parses TYPE/NAME, TYPE NAME and NAME; refuses other kinds; makes the route', () => {
    expect(rolloutArgs(['deploy/web'])).toEqual({ kind: 'Deployment', name: 'web' });
    expect(rolloutArgs(['ds', 'agent'])).toEqual({ kind: 'DaemonSet', name: 'agent' });
    expect(rolloutArgs(['web'])).toEqual({ name: 'web' });
    expect(() => rolloutArgs(['job/x'])).toThrow('rollout works on deployments and daemonsets, not "job"');
    expect(() => rolloutArgs(['deploy/web', 'x'])).toThrow('no need to specify a resource type');
    expect(rolloutPath('DaemonSet', 'shop', 'agent', '/undo')).toBe('/v1/namespaces/shop/daemonsets/agent/rollout/undo');
  });

  it('a rollback that appears while watching fails the watch; one from before does not', () => {
    const rolledBack = { done: true, failed: false, message: 'deployment "web" successfully rolled out', lastRollback: 'revision 3 → 2 at 2026-03-01T12:00:00Z: no progress for 600 s' };
    expect(statusVerdict(rolledBack, 'Deployment', 'web', undefined).failure).toBe('deployment "web" rollout failed and was rolled back: revision 3 → 2 at 2026-03-01T12:00:00Z: no progress for 600 s');
    expect(statusVerdict(rolledBack, 'Deployment', 'web', rolledBack.lastRollback)).toEqual({ line: 'deployment "web" successfully rolled out', done: true });
    expect(statusVerdict({ done: false, failed: true, message: 'deployment "web" exceeded its progress deadline' }, 'Deployment', 'web', undefined).failure).toBe('deployment "web" exceeded its progress deadline');
    expect(statusVerdict({ done: false, failed: false, message: 'Waiting…' }, 'Deployment', 'web', undefined)).toEqual({ line: 'Waiting…', done: false });
  });

  it('history is kubectl\'s table', () => {
    expect(historyTable([{ revision: 1, current: false, changeCause: 'first' }, { revision: 2, current: true }])).toBe('REVISION   CHANGE-CAUSE\n1          first\n2          <none>');
  });
});

describe('rollout verbs against the server', () => {
  const fake = fakeGroveEachTest();
  const web = '/v1/namespaces/default/deployments/web/rollout';
  const setUp = () =>
    fake({
      [`GET ${web}`]: [200, { kind: 'Deployment', namespace: 'default', name: 'web', done: true, failed: false, message: 'deployment "web" successfully rolled out' }],
      [`GET ${web}/history`]: [200, [{ revision: 1, current: false, object: 'web-aaa' }, { revision: 2, current: true, object: 'web-bbb', changeCause: 'nginx 1.28' }]],
      [`POST ${web}/undo`]: (body) => [200, { toRevision: (body as { toRevision?: number }).toRevision ?? 1, unchanged: (body as { toRevision?: number }).toRevision === 2 }],
      [`POST ${web}/restart`]: [200, { restartedAt: '2026-03-01T12:00:00Z' }],
      'GET /v1/namespaces/default/deployments/agent/rollout': missing('deployments.apps'),
      'GET /v1/namespaces/default/daemonsets/agent/rollout': [200, { done: false, failed: false, message: 'Waiting for daemon set "agent" rollout to finish: 0 out of 2 new pods have been updated...' }],
      'GET /v1/namespaces/default/deployments/gone/rollout': missing('deployments.apps'),
      'GET /v1/namespaces/default/daemonsets/gone/rollout': missing('daemonsets.apps'),
      'GET /v1/namespaces/shop/deployments/stuck/rollout': [200, { done: false, failed: true, message: 'deployment "stuck" exceeded its progress deadline' }],
      'POST /v1/namespaces/default/deployments/old/rollout/undo': [404, kubeStatus(404, 'NotFound', 'unable to find specified revision 9 in history of deployment "old"')],
    });

  it('status, history, undo and restart print kubectl\'s lines', async () => {
    const { api, grove } = await setUp();
    expect(await grove.run(['rollout', 'status', 'deploy/web'])).toEqual({ code: 0, out: 'deployment "web" successfully rolled out\n', err: '' });
    expect((await grove.run(['rollout', 'history', 'deployment', 'web'])).out).toBe('deployment.apps/web\nREVISION   CHANGE-CAUSE\n1          <none>\n2          nginx 1.28\n');
    expect((await grove.run(['rollout', 'undo', 'deploy/web'])).out).toBe('deployment.apps/web rolled back\n');
    expect((await grove.run(['rollout', 'undo', 'deploy/web', '--to-revision', '2'])).out).toBe('deployment.apps/web skipped rollback (current template already matches revision 2)\n');
    expect(api.seen.filter((s) => s.method === 'POST').map((s) => s.body)).toEqual([{}, { toRevision: 2 }]);
    expect((await grove.run(['rollout', 'restart', 'deploy/web'])).out).toBe('deployment.apps/web restarted\n');
  });

  it('a bare name is the Deployment, else the DaemonSet; neither is one clear line', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['rollout', 'status', 'agent', '--no-watch'])).toEqual({ code: 0, out: 'Waiting for daemon set "agent" rollout to finish: 0 out of 2 new pods have been updated...\n', err: '' });
    expect(await grove.run(['rollout', 'status', 'gone'])).toEqual({ code: 1, out: '', err: 'grove: no deployment or daemon set named "gone" in namespace default\n' });
  });

  it('a failed rollout exits 1 with its reason; an undo the server refuses says why', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['rollout', 'status', 'deploy/stuck', '-n', 'shop'])).toEqual({ code: 1, out: '', err: 'grove: deployment "stuck" exceeded its progress deadline\n' });
    const r = await grove.run(['rollout', 'undo', 'deploy/old', '--to-revision', '9']);
    expect(r).toEqual({ code: 1, out: '', err: 'grove: unable to find specified revision 9 in history of deployment "old"\n' });
  });
});
