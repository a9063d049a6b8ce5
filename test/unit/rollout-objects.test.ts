/**
 * `grove rollout` on objects (src/server/objects/rollout-api.ts): kubectl's status lines from the
 * status the controllers keep, history from ReplicaSets / ControllerRevisions, undo puts an older
 * template back, restart stamps grove.io/restartedAt.
 */
import { describe, expect, it } from 'vitest';
import { checkGroveAnnotations, groveAnnotationsOf } from '../../src/core/objects/annotations.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { daemonSetRolloutStatus, deploymentRolloutStatus, RolloutApi, rolloutKind } from '../../src/server/objects/rollout-api.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { fixtureClock } from './server-fixtures.js';

type Deployment = KindObject<'Deployment'>;
type DaemonSet = KindObject<'DaemonSet'>;

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });

function deployment(status: Deployment['status'], generation = 2, replicas = 3): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template('nginx:1') },
    ...(status ? { status } : {}),
  } as Deployment;
}

describe('rollout status, in kubectl\'s words', () => {
  it('Deployment', () => {
    const msg = (s: Deployment['status'], g?: number) => deploymentRolloutStatus(deployment(s, g)).message;
    expect(msg({ observedGeneration: 1 })).toBe('Waiting for deployment spec update to be observed...');
    expect(msg({ observedGeneration: 2, replicas: 4, updatedReplicas: 1 })).toBe('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    expect(msg({ observedGeneration: 2, replicas: 4, updatedReplicas: 3 })).toBe('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    expect(msg({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).toBe('Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
    expect(deploymentRolloutStatus(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({ done: true, failed: false, message: 'deployment "web" successfully rolled out' });
    const stuck = deploymentRolloutStatus(deployment({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } as Deployment['status']));
    expect(stuck).toEqual({ done: false, failed: true, message: 'deployment "web" exceeded its progress deadline' });
  });

  it('DaemonSet', () => {
    const ds = (status: DaemonSet['status'], strategy = 'RollingUpdate') =>
      ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', generation: 1 }, spec: { updateStrategy: { type: strategy }, template: template('a:1') }, status }) as unknown as DaemonSet;
    const base = { observedGeneration: 1, currentNumberScheduled: 3, numberMisscheduled: 0, desiredNumberScheduled: 3, numberReady: 3 };
    expect(daemonSetRolloutStatus(ds({ ...base, updatedNumberScheduled: 1 })).message).toBe('Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...');
    expect(daemonSetRolloutStatus(ds({ ...base, updatedNumberScheduled: 3, numberAvailable: 2 })).message).toBe('Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...');
    expect(daemonSetRolloutStatus(ds({ ...base, updatedNumberScheduled: 3, numberAvailable: 3 })).done).toBe(true);
    expect(daemonSetRolloutStatus(ds(base, 'OnDelete'))).toMatchObject({ failed: true, message: 'rollout status is only available for RollingUpdate strategy type' });
  });

  it('the controllers\' rollout annotations are valid on objects and never sent to nodes', () => {
    const annotations = { 'grove.io/last-rollback': 'revision 2 → 1 at x: y', 'grove.io/rollout-complete': 'x', 'grove.io/auto-rollback': 'false' };
    expect(checkGroveAnnotations(annotations)).toEqual([]);
    expect(groveAnnotationsOf(annotations)).toEqual({ 'grove.io/auto-rollback': 'false' });
  });

  it('takes kubectl\'s resource names and nothing without a rollout', () => {
    expect(rolloutKind('deploy')).toBe('Deployment');
    expect(rolloutKind('daemonsets')).toBe('DaemonSet');
    expect(() => rolloutKind('jobs')).toThrow('rollout works on deployments and daemonsets, not "jobs"');
  });
});

describe('rollout history, undo and restart on objects', () => {
  async function setup() {
    const store = new MemoryStore();
    const clock = fixtureClock();
    let uid = 0;
    const objects = new ObjectStore({ store, clock, newUid: () => `uid-${++uid}` });
    await ensureDefaultNamespace(objects);
    const created = (await objects.commit([{ op: 'put', object: deployment(undefined, 1) as unknown as AnyObject }])).results[0]!.object as Deployment;
    const owner = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const rs = (hash: string, revision: number, image: string, cause?: string) =>
      ({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `web-${hash}`,
          namespace: 'default',
          labels: { app: 'web', 'pod-template-hash': hash },
          annotations: { 'deployment.kubernetes.io/revision': String(revision), ...(cause ? { 'kubernetes.io/change-cause': cause } : {}) },
          ownerReferences: owner,
        },
        spec: { replicas: 0, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': hash } }, spec: template(image).spec } },
      }) as unknown as AnyObject;
    await objects.commit([rs('aaaaa', 1, 'nginx:0.9', 'first'), rs('bbbbb', 2, 'nginx:1')].map((object) => ({ op: 'put' as const, object })));
    return { objects, api: new RolloutApi(objects, () => clock.now()), ref: { kind: 'Deployment' as const, namespace: 'default', name: 'web' } };
  }

  it('lists the revisions, marks the current one, and undo goes to the previous one', async () => {
    const { objects, api, ref } = await setup();
    expect((await api.history(ref)).map((r) => [r.revision, r.object, r.current, r.changeCause])).toEqual([
      [1, 'web-aaaaa', false, 'first'],
      [2, 'web-bbbbb', true, undefined],
    ]);
    expect(await api.undo(ref, {})).toMatchObject({ toRevision: 1, unchanged: false });
    const after = (await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' }))!;
    expect(after.spec.template.spec.containers[0]!.image).toBe('nginx:0.9');
    expect(after.metadata.annotations?.['kubernetes.io/change-cause']).toBe('first');
    expect(after.metadata.generation).toBe(2);
    // Going to the revision already current changes nothing.
    expect(await api.undo(ref, { toRevision: 1 })).toMatchObject({ toRevision: 1, unchanged: true });
    await expect(api.undo(ref, { toRevision: 7 })).rejects.toThrow('unable to find specified revision 7 in history of deployment "web"');
    await expect(api.undo(ref, { toRevision: 'x' })).rejects.toThrow(/toRevision/);
  });

  it('the current revision is the controller\'s: the template the same by meaning (another spelling of the image)', async () => {
    const { objects, api, ref } = await setup();
    const d = (await objects.get(ref))!;
    const respelled = structuredClone(d.spec.template);
    respelled.spec.containers[0]!.image = 'docker.io/library/nginx:1';
    await objects.commit([{ op: 'put', object: { ...d, spec: { ...d.spec, template: respelled } } as unknown as AnyObject }]);
    expect((await api.history(ref)).map((r) => [r.revision, r.current])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(await api.undo(ref, { toRevision: 2 })).toMatchObject({ toRevision: 2, unchanged: true });
    expect(await api.undo(ref, {})).toMatchObject({ toRevision: 1, unchanged: false });
  });

  it('restart stamps the template, so the controllers replace every pod', async () => {
    const { objects, api, ref } = await setup();
    const { restartedAt } = await api.restart(ref);
    const after = (await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' }))!;
    expect(after.spec.template.metadata?.annotations?.['grove.io/restartedAt']).toBe(restartedAt);
    await expect(api.status({ ...ref, name: 'nope' })).rejects.toThrow('deployments.apps "nope" not found');
  });
});
