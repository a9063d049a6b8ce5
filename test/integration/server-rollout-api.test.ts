import { afterEach, describe, expect, it } from 'vitest';
import type { NodeTarget, PodStatus } from '../../src/core/wire-types.js';
import type { RevisionView, RolloutStatusView } from '../../src/server/rollout-api.js';
import type { PodView } from '../../src/server/views.js';
import { app } from '../unit/server-fixtures.js';
import { FakeNode, startCluster, waitFor, type Cluster } from './server-harness.js';

/**
 * The rollout API against a real control plane and a fake node that reports every pod of its
 * target running and ready, the way an agent would: status, history, undo, restart.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(): Promise<{ c: Cluster; node: FakeNode; reportReady: () => Promise<NodeTarget> }> {
  const c = await startCluster();
  cleanups.push(() => c.close());
  const token = await c.call<{ token: string }>('POST', '/v1/tokens', {});
  await c.call('POST', '/v1/join', { token: token.body.token, nodeName: 'pi-1' }, null);
  const node = await FakeNode.connect(c.broker.url, 'pi-1');
  cleanups.push(() => node.close());
  await node.status();
  await waitFor(async () => (await c.call<{ ready: boolean }>('GET', '/v1/nodes/pi-1')).body.ready, 'node ready');
  const reportReady = async (): Promise<NodeTarget> => {
    const target = node.latest()!;
    const pods: PodStatus[] = target.pods.map((p) => ({
      name: p.name,
      app: p.app,
      templateHash: p.templateHash,
      phase: 'Running',
      ready: true,
      restarts: 0,
      containers: [{ name: 'main', state: 'running', oomKilled: false, restarts: 0, ready: true }],
    }));
    await node.status({ observedRevision: target.revision, pods });
    return target;
  };
  return { c, node, reportReady };
}

/** Reports readiness until the app's rollout is complete (each report lets it take a step). */
async function completeRollout(c: Cluster, reportReady: () => Promise<NodeTarget>, name: string): Promise<RolloutStatusView> {
  return waitFor(async () => {
    await reportReady();
    const s = (await c.call<RolloutStatusView>('GET', `/v1/apps/${name}/rollout`)).body;
    return s.phase === 'Complete' && s;
  }, `rollout of ${name} complete`, 10_000);
}

/** Waits for the node's target to run exactly these VERSION values (targets arrive after the store changes). */
async function versionsAre(node: FakeNode, expected: string[]): Promise<void> {
  const versions = () => node.latest()!.pods.map((p) => p.containers[0]!.env[0]!.value);
  await waitFor(() => JSON.stringify(versions()) === JSON.stringify(expected), `versions ${expected.join(',')} (now ${versions().join(',')})`);
}

describe('rollout API', () => {
  it('reports status, keeps history, undoes to the previous or a given revision, and restarts', async () => {
    const { c, node, reportReady } = await setup();
    const v1 = app('web', { replicas: 2, strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 } });
    v1.meta.annotations['kubernetes.io/change-cause'] = 'first';
    await c.call('POST', '/v1/apply', { resources: [v1] });
    expect(await completeRollout(c, reportReady, 'web')).toMatchObject({ revision: 1, desired: 2, updated: 2, available: 2, total: 2 });

    await c.call('POST', '/v1/apply', { resources: [app('web', { replicas: 2, version: '2', strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 } })] });
    // Before the new pod reports ready, the node runs both versions: 2 old + 1 surge.
    const during = await waitFor(() => node.latest()?.pods.length === 3 && node.latest(), 'surge pod in the target');
    expect(new Set(during.pods.map((p) => p.containers[0]!.env[0]!.value))).toEqual(new Set(['1', '2']));
    expect((await c.call<RolloutStatusView>('GET', '/v1/apps/web/rollout')).body).toMatchObject({ revision: 2, phase: 'Progressing', updated: 1, available: 0 });
    // Old and new pods side by side each show the revision they run (REVISION in get pods -o wide).
    const pods = (await c.call<PodView[]>('GET', '/v1/pods?app=web')).body;
    const version = new Map(during.pods.map((p) => [p.name, p.containers[0]!.env[0]!.value]));
    expect(pods.map((p) => [version.get(p.name), p.revision]).sort()).toEqual([['1', 1], ['1', 1], ['2', 2]]);
    await completeRollout(c, reportReady, 'web');
    await versionsAre(node, ['2', '2']);

    const history = (await c.call<RevisionView[]>('GET', '/v1/apps/web/revisions')).body;
    expect(history.map((r) => [r.revision, r.current, r.changeCause])).toEqual([
      [2, true, undefined],
      [1, false, 'first'],
    ]);

    const undo = await c.call<{ toRevision: number }>('POST', '/v1/apps/web/rollback', {});
    expect(undo).toMatchObject({ status: 200, body: { toRevision: 1 } });
    expect(await completeRollout(c, reportReady, 'web')).toMatchObject({ revision: 3 });
    await versionsAre(node, ['1', '1']);
    expect((await c.call<RevisionView[]>('GET', '/v1/apps/web/revisions')).body.map((r) => r.revision)).toEqual([3, 2]);

    expect((await c.call('POST', '/v1/apps/web/rollback', { toRevision: 2 })).status).toBe(200);
    await completeRollout(c, reportReady, 'web');
    await versionsAre(node, ['2', '2']);
    const missing = await c.call<{ error: { code: string; message: string } }>('POST', '/v1/apps/web/rollback', { toRevision: 99 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('has no revision 99');
    expect((await c.call('POST', '/v1/apps/web/rollback', { toRevision: 'x' })).status).toBe(400);

    const before = node.latest()!.pods.map((p) => p.name);
    const restart = await c.call<{ restartedAt: string }>('POST', '/v1/apps/web/restart', {});
    expect(restart.status).toBe(200);
    await completeRollout(c, reportReady, 'web');
    await versionsAre(node, ['2', '2']);
    expect(node.latest()!.pods.map((p) => p.name).filter((n) => before.includes(n))).toEqual([]);
  });

  it('404 for the rollout of an unknown app', async () => {
    const { c } = await setup();
    expect((await c.call('GET', '/v1/apps/nope/rollout')).status).toBe(404);
    expect((await c.call('POST', '/v1/apps/nope/restart', {})).status).toBe(404);
  });
});
