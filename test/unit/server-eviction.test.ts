import { describe, expect, it } from 'vitest';
import { evictionTimeoutMs, schedule, type NodeView, type ScheduleInput } from '../../src/server/scheduler.js';
import type { App, PodAssignment } from '../../src/core/resolved-pod.js';
import { validateResource } from '../../src/server/validate.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

const H1 = fakeHash(app('x'));
const T0 = Date.parse('2025-06-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
/** A node that went NotReady at T0. */
const down = (name: string): NodeView => node(name, { ready: false, notReadySince: at(0) });

function run(apps: App[], nodes: NodeView[], assignments: PodAssignment[], nowMs: number, extra: Partial<ScheduleInput> = {}) {
  const r = schedule({ apps, nodes, assignments, templateHash: fakeHash, nameSuffix: suffixes(), now: at(nowMs), ...extra });
  return { create: r.create.map((p) => `${p.meta.name}@${p.node}`), delete: r.delete, evicted: r.evicted, paused: r.evictionsPaused, next: r.nextEvictionAt };
}

const web = app('web', { replicas: 2 });
const placed = [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1)];

describe('scheduler: eviction', () => {
  it('leaves pods on a NotReady node alone before the timeout and says when to look again', () => {
    const r = run([web], [down('a'), node('b'), node('c')], placed, 5 * 60_000 - 1);
    expect(r).toEqual({ create: [], delete: [], evicted: [], paused: undefined, next: at(5 * 60_000) });
  });

  it('moves Deployment pods to a Ready node once the node has been NotReady for the timeout', () => {
    const r = run([web], [down('a'), node('b'), node('c')], placed, 5 * 60_000);
    expect(r).toEqual({ create: ['web-hash10-s0001@c'], delete: ['web-1'], evicted: ['web-1'], paused: undefined, next: undefined });
  });

  it('takes the timeout from --eviction-timeout and the app annotation over it', () => {
    expect(run([web], [down('a'), node('b'), node('c')], placed, 60_000, { evictionTimeoutMs: 60_000 }).evicted).toEqual(['web-1']);
    const quick = app('web', { replicas: 2, annotations: { 'grove.io/eviction-timeout': '90s' } });
    expect(run([quick], [down('a'), node('b'), node('c')], placed, 89_999).evicted).toEqual([]);
    expect(run([quick], [down('a'), node('b'), node('c')], placed, 90_000)).toMatchObject({ create: ['web-hash10-s0001@c'], delete: ['web-1'] });
    expect(evictionTimeoutMs(app('x', { annotations: { 'grove.io/eviction-timeout': 'soon' } }), 7)).toBe(7);
  });

  it('never moves a DaemonSet pod and places no new DaemonSet pod on a NotReady node', () => {
    const agent = app('agent', { kind: 'DaemonSet' });
    const pods = [pod('agent-1', 'agent', 'a', H1), pod('agent-2', 'agent', 'b', H1)];
    expect(run([agent], [down('a'), node('b'), down('c')].slice(0, 2), pods, 3_600_000)).toMatchObject({ create: [], delete: [], evicted: [] });
    expect(run([agent], [down('a'), node('b'), down('c')], pods, 60_000)).toMatchObject({ create: [], delete: [] });
  });

  it('pauses evictions when more than 55% of nodes are NotReady (2 of 3), not at 1 of 3', () => {
    const three = [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'c', H1)];
    const paused = run([web], [down('a'), node('b'), down('c')], three, 3_600_000);
    expect(paused).toEqual({ create: [], delete: [], evicted: [], paused: { notReady: 2, total: 3 }, next: undefined });
    const one = run([web], [down('a'), node('b'), node('c')], three, 3_600_000);
    expect(one).toMatchObject({ create: ['web-hash10-s0001@b'], delete: ['web-1'], paused: undefined });
  });

  it('keeps the pod where it is when no Ready node can take it', () => {
    const pinned = app('web', { replicas: 1, nodeSelector: { site: 'x' } });
    const r = run([pinned], [node('a', { ready: false, notReadySince: at(0), labels: { site: 'x' } }), node('b'), node('c')], [pod('web-1', 'web', 'a', H1)], 3_600_000);
    expect(r).toMatchObject({ create: [], delete: [], evicted: [] });
  });

  it('places new pods only on Ready nodes, or on nodes that were never Ready yet', () => {
    const r = run([app('web', { replicas: 3 })], [down('a'), node('b'), node('c', { ready: false })], [], 0);
    expect(r.create).toEqual(['web-hash10-s0001@b', 'web-hash10-s0002@c', 'web-hash10-s0003@b']);
  });

  it('node back: pods still assigned to it stay, nothing is created or deleted', () => {
    const r = run([web], [node('a'), node('b'), node('c')], placed, 3_600_000);
    expect(r).toMatchObject({ create: [], delete: [] });
  });

  it('surplus after a race: copies on NotReady nodes go first, newest first then by name', () => {
    const pods = [
      pod('web-1', 'web', 'a', H1, '2025-01-01T00:00:00Z'),
      pod('web-2', 'web', 'a', H1, '2025-01-03T00:00:00Z'),
      pod('web-3', 'web', 'a', H1, '2025-01-03T00:00:00Z'),
      pod('web-4', 'web', 'b', H1, '2025-01-04T00:00:00Z'),
      pod('web-5', 'web', 'c', H1, '2025-01-05T00:00:00Z'),
    ];
    // a is NotReady but not yet due: its copies are the surplus, newest (web-3 over web-2 by name) first.
    expect(run([web], [down('a'), node('b'), node('c')], pods, 1000)).toMatchObject({ create: [], delete: ['web-3', 'web-2', 'web-1'] });
    // All Ready (the node came back): the usual rule, node with most copies, its newest; at
    // one copy each the tie goes to the first node by name.
    expect(run([web], [node('a'), node('b'), node('c')], pods, 1000)).toMatchObject({ create: [], delete: ['web-3', 'web-2', 'web-1'] });
  });
});

describe('grove.io/eviction-timeout at apply', () => {
  it('accepts a duration and rejects anything else with the annotation named', () => {
    const withTimeout = (v: string) => {
      const a = app('web');
      return { ...a, meta: { ...a.meta, annotations: { 'grove.io/eviction-timeout': v } } };
    };
    expect(validateResource(withTimeout('90s'), 'r')).toMatchObject({ meta: { annotations: { 'grove.io/eviction-timeout': '90s' } } });
    expect(() => validateResource(withTimeout('soon'), 'r')).toThrow('r.meta.annotations["grove.io/eviction-timeout"]: "soon" is not a duration (use e.g. 90s, 5m)');
  });
});
