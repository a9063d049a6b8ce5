import { describe, expect, it } from 'vitest';
import { deploymentController, LAST_ROLLBACK_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION } from '../../src/server/controllers/deployment.js';
import { replicaSetController } from '../../src/server/controllers/replicaset.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { rollingNumbers, rollingStep } from '../../src/server/controllers/rollout-math.js';
import { podTemplateHash } from '../../src/core/objects/template-hash.js';
import { applyChanges, container, deployment, markReady, node, pass, pods, snapshot, T0, world, type World } from './controller-fixtures.js';

const controllers = [deploymentController(), replicaSetController(), schedulerController()];

/** Passes until nothing changes (at most 10), marking bound pods ready after each when `ready`. */
function settle(w: World, ready = true): void {
  for (let i = 0; i < 10; i++) {
    const changes = pass(w, ...controllers);
    if (ready) markReady(w);
    if (changes.length === 0) return;
  }
  throw new Error('did not settle');
}

function setTemplateImage(w: World, image: string): void {
  const d = w.objects.Deployment[0]!;
  const spec = structuredClone(d.spec);
  spec.template.spec.containers[0]!.image = image;
  w.objects.Deployment[0] = { ...d, metadata: { ...d.metadata, generation: (d.metadata.generation ?? 1) + 1 }, spec };
}

const images = (w: World) => pods(w).map((p) => p.spec.containers[0]!.image).sort();
const rsReplicas = (w: World) => Object.fromEntries(w.objects.ReplicaSet.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec.replicas]));

