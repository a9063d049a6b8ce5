import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { LevelStore } from '../../src/store/level-store.js';
import { SealedStore } from '../../src/server/sealed-store.js';
import { isSealed } from '../../src/core/seal.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { namespace, objectStoreContract } from '../contract/object-store.contract.js';
import type { AnyObject } from '../../src/core/objects/changes.js';

objectStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

objectStoreContract('LevelStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'grove-objects-'));
  const store = new LevelStore({ path: join(dir, 'db') });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('ObjectStore over a SealedStore', () => {
  it('keeps Secrets sealed at rest and writes nothing for an unchanged Secret', async () => {
    const raw = new MemoryStore();
    const sealed = new SealedStore(raw, randomBytes(32));
    await sealed.open();
    const objects = new ObjectStore({ store: sealed, clock: new ManualClock() });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('hunter2').toString('base64') } } as AnyObject;
    await objects.commit([{ op: 'put', object: namespace('default') }, { op: 'put', object: secret }]);
    const stored = await raw.get('secrets/default/db');
    expect(isSealed(stored?.value)).toBe(true);
    const rev = raw.revision();
    expect((await objects.commit([{ op: 'put', object: secret }])).results[0]?.outcome).toBe('unchanged');
    expect(raw.revision()).toBe(rev);
    expect((await objects.get({ kind: 'Secret', namespace: 'default', name: 'db' }))?.data).toEqual((secret as { data: unknown }).data);
  });
});

describe('ObjectStore: keys that look like JavaScript internals', () => {
  it('keeps a "__proto__" data key as data, without touching the prototype', async () => {
    const objects = new ObjectStore({ store: new MemoryStore(), clock: new ManualClock() });
    const cm = JSON.parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default"},"data":{"__proto__":"x"}}') as AnyObject;
    await objects.commit([{ op: 'put', object: namespace('default') }, { op: 'put', object: cm }]);
    const data = (await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'c' }))?.data as Record<string, string>;
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });
});
