import { describe, expect, it } from 'vitest';
import { statefulSetController } from '../../src/server/controllers/statefulset.js';
import { endpointSliceController } from '../../src/server/controllers/endpointslice.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { container, iso, markReady, node, obj, pass, pods, T0, world, type World } from './controller-fixtures.js';

const sts = statefulSetController();

function statefulSet(name: string, spec: Record<string, unknown> = {}): KindObject<'StatefulSet'> {
  const labels = { app: name };
  return obj('StatefulSet', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default', uid: `uid-sts-${name}`, generation: 1, creationTimestamp: iso(T0) },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [container()] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  });
}

/** The scheduler's part: every pod bound to node a, then Running and Ready. */
function runAll(w: World): void {
  w.objects.Pod = w.objects.Pod.map((p) => (p.spec.nodeName ? p : { ...p, spec: { ...p.spec, nodeName: 'a' } }));
  markReady(w);
}

const names = (w: World) => pods(w).map((p) => p.metadata.name);
const revisionOf = (p: KindObject<'Pod'>) => p.metadata.labels?.['controller-revision-hash'];

function setImage(w: World, image: string, spec: Record<string, unknown> = {}): void {
  const s = w.objects.StatefulSet[0]!;
  const next = structuredClone(s.spec);
  next.template.spec.containers[0]!.image = image;
  w.objects.StatefulSet[0] = { ...s, metadata: { ...s.metadata, generation: 2 }, spec: { ...next, ...spec } };
}

/** What the store does with a graceful delete of a running pod: marked, then removed once its node stopped it. */
function finishDeletes(w: World): void {
  w.objects.Pod = w.objects.Pod.filter((p) => p.metadata.deletionTimestamp === undefined);
}

describe('StatefulSet', () => {
  it('OrderedReady: creates <name>-0, -1, -2 one at a time, each once the one before is ready; hostname, subdomain, claims', () => {
    const w = world([statefulSet('web')]);
    pass(w, sts);
    expect(names(w)).toEqual(['web-0']);
    expect(w.objects.PersistentVolumeClaim.map((c) => c.metadata.name)).toEqual(['data-web-0']);
    expect(w.objects.PersistentVolumeClaim[0]!.metadata.labels).toEqual({ app: 'web' });
    const p0 = pods(w)[0]!;
    expect(p0.spec.hostname).toBe('web-0');
    expect(p0.spec.subdomain).toBe('web');
    expect(p0.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
    expect(p0.metadata.labels).toMatchObject({ app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(revisionOf(p0)).toBe(w.objects.ControllerRevision[0]!.metadata.name);
    pass(w, sts);
    expect(names(w)).toEqual(['web-0']); // not ready yet
    runAll(w);
    pass(w, sts);
    expect(names(w)).toEqual(['web-0', 'web-1']);
    runAll(w);
    pass(w, sts);
    runAll(w);
    pass(w, sts);
    expect(names(w)).toEqual(['web-0', 'web-1', 'web-2']);
    expect(pass(w, sts)).toEqual([]);
    const status = w.objects.StatefulSet[0]!.status!;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
    expect(status.currentRevision).toBe(status.updateRevision);
  });

  it('Parallel creates every pod at once; a deleted pod comes back with the same name and the same claim', () => {
    const w = world([statefulSet('db', { podManagementPolicy: 'Parallel' })]);
    pass(w, sts);
    expect(names(w)).toEqual(['db-0', 'db-1', 'db-2']);
    runAll(w);
    w.objects.Pod = w.objects.Pod.filter((p) => p.metadata.name !== 'db-0');
    const changes = pass(w, sts);
    expect(changes.filter((c) => c.op === 'put').map((c) => c.op === 'put' && `${c.object.kind}/${c.object.metadata.name}`)).toEqual(['Pod/db-0']);
    expect(pods(w)[0]!.spec.volumes?.[0]?.persistentVolumeClaim?.claimName).toBe('data-db-0');
  });

  it('scales down from the highest ordinal, one at a time, with the pod\'s grace, and keeps the claims', () => {
    const w = world([statefulSet('web')]);
    for (let i = 0; i < 3; i++) {
      pass(w, sts);
      runAll(w);
    }
    w.objects.StatefulSet[0] = { ...w.objects.StatefulSet[0]!, spec: { ...w.objects.StatefulSet[0]!.spec, replicas: 1 } };
    const changes = pass(w, sts);
    expect(changes.filter((c) => c.op === 'delete')).toEqual([{ op: 'delete', ref: { kind: 'Pod', namespace: 'default', name: 'web-2' }, gracePeriodSeconds: 30 }]);
    expect(names(w)).toEqual(['web-0', 'web-1']);
    expect(pass(w, sts).filter((c) => c.op === 'delete').map((c) => c.op === 'delete' && c.ref.name)).toEqual(['web-1']);
    expect(names(w)).toEqual(['web-0']);
    expect(w.objects.PersistentVolumeClaim.map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1', 'data-web-2']);
  });

  it('rolls an update in reverse ordinal order down to the partition; pods below it keep the current revision', () => {
    const w = world([statefulSet('web')]);
    for (let i = 0; i < 3; i++) {
      pass(w, sts);
      runAll(w);
    }
    pass(w, sts);
    const first = w.objects.StatefulSet[0]!.status!.currentRevision!;
    setImage(w, 'busybox:2', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } });
    const deleted: string[] = [];
    for (let i = 0; i < 6; i++) {
      for (const c of pass(w, sts)) if (c.op === 'delete' && c.ref.kind === 'Pod') deleted.push(c.ref.name);
      finishDeletes(w);
      runAll(w);
    }
    expect(deleted).toEqual(['web-2', 'web-1']);
    const status = w.objects.StatefulSet[0]!.status!;
    expect(status.updateRevision).not.toBe(first);
    expect(status.currentRevision).toBe(first);
    expect(pods(w).map((p) => [p.metadata.name, p.spec.containers[0]!.image, revisionOf(p) === first])).toEqual([
      ['web-0', 'example/app:1', true],
      ['web-1', 'busybox:2', false],
      ['web-2', 'busybox:2', false],
    ]);
    expect(status).toMatchObject({ updatedReplicas: 2, currentReplicas: 1, observedGeneration: 2 });
    // web-0 deleted by hand comes back at the current revision (below the partition).
    w.objects.Pod = w.objects.Pod.filter((p) => p.metadata.name !== 'web-0');
    pass(w, sts);
    expect(pods(w)[0]!.spec.containers[0]!.image).toBe('example/app:1');
  });

  it('leaves a pod of its name it does not own alone, and ignores pods not named as its own', () => {
    const stranger = obj('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default', uid: 'x' }, spec: { containers: [container()] } });
    const w = world([statefulSet('web'), stranger]);
    expect(pass(w, sts).filter((c) => c.op === 'put' && c.object.kind === 'Pod')).toEqual([]);
  });

  it('its pods get per-pod DNS names: the EndpointSlice of the Service their subdomain names carries their hostname, no other does', () => {
    const headless = (name: string) => obj('Service', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `uid-svc-${name}` }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] } });
    const w = world([node('a'), statefulSet('web', { replicas: 1 }), headless('web'), headless('other')]);
    pass(w, sts);
    w.objects.Pod = w.objects.Pod.map((p) => ({ ...p, spec: { ...p.spec, nodeName: 'a' }, status: { phase: 'Running', podIP: '10.42.0.5', conditions: [{ type: 'Ready', status: 'True' }] } }));
    pass(w, endpointSliceController());
    const hostnames = Object.fromEntries(w.objects.EndpointSlice.map((s) => [s.metadata.labels?.['kubernetes.io/service-name'], s.endpoints.map((e) => e.hostname ?? '-')]));
    expect(hostnames).toEqual({ web: ['web-0'], other: ['-'] });
  });
});