describe('rollout numbers (Kubernetes rounding)', () => {
  it('surge rounds up, unavailable down; never both 0; hostPorts make 1 unavailable', () => {
    expect(rollingNumbers(undefined, 4, { daemonSet: false, hostPorts: false })).toEqual({ maxSurge: 1, maxUnavailable: 1 });
    expect(rollingNumbers(undefined, 1, { daemonSet: false, hostPorts: false })).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(rollingNumbers({ maxSurge: 0, maxUnavailable: '10%' }, 3, { daemonSet: false, hostPorts: false })).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rollingNumbers(undefined, 1, { daemonSet: false, hostPorts: true })).toEqual({ maxSurge: 1, maxUnavailable: 1 });
    expect(rollingNumbers({ maxSurge: 0, maxUnavailable: '50%' }, 3, { daemonSet: true, hostPorts: false })).toEqual({ maxSurge: 0, maxUnavailable: 2 });
    // A DaemonSet's new pod lands beside its old one: with a hostPort it can never surge.
    expect(rollingNumbers({ maxSurge: 1, maxUnavailable: 0 }, 3, { daemonSet: true, hostPorts: true })).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe('rolling step (Kubernetes reconcileNewReplicaSet + reconcileOldReplicaSets)', () => {
  const n = { maxSurge: 1, maxUnavailable: 0 };
  it('surges one new replica and removes nothing while it is not available', () => {
    expect(rollingStep(2, n, { replicas: 0, available: 0 }, [{ replicas: 2, available: 2 }])).toEqual({ current: 1, old: [2] });
    expect(rollingStep(2, n, { replicas: 1, available: 0 }, [{ replicas: 2, available: 2 }])).toEqual({ current: 1, old: [2] });
  });
  it('removes old replicas only while desired − maxUnavailable stay available', () => {
    expect(rollingStep(2, n, { replicas: 1, available: 1 }, [{ replicas: 2, available: 2 }])).toEqual({ current: 1, old: [1] });
    expect(rollingStep(4, { maxSurge: 1, maxUnavailable: 1 }, { replicas: 0, available: 0 }, [{ replicas: 4, available: 4 }])).toEqual({ current: 1, old: [3] });
  });
  it('removes unavailable old replicas first (within what the surge allows), they cost nothing', () => {
    expect(rollingStep(2, n, { replicas: 1, available: 0 }, [{ replicas: 1, available: 1 }, { replicas: 2, available: 0 }])).toEqual({ current: 1, old: [1, 1] });
    expect(rollingStep(2, n, { replicas: 1, available: 1 }, [{ replicas: 1, available: 1 }, { replicas: 1, available: 0 }])).toEqual({ current: 1, old: [1, 0] });
  });
});

describe('Deployment → ReplicaSet → Pods', () => {
  it('makes one ReplicaSet named <deployment>-<hash> with the hash label, revision 1, and its pods', () => {
    const w = world([node('a'), node('b'), deployment('web', { replicas: 2 })]);
    settle(w);
    const d = w.objects.Deployment[0]!;
    const hash = podTemplateHash(d.spec.template);
    const rs = w.objects.ReplicaSet[0]!;
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-deploy-web', controller: true, blockOwnerDeletion: true }]);
    expect(pods(w).map((p) => [p.metadata.name, p.spec.nodeName, p.metadata.labels?.['pod-template-hash']])).toEqual([
      [`web-${hash}-bbbbb`, 'a', hash],
      [`web-${hash}-bbbbc`, 'b', hash],
    ]);
    expect(w.objects.Deployment[0]!.status).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 });
    const conditions = Object.fromEntries((w.objects.Deployment[0]!.status?.conditions ?? []).map((c) => [c.type, c.reason]));
    expect(conditions).toEqual({ Available: 'MinimumReplicasAvailable', Progressing: 'NewReplicaSetAvailable' });
    expect(rs.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION]).toBeDefined();
    // Settled: a further pass changes nothing.
    expect(pass(w, ...controllers)).toEqual([]);
  });

  it('scales up and down; scale-down takes unbound pods first, then the newest', () => {
    const w = world([node('a', { cordoned: true }), deployment('web', { replicas: 1 })]);
    settle(w);
    w.objects.Node[0] = node('a');
    settle(w);
    const first = pods(w)[0]!.metadata.name;
    const d = w.objects.Deployment[0]!;
    w.objects.Deployment[0] = { ...d, spec: { ...d.spec, replicas: 3 } };
    settle(w);
    expect(pods(w)).toHaveLength(3);
    w.objects.Deployment[0] = { ...d, spec: { ...d.spec, replicas: 1 } };
    settle(w);
    expect(pods(w).map((p) => p.metadata.name)).toEqual([first]);
  });

  it('rolling update: surges one new pod and keeps the old ones while it is not ready', () => {
    const w = world([node('a'), node('b'), deployment('web', { replicas: 2 })]);
    settle(w);
    setTemplateImage(w, 'example/app:2');
    settle(w, false);
    // 2 replicas: maxSurge 1, maxUnavailable 0: one new pod beside the two old ones, nothing more.
    expect(images(w)).toEqual(['example/app:1', 'example/app:1', 'example/app:2']);
    expect(rsReplicas(w)).toEqual({ '1': 2, '2': 1 });
    markReady(w);
    settle(w);
    expect(images(w)).toEqual(['example/app:2', 'example/app:2']);
    expect(rsReplicas(w)).toEqual({ '1': 0, '2': 2 });
    expect(w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
  });

  it('Recreate: every old pod goes before a new one comes', () => {
    const w = world([node('a'), deployment('web', { replicas: 2, strategy: { type: 'Recreate' } })]);
    settle(w);
    setTemplateImage(w, 'example/app:2');
    pass(w, ...controllers);
    // The new set stays at 0 while any old pod is left.
    expect(rsReplicas(w)).toEqual({ '1': 0, '2': 0 });
    expect(images(w)).toEqual([]);
    settle(w);
    expect(images(w)).toEqual(['example/app:2', 'example/app:2']);
  });

  it('a template that becomes current again reuses its ReplicaSet under the next revision', () => {
    const w = world([node('a'), deployment('web')]);
    settle(w);
    setTemplateImage(w, 'example/app:2');
    settle(w);
    setTemplateImage(w, 'example/app:1');
    settle(w);
    expect(w.objects.ReplicaSet).toHaveLength(2);
    expect(rsReplicas(w)).toEqual({ '2': 0, '3': 1 });
  });

  it('rolls back to the last complete revision after progressDeadlineSeconds without progress', () => {
    const w = world([node('a'), deployment('web', { replicas: 1, progressDeadlineSeconds: 60 })]);
    settle(w);
    setTemplateImage(w, 'example/bad:2');
    const r1 = deploymentController().reconcile(snapshot(w));
    applyChanges(w, r1.changes);
    settle(w, false);
    const progressing = () => w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing()?.reason).toBe('ReplicaSetUpdated');
    const wake = deploymentController().reconcile(snapshot(w)).wakeAt!;
    expect(wake).toBe(T0 + 60_000);
    w.now = wake - 1;
    expect(pass(w, ...controllers)).toEqual([]);
    w.now = wake;
    pass(w, deploymentController());
    const d = w.objects.Deployment[0]!;
    expect(d.spec.template.spec.containers[0]!.image).toBe('example/app:1');
    expect(d.metadata.annotations?.[LAST_ROLLBACK_ANNOTATION]).toMatch(/^revision 2 → 1 at /);
    expect(progressing()).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing()?.message).toContain('rolled back to revision 1');
    settle(w);
    expect(images(w)).toEqual(['example/app:1']);
    expect(rsReplicas(w)).toEqual({ '2': 0, '3': 1 });
  });

  it('only marks the rollout failed when automatic rollback is off', () => {
    const w = world([node('a'), deployment('web', { progressDeadlineSeconds: 60 }, { annotations: { 'grove.io/auto-rollback': 'false' } })]);
    settle(w);
    setTemplateImage(w, 'example/bad:2');
    settle(w, false);
    w.now += 61_000;
    pass(w, deploymentController());
    expect(w.objects.Deployment[0]!.spec.template.spec.containers[0]!.image).toBe('example/bad:2');
    expect(w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing')?.message).toContain('automatic rollback is off');
    // Failed stays failed, with no further writes.
    w.now += 600_000;
    expect(pass(w, deploymentController())).toEqual([]);
  });

  it('does not fail a rollout a node holds back for its update window', () => {
    const w = world([node('a'), deployment('web', { progressDeadlineSeconds: 60 })]);
    settle(w);
    setTemplateImage(w, 'example/app:2');
    settle(w, false);
    const base = (w.reports.get('a') ?? { status: { deferred: [] } }) as never;
    void base;
    w.reports.set('a', { status: { deferred: [{ app: 'web', reason: 'update-window', since: '2025-01-01T00:00:00Z', message: 'waits' }] } as never, receivedAt: T0, online: true });
    w.now += 3600_000;
    pass(w, deploymentController());
    expect(w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('UpdateDeferred');
    w.reports.clear();
    pass(w, deploymentController());
    const c = w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing');
    expect(c).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    expect(deploymentController().reconcile(snapshot(w)).wakeAt).toBe(w.now + 60_000);
  });

  it('prunes old ReplicaSets beyond revisionHistoryLimit, keeping the last complete one', () => {
    const w = world([node('a'), deployment('web', { revisionHistoryLimit: 1 })]);
    settle(w);
    for (const v of ['2', '3', '4']) {
      setTemplateImage(w, `example/app:${v}`);
      settle(w);
    }
    expect(w.objects.ReplicaSet.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']).sort()).toEqual(['3', '4']);
  });

  it('a ReplicaSet stored with a template that differs only by defaulting is still its own, not a collision', () => {
    const w = world([node('a'), deployment('web')]);
    settle(w);
    const rs = w.objects.ReplicaSet[0]!;
    const template = structuredClone(rs.spec.template);
    template.spec.containers[0]!.imagePullPolicy = 'IfNotPresent';
    w.objects.ReplicaSet[0] = { ...rs, spec: { ...rs.spec, template } };
    expect(pass(w, ...controllers)).toEqual([]);
    expect(w.objects.ReplicaSet).toHaveLength(1);
  });

  it('reuses a ReplicaSet whose template is the same by meaning (0.1 spelling): no new set, no pod replaced, the Deployment keeps what was applied', () => {
    const resources = (cpu: string | number, memory: string) => ({ limits: { cpu, memory } });
    const migrated = container('app', { image: 'docker.io/library/nginx:1.27', resources: resources('500m', '536870912') });
    const w = world([node('a'), deployment('web', { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [migrated] } } })]);
    settle(w);
    const before = pods(w).map((p) => p.metadata.name);
    const d = w.objects.Deployment[0]!;
    // The same manifest as the client sends it now (defaulted by the schema, as stored).
    const applied = deployment('web', { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container('app', { image: 'nginx:1.27', resources: resources(0.5, '512Mi') })] } } }).spec.template;
    w.objects.Deployment[0] = { ...d, metadata: { ...d.metadata, generation: 2 }, spec: { ...d.spec, template: applied } };
    settle(w);
    expect(w.objects.ReplicaSet).toHaveLength(1);
    expect(pods(w).map((p) => p.metadata.name)).toEqual(before);
    expect(w.objects.Deployment[0]!.spec.template.spec.containers[0]!.image).toBe('nginx:1.27');
    expect(w.objects.ReplicaSet[0]!.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(w.objects.Deployment[0]!.status).toMatchObject({ observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 });
    // A real change still rolls out.
    setTemplateImage(w, 'nginx:1.28');
    settle(w);
    expect(w.objects.ReplicaSet).toHaveLength(2);
    expect(images(w)).toEqual(['nginx:1.28', 'nginx:1.28']);
  });

  it('of two sets equal by meaning, the current one stays current however the template is spelled (nothing rolls back)', () => {
    const w = world([node('a'), deployment('web')]);
    settle(w);
    // As if rolled before the controllers compared by meaning: the older set spelled otherwise.
    const rs = w.objects.ReplicaSet[0]!;
    const older = structuredClone(rs);
    older.metadata = { ...older.metadata, name: 'web-older', uid: 'uid-older', annotations: { 'deployment.kubernetes.io/revision': '1' } };
    older.spec = { ...older.spec, replicas: 0 };
    older.spec.template.spec.containers[0]!.image = 'docker.io/example/app:1';
    w.objects.ReplicaSet[0] = { ...rs, metadata: { ...rs.metadata, annotations: { ...rs.metadata.annotations, 'deployment.kubernetes.io/revision': '2' } } };
    w.objects.ReplicaSet.push(older);
    const before = pods(w).map((p) => p.metadata.name);
    setTemplateImage(w, 'docker.io/example/app:1');
    settle(w);
    expect(rsReplicas(w)).toEqual({ '1': 0, '2': 1 });
    expect(pods(w).map((p) => p.metadata.name)).toEqual(before);
  });

  it('grove.io/restartedAt on the template makes a new ReplicaSet (rollout restart)', () => {
    const w = world([node('a'), deployment('web')]);
    settle(w);
    const d = w.objects.Deployment[0]!;
    w.objects.Deployment[0] = { ...d, spec: { ...d.spec, template: { ...d.spec.template, metadata: { ...d.spec.template.metadata, annotations: { 'grove.io/restartedAt': '2025-01-01T00:00:00Z' } } } } };
    settle(w);
    expect(w.objects.ReplicaSet).toHaveLength(2);
    expect(pods(w)[0]!.metadata.annotations).toEqual({ 'grove.io/restartedAt': '2025-01-01T00:00:00Z' });
  });

  it('a container image change and a scale-down together: an old pod goes, the new takes the room', () => {
    const w = world([node('a'), deployment('web', { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container()] } } })]);
    settle(w);
    setTemplateImage(w, 'example/app:2');
    const d = w.objects.Deployment[0]!;
    w.objects.Deployment[0] = { ...d, spec: { ...d.spec, replicas: 2 } };
    settle(w);
    expect(images(w)).toEqual(['example/app:2', 'example/app:2']);
  });
});
