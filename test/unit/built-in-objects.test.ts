import { describe, expect, it } from 'vitest';
import { ensureBuiltInObjects } from '../../src/server/objects/built-in-objects.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';

describe('the objects a control plane has from its first start', () => {
  it('makes namespace default and the local-path StorageClass in one commit, then never writes again', async () => {
    const store = new MemoryStore();
    const objects = new ObjectStore({ store, clock: new ManualClock(Date.parse('2026-12-07T00:00:00Z')) });
    expect(await ensureBuiltInObjects(objects)).toEqual(['Namespace/default', 'StorageClass/local-path']);
    const settled = store.revision();
    const sc = (await objects.get({ kind: 'StorageClass', name: 'local-path' })) as unknown as { provisioner: string; metadata: { annotations: Record<string, string> } };
    expect(sc.provisioner).toBe('rancher.io/local-path');
    expect(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(await ensureBuiltInObjects(objects)).toEqual([]);
    expect(store.revision()).toBe(settled);
  });

  it('makes only what is missing', async () => {
    const store = new MemoryStore();
    const objects = new ObjectStore({ store, clock: new ManualClock(Date.parse('2026-12-07T00:00:00Z')) });
    await objects.commit([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { team: 'a' } } } as never }]);
    expect(await ensureBuiltInObjects(objects)).toEqual(['StorageClass/local-path']);
    expect((await objects.get({ kind: 'Namespace', name: 'default' }))?.metadata.labels).toMatchObject({ team: 'a' });
  });
});
