import { describe, expect, it } from 'vitest';
import { localPathStorageClass } from '../../src/core/objects/storage.js';
import { persistentVolumeController } from '../../src/server/controllers/volume-binding.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { nodeTargetPods } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import { ClaimIndex } from '../../src/server/controllers/claim-index.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { pathText } from '../../src/core/objects/explain.js';
import { columnsOf, headersOf } from '../../src/core/objects/columns/index.js';
import { container, node, obj, pass, pod, T0, world, type World } from './controller-fixtures.js';

const claim = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  obj('PersistentVolumeClaim', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2025-01-01T00:00:00Z', ...meta },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
const localClass = () => obj('StorageClass', { ...localPathStorageClass(), metadata: { ...localPathStorageClass().metadata, creationTimestamp: '2025-01-01T00:00:00Z' } });
const withClaim = (name: string, claimName: string, o: { node?: string } = {}) => {
  const p = pod(name, { ...o, containers: [container('app', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })] });
  return { ...p, spec: { ...p.spec, volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] } };
};
const volumeController = persistentVolumeController();
const scheduler = schedulerController();
const get = (w: World, kind: 'PersistentVolumeClaim' | 'PersistentVolume', name: string) => (w.objects[kind] as { metadata: { name: string } }[]).find((o) => o.metadata.name === name) as never as Record<string, any>;

describe('local-path provisioning (WaitForFirstConsumer)', () => {
  it('makes the local-path class when absent, and nothing more in a settled cluster', () => {
    const w = world([]);
    expect(pass(w, volumeController)).toEqual([{ op: 'put', object: localPathStorageClass(), expect: 'absent' }]);
    expect(pass(w, volumeController)).toEqual([]);
  });

  it('binds the claim on the node of its first pod, pins later pods there, and sends the pod once bound', () => {
    const w = world([localClass(), node('pi-1'), node('pi-2'), claim('data'), withClaim('db-0', 'data')]);
    // The scheduler picks a node and writes it on the claim; the pod is not in the target yet.
    pass(w, scheduler);
    const bound = w.objects.Pod.find((p) => p.metadata.name === 'db-0')!.spec.nodeName!;
    expect(get(w, 'PersistentVolumeClaim', 'data').metadata.annotations).toEqual({ 'volume.kubernetes.io/selected-node': bound });
    expect(nodeTargetPods(bound, w.objects.Pod, new OwnerIndex(w.objects), new ClaimIndex(w.objects))).toEqual([]);
    // The provisioner makes pvc-<uid> on that node and binds both sides.
    pass(w, volumeController);
    const pv = get(w, 'PersistentVolume', 'pvc-uid-data');
    expect(pv.spec).toMatchObject({
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local-path',
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'uid-data' },
      local: { path: 'volumes/pvc-uid-data' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [bound] }] }] } },
    });
    expect(pv.status.phase).toBe('Bound');
    expect(get(w, 'PersistentVolumeClaim', 'data')).toMatchObject({ spec: { volumeName: 'pvc-uid-data', storageClassName: 'local-path' }, status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } });
    expect(pass(w, volumeController)).toEqual([]);
    // Now the node gets the pod, its claim as the named volume under its data dir.
    const [target] = nodeTargetPods(bound, w.objects.Pod, new OwnerIndex(w.objects), new ClaimIndex(w.objects));
    expect(target!.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'pvc-uid-data' } }]);
    // A later pod of the claim goes to the same node, whichever is emptier.
    for (const other of ['a', 'b', 'c']) w.objects.Pod.push(pod(`filler-${other}`, { node: bound }));
    w.objects.Pod.push(withClaim('db-1', 'data'));
    pass(w, scheduler);
    expect(w.objects.Pod.find((p) => p.metadata.name === 'db-1')!.spec.nodeName).toBe(bound);
  });

  it('two pending pods sharing a new claim land on one node in the same pass', () => {
    const w = world([localClass(), node('pi-1'), node('pi-2'), claim('shared'), withClaim('a', 'shared'), withClaim('b', 'shared')]);
    pass(w, scheduler);
    const nodes = new Set(w.objects.Pod.map((p) => p.spec.nodeName));
    expect(nodes.size).toBe(1);
  });

  it('says why a pod cannot be scheduled: a shared mode local-path cannot give, a ReadWriteOncePod claim in use, no class', () => {
    const message = (w: World, name: string) => w.objects.Pod.find((p) => p.metadata.name === name)!.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;
    const rwx = world([localClass(), node('pi-1'), claim('media', { accessModes: ['ReadWriteMany'] }), withClaim('p', 'media')]);
    pass(rwx, scheduler);
    expect(message(rwx, 'p')).toBe('0/1 nodes are available: persistentvolumeclaim "media" asks for ReadWriteMany: local-path volumes are a directory on one node: ReadOnlyMany and ReadWriteMany need storage shared between nodes, which Grove does not provide (use ReadWriteOnce, or a hostPath PersistentVolume on shared storage)');
    const rwop = world([localClass(), node('pi-1'), claim('solo', { accessModes: ['ReadWriteOncePod'] }), withClaim('first', 'solo', { node: 'pi-1' }), withClaim('second', 'solo')]);
    pass(rwop, scheduler);
    expect(message(rwop, 'second')).toBe('0/1 nodes are available: persistentvolumeclaim "solo" has ReadWriteOncePod access mode and is in use by another pod');
    const none = world([node('pi-1'), claim('x', { storageClassName: '' }), withClaim('p', 'x')]);
    pass(none, scheduler);
    expect(message(none, 'p')).toBe('0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims');
  });

  it('a claim name without a claim object stays a named volume on the node (compose volumes)', () => {
    const w = world([localClass(), node('pi-1'), withClaim('p', 'cache')]);
    pass(w, scheduler);
    const [target] = nodeTargetPods('pi-1', w.objects.Pod, new OwnerIndex(w.objects), new ClaimIndex(w.objects));
    expect(target!.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'cache' } }]);
  });

  it('releases the volume when its claim goes: deletes a provisioned Delete volume once no pod holds the claim; keeps Retain', () => {
    const w = world([localClass(), node('pi-1'), claim('data', {}, { annotations: { 'volume.kubernetes.io/selected-node': 'pi-1' } })]);
    pass(w, volumeController);
    w.objects.PersistentVolumeClaim.length = 0;
    w.objects.Pod.push(withClaim('still', 'data', { node: 'pi-1' }));
    expect(pass(w, volumeController)).toEqual([{ op: 'status', ref: { kind: 'PersistentVolume', name: 'pvc-uid-data' }, status: { phase: 'Released', lastPhaseTransitionTime: '2025-01-01T00:00:00Z' } }]);
    w.objects.Pod.length = 0;
    expect(pass(w, volumeController)).toEqual([{ op: 'delete', ref: { kind: 'PersistentVolume', name: 'pvc-uid-data' } }]);
    const keep = world([obj('StorageClass', { ...localPathStorageClass(), reclaimPolicy: 'Retain' }), claim('data', {}, { annotations: { 'volume.kubernetes.io/selected-node': 'pi-1' } })]);
    pass(keep, volumeController);
    keep.objects.PersistentVolumeClaim.length = 0;
    pass(keep, volumeController);
    expect(get(keep, 'PersistentVolume', 'pvc-uid-data').status.phase).toBe('Released');
  });
});

