/**
 * The pieces that keep a join storm linear: the group-commit batcher and the embedded broker's
 * retained-message index.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/core/batcher.js';
import { indexRetained, topicMatches, type RetainedPacket, type RetainedPersistence } from '../../src/server/broker/retained-index.js';

describe('createBatcher', () => {
  it('flushes the first item alone and everything that queued meanwhile together, one flush at a time', async () => {
    const flushes: number[][] = [];
    let running = 0;
    const add = createBatcher<number, number>(async (items) => {
      running++;
      expect(running).toBe(1);
      flushes.push(items);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return items.map((i) => (i % 5 === 4 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: i * 2 }));
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => add(i)));
    expect(flushes).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 2, 4, 6, 'bad 4', 10, 12, 14, 16, 'bad 9']);
  });

  it('rejects the whole batch when the flush itself fails, and keeps working afterwards', async () => {
    let fail = true;
    const add = createBatcher<string, string>(async (items) => {
      if (fail) throw new Error('disk full');
      return items.map((value) => ({ ok: true, value }));
    });
    await expect(add('a')).rejects.toThrow('disk full');
    fail = false;
    await expect(add('b')).resolves.toBe('b');
  });

  it('caps a batch at maxBatch items', async () => {
    const sizes: number[] = [];
    const add = createBatcher<number, void>(async (items) => {
      sizes.push(items.length);
      return items.map(() => ({ ok: true, value: undefined }));
    }, { maxBatch: 3 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => add(i)));
    expect(sizes).toEqual([1, 3, 3, 1]);
  });
});

describe('retained index', () => {
  it('matches MQTT topic filters', () => {
    expect(topicMatches('a/b/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/b/c/d', 'a/b/c')).toBe(false);
    expect(topicMatches('+/nodes/+/presence', 'x/nodes/n1/presence')).toBe(true);
    expect(topicMatches('x/nodes/+/presence', 'x/nodes/n1/target')).toBe(false);
  });

  async function read(stream: Readable): Promise<string[]> {
    const out: string[] = [];
    for await (const p of stream) out.push(`${(p as RetainedPacket).topic}=${String((p as RetainedPacket).payload)}`);
    return out;
  }

  it('stores, replaces and clears retained messages and answers exact and wildcard patterns', async () => {
    const persistence = {} as RetainedPersistence;
    indexRetained(persistence);
    const packet = { topic: 'g/nodes/n1/target', payload: Buffer.from('1') };
    await persistence.storeRetained(packet);
    packet.payload = Buffer.from('mutated by aedes later'); // the stored copy must not change
    await persistence.storeRetained({ topic: 'g/nodes/n2/target', payload: Buffer.from('2') });
    await persistence.storeRetained({ topic: 'g/nodes/n2/presence', payload: Buffer.from('on') });
    expect(await read(persistence.createRetainedStream('g/nodes/n1/target'))).toEqual(['g/nodes/n1/target=1']);
    expect(await read(persistence.createRetainedStream('g/nodes/n3/target'))).toEqual([]);
    expect((await read(persistence.createRetainedStreamCombi(['g/nodes/+/target', 'g/nodes/n2/presence']))).sort()).toEqual(['g/nodes/n1/target=1', 'g/nodes/n2/presence=on', 'g/nodes/n2/target=2']);
    await persistence.storeRetained({ topic: 'g/nodes/n1/target', payload: Buffer.alloc(0) });
    expect(await read(persistence.createRetainedStream('g/#'))).toEqual(['g/nodes/n2/target=2', 'g/nodes/n2/presence=on']);
  });
});
