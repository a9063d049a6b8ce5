import { afterEach, describe, expect, it } from 'vitest';
import type { PodStatus } from '../../src/core/wire-types.js';
import type { WireNodeTarget } from '../../src/core/wire-target.js';
import type { RevisionView, RolloutStatusView } from '../../src/server/objects/rollout-api.js';
import { FakeNode, startCluster, waitFor, type Cluster } from './server-harness.js';

/**
 * The rollout API on objects against a real control plane (controllers and all) and a fake node
 * that reports every pod of its target running and ready, the way an agent would: status,
 * history, undo, restart of a Deployment.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const ROLLOUT = '/v1/namespaces/default/deployments/web/rollout';

function web(version: string, changeCause?: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', ...(changeCause ? { annotations: { 'kubernetes.io/change-cause': changeCause } } : {}) },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27', env: [{ name: 'VERSION', value: version }] }] } },
    },
  };
}

async function setup(): Promise<{ c: Cluster; node: FakeNode; reportReady: () => Promise<WireNodeTarget> }> {
  const c = await startCluster();
  cleanups.push(() => c.close());
  const token = await c.call<{ token: string }>('POST', '/v1/tokens', {});
  await c.call('POST', '/v1/join', { token: token.body.token, nodeName: 'pi-1' }, null);
  const node = await FakeNode.connect(c.broker.url, 'pi-1');
  cleanups.push(() => node.close());
  await node.status();
  const reportReady = async (): Promise<WireNodeTarget> => {
    const target = node.latest()!;
    const pods: PodStatus[] = target.pods.map((p) => ({
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      app: p.owner?.name ?? p.name,
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

/** Reports readiness until the rollout is done (each report lets it take a step). */
async function completeRollout(c: Cluster, reportReady: () => Promise<WireNodeTarget>): Promise<RolloutStatusView> {
  return waitFor(async () => {
    await reportReady();
    const s = (await c.call<RolloutStatusView>('GET', ROLLOUT)).body;
    return s.done && s;
  }, 'rollout of web done', 15_000);
}

/** Waits for the node's target to run exactly these VERSION values (targets arrive after the store changes). */
async function versionsAre(node: FakeNode, expected: string[]): Promise<void> {
  const versions = () => node.latest()!.pods.map((p) => p.spec.containers[0]!.env?.[0]?.value).sort();
  await waitFor(() => JSON.stringify(versions()) === JSON.stringify(expected), `versions ${expected.join(',')} (now ${versions().join(',')})`, 10_000);
}

describe('rollout API', () => {
  it('reports status, keeps history, undoes to the previous or a given revision, and restarts', async () => {
    const { c, node, reportReady } = await setup();
    await c.call('POST', '/v1/apply', { objects: [web('1', 'first')] });
    expect(await completeRollout(c, reportReady)).toMatchObject({ kind: 'Deployment', name: 'web', done: true, message: 'deployment "web" successfully rolled out' });
    await versionsAre(node, ['1', '1']);

    await c.call('POST', '/v1/apply', { objects: [web('2')] });
    // Before the new pod reports ready, the node runs both versions: 2 old + 1 surge.
    const during = await waitFor(() => node.latest()?.pods.length === 3 && node.latest(), 'surge pod in the target');
    expect(new Set(during.pods.map((p) => p.spec.containers[0]!.env?.[0]?.value))).toEqual(new Set(['1', '2']));
    expect((await c.call<RolloutStatusView>('GET', ROLLOUT)).body).toMatchObject({ done: false, message: expect.stringMatching(/^Waiting for deployment "web" rollout to finish: /) });
    await completeRollout(c, reportReady);
    await versionsAre(node, ['2', '2']);

    const history = (await c.call<RevisionView[]>('GET', `${ROLLOUT}/history`)).body;
    expect(history.map((r) => [r.revision, r.current, r.changeCause])).toEqual([
      [1, false, 'first'],
      [2, true, undefined],
    ]);

    const undo = await c.call<{ toRevision: number }>('POST', `${ROLLOUT}/undo`, {});
    expect(undo).toMatchObject({ status: 200, body: { toRevision: 1, unchanged: false } });
    await completeRollout(c, reportReady);
    await versionsAre(node, ['1', '1']);
    // As Kubernetes: the revision rolled back to becomes the newest.
    expect((await c.call<RevisionView[]>('GET', `${ROLLOUT}/history`)).body.map((r) => [r.revision, r.current])).toEqual([
      [2, false],
      [3, true],
    ]);

    expect((await c.call('POST', `${ROLLOUT}/undo`, { toRevision: 2 })).status).toBe(200);
    await completeRollout(c, reportReady);
    await versionsAre(node, ['2', '2']);
    const missing = await c.call<{ error: { message: string } }>('POST', `${ROLLOUT}/undo`, { toRevision: 99 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('unable to find specified revision 99 in history of deployment "web"');
    expect((await c.call('POST', `${ROLLOUT}/undo`, { toRevision: 'x' })).status).toBe(400);

    const before = node.latest()!.pods.map((p) => p.name);
    const restart = await c.call<{ restartedAt: string }>('POST', `${ROLLOUT}/restart`, {});
    expect(restart.status).toBe(200);
    await completeRollout(c, reportReady);
    await waitFor(() => node.latest()!.pods.length === 2 && node.latest()!.pods.every((p) => !before.includes(p.name)), 'every pod replaced', 10_000);
    await versionsAre(node, ['2', '2']);
  });

  it('404 for the rollout of an unknown workload, 400 for a kind without rollouts', async () => {
    const { c } = await setup();
    expect((await c.call('GET', '/v1/namespaces/default/deployments/nope/rollout')).status).toBe(404);
    expect((await c.call('POST', '/v1/namespaces/default/ds/nope/rollout/restart', {})).status).toBe(404);
    expect((await c.call('GET', '/v1/namespaces/default/jobs/x/rollout')).status).toBe(400);
  });
});
