/** A Pod is Pending from its creation, as the API server makes it (before any node reports). */
import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { container, iso, pod, T0 } from './controller-fixtures.js';
import type { KindObject } from '../../src/core/objects/validate.js';

async function created(p: KindObject<'Pod'>): Promise<KindObject<'Pod'>> {
  const store = new MemoryStore();
  await store.open();
  const objects = new ObjectStore({ store, clock: new ManualClock(T0) });
  await ensureDefaultNamespace(objects);
  const { metadata: { uid: _u, ...meta }, ...rest } = p;
  // A status in the input is the server's to set: it is ignored.
  await objects.commit([{ op: 'put', object: { ...rest, metadata: meta, status: { phase: 'Running' } } as KindObject<'Pod'> }]);
  return (await objects.get({ kind: 'Pod', namespace: 'default', name: p.metadata.name })) as KindObject<'Pod'>;
}

describe('a new Pod', () => {
  it('is Pending with no condition until the scheduler binds it', async () => {
    expect((await created(pod('web-1', { containers: [container('app')] }))).status).toEqual({ phase: 'Pending' });
  });

  it('is Pending and scheduled when created bound to a node', async () => {
    expect((await created(pod('web-1', { node: 'a', containers: [container('app')] }))).status).toEqual({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(T0) }],
    });
  });
});