describe('static volumes', () => {
  const hostVolume = (name: string, size: string, extra: Record<string, unknown> = {}) =>
    obj('PersistentVolume', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, uid: `uid-${name}` }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: `/srv/${name}` }, ...extra } });

  it('binds the smallest volume that fits, follows its nodeAffinity, and mounts its host path', () => {
    const pinned = { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['pi-2'] }] }] } } };
    const w = world([localClass(), node('pi-1'), node('pi-2'), hostVolume('big', '100Gi'), hostVolume('small', '5Gi', pinned), hostVolume('tiny', '1Mi'), claim('media', { storageClassName: '', resources: { requests: { storage: '2Gi' } } }), withClaim('p', 'media')]);
    pass(w, volumeController);
    expect(get(w, 'PersistentVolumeClaim', 'media').spec.volumeName).toBe('small');
    expect(get(w, 'PersistentVolume', 'big').status.phase).toBe('Available');
    pass(w, scheduler);
    expect(w.objects.Pod[0]!.spec.nodeName).toBe('pi-2');
    const [target] = nodeTargetPods('pi-2', w.objects.Pod, new OwnerIndex(w.objects), new ClaimIndex(w.objects));
    expect(target!.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/srv/small' } }]);
  });
});

describe('storage objects', () => {
  const problems = (kind: 'PersistentVolumeClaim' | 'PersistentVolume', value: Record<string, unknown>) => {
    const r = checkObject(kind, value);
    return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
  };
  const pvc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'd', namespace: 'default' }, spec });

  it('checks access modes and sizes as Kubernetes words them', () => {
    expect(problems('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }))).toEqual([]);
    expect(problems('PersistentVolumeClaim', pvc({ resources: { requests: { storage: '1Gi' } } }))).toEqual(['spec.accessModes: Required value: at least 1 access mode is required']);
    expect(problems('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOnce'] }))).toEqual(['spec.resources.requests.storage: Required value: a claim must ask for a size']);
    expect(problems('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }))).toEqual(['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes']);
    expect(problems('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteMany'], storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } }))[0]).toMatch(/^spec.accessModes: Unsupported value: "ReadWriteMany": local-path volumes are a directory on one node/);
    expect(problems('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOnce'], volumeMode: 'Block', resources: { requests: { storage: '1Gi' } } }))[0]).toContain('spec.volumeMode: must be Filesystem');
    expect(problems('PersistentVolume', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'n' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], nfs: { server: 'nas', path: '/x' } } })[0]).toContain('Grove mounts node directories only');
  });

  it('prints kubectl\'s columns', () => {
    expect(headersOf(columnsOf('PersistentVolumeClaim').columns)).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(headersOf(columnsOf('PersistentVolume').columns)).toEqual(['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    expect(headersOf(columnsOf('StorageClass').columns)).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    const now = new Date(T0 + 300_000);
    const bound = { ...claim('data', { volumeName: 'pvc-1', storageClassName: 'local-path' }), status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } };
    expect(columnsOf('PersistentVolumeClaim').row(bound as never, now)).toEqual(['data', 'Bound', 'pvc-1', '1Gi', 'RWO', 'local-path', '<unset>', '5m']);
    expect(columnsOf('StorageClass').row(localClass() as never, now)).toEqual(['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false', '5m']);
  });
});
