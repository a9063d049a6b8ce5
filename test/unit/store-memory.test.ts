import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { storeContract } from '../contract/store.contract.js';

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore', () => {
  it('keeps its state across close and open of the same instance', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.commit([{ type: 'put', key: 'a', value: 1 }]);
    await store.close();
    await store.open();
    expect(store.revision()).toBe(1);
    expect((await store.get('a'))?.value).toBe(1);
  });

  it('rejects values that cannot be copied', async () => {
    const store = new MemoryStore();
    await expect(store.commit([{ type: 'put', key: 'f', value: { f: () => 1 } }])).rejects.toThrow(/cannot be copied/);
    expect(store.revision()).toBe(0);
  });
});
