/** The JSON cache of the watch handler: one serialization per sent object, bounded. */
import { describe, expect, it } from 'vitest';
import { JsonCache } from '../../src/server/k8s-api/watch.js';

describe('JsonCache', () => {
  it('serializes an object once, and stays within its count and size', () => {
    const cache = new JsonCache(2, 100);
    const a = { a: 'x'.repeat(10) };
    expect(cache.json(a)).toBe(JSON.stringify(a));
    a.a = 'changed';
    // The same object: the JSON made the first time (objects sent are never changed).
    expect(cache.json(a)).toContain('xxxxxxxxxx');
    const b = { b: 1 };
    const c = { c: 1 };
    cache.json(b);
    cache.json(c);
    expect(cache.json(a)).toContain('changed');
    const big = { big: 'y'.repeat(60) };
    expect(cache.json(big)).toBe(JSON.stringify(big));
    big.big = 'z';
    // Larger than a quarter of the budget: never kept.
    expect(cache.json(big)).toBe('{"big":"z"}');
    expect((cache as unknown as { chars: number }).chars).toBeLessThanOrEqual(100);
  });
});
