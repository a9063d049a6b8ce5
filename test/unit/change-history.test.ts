/**
 * The in-memory history of object changes: bounded by count and bytes, whole commits dropped
 * first, every change after since() kept, the object before a change held once.
 */
import { describe, expect, it } from 'vitest';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { ChangeHistory } from '../../src/server/objects/change-history.js';

const cm = (name: string, rv: number, data = 'x'): AnyObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: String(rv) }, data: { a: data } }) as AnyObject;
const put = (name: string, rv: number, previous?: AnyObject) => ({ key: `configmaps/default/${name}`, kind: 'ConfigMap' as const, namespace: 'default', object: cm(name, rv), ...(previous ? { previous } : {}) });

describe('ChangeHistory', () => {
  it('answers the changes after a revision, and undefined before since()', () => {
    const h = new ChangeHistory({ since: 10 });
    expect(h.after(10)).toEqual([]);
    expect(h.after(9)).toBeUndefined();
    h.append(11, [put('a', 11)]);
    h.append(13, [put('b', 13), put('c', 13)]);
    expect(h.after(10)!.map((c) => [c.revision, c.key])).toEqual([[11, 'configmaps/default/a'], [13, 'configmaps/default/b'], [13, 'configmaps/default/c']]);
    expect(h.after(11)!.map((c) => c.revision)).toEqual([13, 13]);
    expect(h.after(12)!.map((c) => c.revision)).toEqual([13, 13]);
    expect(h.after(13)).toEqual([]);
    expect(h.latest()).toBe(13);
    // A revision seen already is not recorded twice.
    h.append(13, [put('d', 13)]);
    expect(h.size.changes).toBe(3);
  });

  it('keeps at most maxChanges, dropping whole commits, oldest first', () => {
    const h = new ChangeHistory({ since: 0, maxChanges: 3, sizeOf: () => 1 });
    h.append(1, [put('a', 1)]);
    h.append(2, [put('b', 2), put('c', 2)]);
    h.append(3, [put('d', 3)]);
    expect(h.size.changes).toBe(3);
    h.append(4, [put('e', 4)]);
    // Commit 1 went; then commit 2 had to go whole (not just its first change).
    expect(h.since()).toBe(2);
    expect(h.after(1)).toBeUndefined();
    expect(h.after(2)!.map((c) => c.revision)).toEqual([3, 4]);
  });

  it('keeps at most maxBytes of objects (the objects before the changes counted too)', () => {
    const h = new ChangeHistory({ since: 0, maxBytes: 3000, sizeOf: () => 500 });
    for (let r = 1; r <= 10; r++) h.append(r, [put(`n${r}`, r)]);
    // 200 bytes of overhead + 500 per object: four changes fit in 3000 bytes.
    expect(h.size).toEqual({ changes: 4, bytes: 2800 });
    expect(h.since()).toBe(6);
    h.append(11, [put('n1', 11, cm('n1', 1))]);
    expect(h.size.bytes).toBeLessThanOrEqual(3000);
    expect(h.after(h.since())!.at(-1)!.previous!.metadata.resourceVersion).toBe('1');
  });

  it('holds the object before a change as the reference the last change of the key recorded', () => {
    const h = new ChangeHistory({ since: 0 });
    h.append(1, [put('a', 1)]);
    h.append(2, [put('a', 2, cm('a', 1))]);
    const [first, second] = h.after(0)!;
    expect(second!.previous).toBe(first!.object);
    // Another version is kept as given.
    h.append(3, [put('a', 3, cm('a', 99))]);
    expect(h.after(2)![0]!.previous!.metadata.resourceVersion).toBe('99');
  });

  it('reset() forgets everything up to a revision: nobody resumes across it', () => {
    const h = new ChangeHistory({ since: 0 });
    h.append(1, [put('a', 1)]);
    h.reset(5);
    expect(h.after(4)).toBeUndefined();
    expect(h.after(5)).toEqual([]);
    expect(h.size).toEqual({ changes: 0, bytes: 0 });
  });

  it('stays bounded over a long run (the array is compacted)', () => {
    const h = new ChangeHistory({ since: 0, maxChanges: 100, sizeOf: () => 10 });
    for (let r = 1; r <= 20_000; r++) h.append(r, [put(`k${r % 300}`, r)]);
    expect(h.size.changes).toBe(100);
    expect(h.after(19_900)!.length).toBe(100);
    expect((h as unknown as { entries: unknown[] }).entries.length).toBeLessThan(2200);
    expect((h as unknown as { lastByKey: Map<string, unknown> }).lastByKey.size).toBeLessThanOrEqual(100);
  });
});
