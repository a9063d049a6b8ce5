/**
 * `grove rollout` on objects: the pure history/undo/watch deciders, and the verbs against a fake
 * of the Kubernetes paths and the object apply (what they read, what they apply back).
 */
import { describe, expect, it } from 'vitest';
import { APPLY_OBJECTS_PATH } from '../../src/cli/client/apply-objects.js';
import { restartedTemplate, rolloutArgs } from '../../src/cli/verbs/client/rollout.js';
import { daemonSetRevisions, deploymentRevisions, historyTable, undoPlan } from '../../src/cli/verbs/client/rollout/revisions.js';
import { rolloutLook } from '../../src/cli/verbs/client/rollout/watch.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { kubeList, notFound } from './cli-k8s-fake-api.js';
import { deployment, stored } from './cli-k8s-fixtures.js';
import { applyAnswer, fakeGroveEachTest } from './cli-run-grove.js';

type Template = KindObject<'Deployment'>['spec']['template'];

const web = (image: string, status: Record<string, unknown> = {}, generation = 2) => {
  const d = deployment('web', 2, { observedGeneration: generation, ...status });
  d.metadata.generation = generation;
  d.spec.template.spec.containers[0]!.image = image;
  return d;
};

function replicaSet(d: KindObject<'Deployment'>, revision: number, image: string, hash: string, cause?: string): KindObject<'ReplicaSet'> {
  const template = structuredClone(d.spec.template) as Template;
  template.spec.containers[0]!.image = image;
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': hash } };
  return stored('ReplicaSet', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`,
      namespace: 'default',
      annotations: { 'deployment.kubernetes.io/revision': String(revision), ...(cause ? { 'kubernetes.io/change-cause': cause } : {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template },
  });
}

describe('rollout history and undo (pure)', () => {
  const d = web('nginx:1.28');
  const sets = [replicaSet(d, 3, 'nginx:1.28', 'ccc'), replicaSet(d, 1, 'nginx:1.26', 'aaa', 'first'), replicaSet(d, 2, 'nginx:1.27', 'bbb')];
  const stranger = { ...replicaSet(d, 9, 'x:1', 'zzz'), metadata: { ...replicaSet(d, 9, 'x:1', 'zzz').metadata, ownerReferences: [] } };

  it('lists the ReplicaSets the Deployment controls, oldest first, templates without the hash label', () => {
    const revisions = deploymentRevisions(d, [...sets, stranger]);
    expect(revisions.map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(revisions[0]!.template.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(historyTable(revisions)).toBe('REVISION   CHANGE-CAUSE\n1          first\n2          <none>\n3          <none>');
  });

  it('undo goes to the revision before the newest, or the one named; skips when the template already is it', () => {
    const revisions = deploymentRevisions(d, sets);
    const plan = undoPlan(d, revisions, 0);
    expect(plan).toMatchObject({ action: 'rollback', revision: 2 });
    expect(plan.action === 'rollback' && plan.template.spec.containers[0]!.image).toBe('nginx:1.27');
    expect(undoPlan(d, revisions, 1)).toMatchObject({ action: 'rollback', revision: 1 });
    expect(undoPlan(d, revisions, 3)).toEqual({ action: 'skip', revision: 3 });
    expect(() => undoPlan(d, revisions, 7)).toThrow('unable to find specified revision 7 in history of deployment "web"');
    expect(() => undoPlan(d, [], 0)).toThrow('no rollout history found for deployment "web"');
  });

  it('a DaemonSet\'s history is its ControllerRevisions', () => {
    const ds = stored('DaemonSet', {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'a:2' }] } } },
    });
    const cr = (revision: number, image: string) => stored('ControllerRevision', {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: { name: `agent-${revision}`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid!, controller: true }] },
      data: { spec: { template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image }] } } } },
      revision,
    });
    const revisions = daemonSetRevisions(ds, [cr(2, 'a:2'), cr(1, 'a:1')]);
    expect(revisions.map((r) => r.revision)).toEqual([1, 2]);
    expect(undoPlan(ds, revisions, 0)).toMatchObject({ action: 'rollback', revision: 1 });
  });
});

describe('rollout status (pure)', () => {
  it('says what it waits for in kubectl\'s words, then that it rolled out', () => {
    const unseen = web('n', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 2);
    unseen.metadata.generation = 3;
    expect(rolloutLook(unseen, undefined).line).toBe('Waiting for deployment spec update to be observed...');
    const d = web('n', { replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
    expect(rolloutLook(d, undefined)).toEqual({ line: 'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...', done: false });
    expect(rolloutLook(web('n', { replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), undefined).line).toBe('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    expect(rolloutLook(web('n', { replicas: 2, updatedReplicas: 2, availableReplicas: 1 }), undefined).line).toBe('Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...');
    expect(rolloutLook(web('n', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), undefined)).toEqual({ line: 'deployment "web" successfully rolled out', done: true });
  });

  it('fails on a passed progress deadline and on an automatic rollback that happened while watching', () => {
    const stuck = web('n', { replicas: 2, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'web-ccc made no progress' }] });
    expect(rolloutLook(stuck, undefined).failure).toBe('deployment "web" exceeded its progress deadline: web-ccc made no progress');
    const rolledBack = web('n', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    rolledBack.metadata.annotations = { 'grove.io/last-rollback': 'revision 3 → 2 at 2026-03-01T12:00:00Z: no progress for 600 s' };
    expect(rolloutLook(rolledBack, undefined).failure).toBe('deployment "web" rollout failed and was rolled back: revision 3 → 2 at 2026-03-01T12:00:00Z: no progress for 600 s');
    // A rollback from before the watch began is history, not this rollout's failure.
    expect(rolloutLook(rolledBack, rolledBack.metadata.annotations['grove.io/last-rollback'])).toMatchObject({ done: true, line: 'deployment "web" successfully rolled out' });
  });

  it('parses TYPE/NAME, TYPE NAME and NAME; refuses other kinds', () => {
    expect(rolloutArgs(['deploy/web'])).toEqual({ kind: 'Deployment', name: 'web' });
    expect(rolloutArgs(['ds', 'agent'])).toEqual({ kind: 'DaemonSet', name: 'agent' });
    expect(rolloutArgs(['web'])).toEqual({ name: 'web' });
    expect(() => rolloutArgs(['job/x'])).toThrow('rollout works on deployments and daemonsets, not "job"');
  });

  it('restart sets grove.io/restartedAt on the template only', () => {
    const d = web('n');
    const t = restartedTemplate(d, new Date('2026-03-01T12:00:00Z'));
    expect(t.metadata?.annotations).toEqual({ 'grove.io/restartedAt': '2026-03-01T12:00:00.000Z' });
    expect(t.metadata?.labels).toEqual(d.spec.template.metadata?.labels);
    expect(d.spec.template.metadata?.annotations).toBeUndefined();
  });
});

describe('rollout verbs against the server', () => {
  const fake = fakeGroveEachTest();

  const current = web('nginx:1.28', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  const sets = [replicaSet(current, 1, 'nginx:1.27', 'aaa'), replicaSet(current, 2, 'nginx:1.28', 'bbb')];
  function setUp() {
    return fake({
      'GET /apis/apps/v1/namespaces/default/deployments/web': [200, current],
      'GET /apis/apps/v1/namespaces/default/deployments/agent': [404, notFound('deployments.apps', 'agent')],
      'GET /apis/apps/v1/namespaces/default/daemonsets/agent': [404, notFound('daemonsets.apps', 'agent')],
      'GET /apis/apps/v1/namespaces/default/replicasets': [200, kubeList('ReplicaSet', sets)],
      [`POST ${APPLY_OBJECTS_PATH}`]: applyAnswer('configured'),
    });
  }

  it('undo applies the Deployment back with the previous template and its resourceVersion', async () => {
    const { api, grove } = await setUp();
    expect(await grove.run(['rollout', 'undo', 'deploy/web'])).toEqual({ code: 0, out: 'deployment.apps/web rolled back\n', err: '' });
    const post = api.seen.find((s) => s.method === 'POST')!;
    const [sent] = (post.body as { objects: KindObject<'Deployment'>[] }).objects;
    expect(sent!.spec.template.spec.containers[0]!.image).toBe('nginx:1.27');
    expect(sent!.spec.template.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(sent!.metadata.resourceVersion).toBe('42');
    expect(sent).not.toHaveProperty('status');
    expect((await grove.run(['rollout', 'undo', 'web', '--to-revision', '2'])).out).toBe('deployment.apps/web skipped rollback (current template already matches revision 2)\n');
  });

  it('history prints kubectl\'s table; restart applies the restartedAt annotation; status of a finished rollout exits 0', async () => {
    const { api, grove } = await setUp();
    expect((await grove.run(['rollout', 'history', 'deployment', 'web'])).out).toBe('deployment.apps/web\nREVISION   CHANGE-CAUSE\n1          <none>\n2          <none>\n');
    expect((await grove.run(['rollout', 'restart', 'web'])).out).toBe('deployment.apps/web restarted\n');
    const [sent] = (api.seen.find((s) => s.method === 'POST')!.body as { objects: KindObject<'Deployment'>[] }).objects;
    expect(Object.keys(sent!.spec.template.metadata?.annotations ?? {})).toEqual(['grove.io/restartedAt']);
    expect(await grove.run(['rollout', 'status', 'web'])).toEqual({ code: 0, out: 'deployment "web" successfully rolled out\n', err: '' });
  });

  it('a name that is neither a Deployment nor a DaemonSet is one clear line', async () => {
    const { grove } = await setUp();
    expect(await grove.run(['rollout', 'status', 'agent'])).toEqual({ code: 1, out: '', err: 'grove: no deployment or daemon set named "agent" in namespace default\n' });
  });
});
