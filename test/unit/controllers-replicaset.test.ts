/**
 * Which pods a ReplicaSet gives up when it scales down (ported from the 0.1 scheduler's tests:
 * spread kept, the cheapest pods first).
 */
import { describe, expect, it } from 'vitest';
import { scaleDownVictims } from '../../src/server/controllers/replicaset.js';
import { pod, T0 } from './controller-fixtures.js';

const DAY = 86_400_000;
const ready = { conditions: [{ type: 'Ready', status: 'True' as const }] };
const bound = (name: string, node: string | undefined, day: number) => ({ ...pod(name, { ...(node ? { node } : {}), created: T0 + day * DAY }), status: ready });
const names = (list: readonly { metadata: { name: string } }[]) => list.map((p) => p.metadata.name);

describe('scaleDownVictims', () => {
  const active = [bound('web-1', 'a', 0), bound('web-2', 'b', 1), bound('web-3', 'b', 2), bound('web-4', 'b', 0.5), bound('web-5', 'a', 4)];

  it('takes pods from the node running most of the set first, newest first', () => {
    // b runs 3, a runs 2: b's pods go first (newest first), then a's.
    expect(names(scaleDownVictims(active, 3, () => true))).toEqual(['web-3', 'web-2', 'web-4']);
    expect(names(scaleDownVictims(active, 5, () => true))).toEqual(['web-3', 'web-2', 'web-4', 'web-5', 'web-1']);
  });

  it('takes unbound pods, then pods on NotReady nodes, then pods not ready, before anything serving', () => {
    const unready = { ...bound('web-6', 'a', 5), status: {} };
    const list = [...active, unready, bound('web-7', undefined, 0), bound('web-8', 'c', 0)];
    expect(names(scaleDownVictims(list, 4, (node) => node !== 'c'))).toEqual(['web-7', 'web-8', 'web-6', 'web-5']); // then a and b run 3 each: the newest
    expect(scaleDownVictims(list, 0, () => true)).toEqual([]);
  });
});
