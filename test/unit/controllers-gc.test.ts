import { describe, expect, it } from 'vitest';
import { garbageCollector, namespaceController } from '../../src/server/controllers/gc.js';
import { deploymentController } from '../../src/server/controllers/deployment.js';
import { replicaSetController } from '../../src/server/controllers/replicaset.js';
import { deployment, node, obj, pass, snapshot, world } from './controller-fixtures.js';

const names = (changes: { op: string; ref?: { kind: string; name: string } }[]) => changes.map((c) => `${c.op} ${c.ref?.kind} ${c.ref?.name}`).sort();

describe('garbage collection', () => {
  it('deletes the whole chain of a deleted Deployment in one pass (background cascade)', () => {
    const w = world([node('a'), deployment('web', { replicas: 2 }), deployment('api')]);
    pass(w, deploymentController(), replicaSetController());
    expect(w.objects.Pod).toHaveLength(3);
    expect(garbageCollector().reconcile(snapshot(w)).changes).toEqual([]);
    w.objects.Deployment = w.objects.Deployment.filter((d) => d.metadata.name !== 'web');
    const changes = garbageCollector().reconcile(snapshot(w)).changes;
    expect(changes).toHaveLength(3);
    expect(changes.every((c) => c.op === 'delete' && c.ref.namespace === 'default')).toBe(true);
    expect(changes.map((c) => (c as { ref: { name: string } }).ref.name).every((n) => n.startsWith('web-'))).toBe(true);
  });

  it('an owner of the same name but another uid (deleted and re-created) does not keep dependents', () => {
    const w = world([node('a'), deployment('web')]);
    pass(w, deploymentController(), replicaSetController());
    w.objects.Deployment = [deployment('web', {}, { uid: 'uid-new' })];
    expect(garbageCollector().reconcile(snapshot(w)).changes.map((c) => c.op)).toEqual(['delete', 'delete']);
  });

  it('objects without owners are never collected', () => {
    const bare = obj('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'alone', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'a', image: 'x' }] } });
    expect(garbageCollector().reconcile(snapshot(world([bare]))).changes).toEqual([]);
  });
});

describe('namespace deletion', () => {
  const ns = (name: string, terminating = false) => obj('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, ...(terminating ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) }, ...(terminating ? { status: { phase: 'Terminating' } } : {}) });

  it('deletes everything in a terminating namespace, then the namespace', () => {
    const shop = deployment('cart', {}, { namespace: 'shop' });
    const w = world([ns('default'), ns('shop', true), shop, deployment('web'), node('a')]);
    expect(names(namespaceController().reconcile(snapshot(w)).changes as never)).toEqual(['delete Deployment cart']);
    w.objects.Deployment = w.objects.Deployment.filter((d) => d.metadata.name !== 'cart');
    expect(names(namespaceController().reconcile(snapshot(w)).changes as never)).toEqual(['delete Namespace shop']);
  });

  it('does nothing while no namespace is terminating', () => {
    expect(namespaceController().reconcile(snapshot(world([ns('default'), deployment('web')]))).changes).toEqual([]);
  });
});

describe('a namespace being deleted', () => {
  it('gets no new objects from the controllers, so the deletion can finish', () => {
    const ns = obj('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', uid: 'ns-shop', deletionTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });
    const w = world([node('a'), ns, deployment('cart', {}, { namespace: 'shop' })]);
    expect(deploymentController().reconcile(snapshot(w)).changes).toEqual([]);
    expect(replicaSetController().reconcile(snapshot(w)).changes).toEqual([]);
  });
});
