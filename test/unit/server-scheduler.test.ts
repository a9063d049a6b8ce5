import { describe, expect, it } from 'vitest';
import { schedule, type ScheduleInput } from '../../src/server/scheduler.js';
import type { App, PodAssignment } from '../../src/core/resolved-pod.js';
import type { NodeView } from '../../src/server/scheduler.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

const H1 = fakeHash(app('x')); // hash100000000000
const H2 = fakeHash(app('x', { version: '2' }));
const NOW = '2025-06-01T00:00:00.000Z';

function run(apps: App[], nodes: NodeView[], assignments: PodAssignment[] = [], extra: Partial<ScheduleInput> = {}) {
  const result = schedule({ apps, nodes, assignments, templateHash: fakeHash, nameSuffix: suffixes(), now: NOW, ...extra });
  return { create: result.create.map((p) => `${p.meta.name}@${p.node ?? 'Pending'}`), delete: result.delete, raw: result };
}

describe('scheduler: Deployment', () => {
  it('places new replicas spreading over nodes in name order', () => {
    const r = run([app('web', { replicas: 3 })], [node('b'), node('a'), node('c')]);
    expect(r.create).toEqual(['web-hash10-s0001@a', 'web-hash10-s0002@b', 'web-hash10-s0003@c']);
    expect(r.delete).toEqual([]);
    expect(r.raw.create[0]).toEqual({
      kind: 'Pod',
      meta: { name: 'web-hash10-s0001', labels: { app: 'web' }, annotations: {}, createdAt: NOW },
      app: 'web',
      node: 'a',
      templateHash: H1,
    });
  });

  it('does nothing when the desired state already holds', () => {
    const r = run([app('web', { replicas: 2 })], [node('a'), node('b')], [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1)]);
    expect(r).toMatchObject({ create: [], delete: [] });
  });

  it('never moves a healthy pod to rebalance (both replicas on one node stay)', () => {
    const r = run([app('web', { replicas: 2 })], [node('a'), node('b')], [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'a', H1)]);
    expect(r).toMatchObject({ create: [], delete: [] });
  });

  it('scale up prefers the node with fewest pods of the app, then fewest pods in total', () => {
    const assignments = [pod('web-1', 'web', 'a', H1), pod('db-1', 'db', 'b', H1), pod('db-2', 'db', 'b', H1)];
    const apps = [app('web', { replicas: 3 }), app('db', { replicas: 2 })];
    const r = run(apps, [node('a'), node('b'), node('c')], assignments);
    // c has no web pod and no pods at all; then b (0 web) beats a (1 web).
    expect(r.create).toEqual(['web-hash10-s0001@c', 'web-hash10-s0002@b']);
    expect(r.delete).toEqual([]);
  });

  it('scale down removes from the node with most pods of the app, newest first', () => {
    const assignments = [
      pod('web-1', 'web', 'a', H1, '2025-01-01T00:00:00Z'),
      pod('web-2', 'web', 'b', H1, '2025-01-02T00:00:00Z'),
      pod('web-3', 'web', 'b', H1, '2025-01-03T00:00:00Z'),
      pod('web-4', 'web', 'b', H1, '2025-01-01T12:00:00Z'),
      pod('web-5', 'web', 'a', H1, '2025-01-05T00:00:00Z'),
    ];
    const r = run([app('web', { replicas: 2 })], [node('a'), node('b')], assignments);
    // b has 3 → drop its newest (web-3); then a and b have 2 each: tie on totals → a (name
    // order) loses its newest web-5; then b (2 vs 1) loses web-2.
    expect(r.delete).toEqual(['web-3', 'web-5', 'web-2']);
    expect(r.create).toEqual([]);
  });

  it('an update surges one new pod first and keeps the old ones while it is not available', () => {
    const r = run([app('web', { replicas: 2, version: '2' })], [node('a'), node('b')], [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1)]);
    expect(r.delete).toEqual([]);
    expect(r.create).toEqual(['web-hash20-s0001@a']);
    expect(r.raw.create.every((p) => p.templateHash === H2)).toBe(true);
  });

  it('scale down and an update together: an old pod goes, the new one takes the freed room', () => {
    const assignments = [pod('web-1', 'web', 'a', H1, '2025-01-01T00:00:00Z'), pod('web-2', 'web', 'a', H1, '2025-01-02T00:00:00Z')];
    const r = run([app('web', { replicas: 1, version: '2' })], [node('a'), node('b')], assignments);
    expect(r.delete).toEqual(['web-2']);
    expect(r.create).toEqual(['web-hash20-s0001@b']);
  });

  it('nodeSelector: places only on matching nodes and evicts when the label goes away', () => {
    const apps = [app('cam', { replicas: 2, nodeSelector: { camera: 'yes' } })];
    const nodes = [node('a', { labels: { camera: 'yes' } }), node('b'), node('c', { labels: { camera: 'yes' } })];
    expect(run(apps, nodes).create).toEqual(['cam-hash10-s0001@a', 'cam-hash10-s0002@c']);
    const after = run(apps, [node('a'), node('b'), node('c', { labels: { camera: 'yes' } })], [pod('cam-1', 'cam', 'a', H1), pod('cam-2', 'cam', 'c', H1)]);
    expect(after.delete).toEqual(['cam-1']);
    expect(after.create).toEqual(['cam-hash10-s0001@c']);
  });

  it('cordon keeps existing pods but places no new ones', () => {
    const r = run([app('web', { replicas: 3 })], [node('a', { cordoned: true }), node('b')], [pod('web-1', 'web', 'a', H1)]);
    expect(r.delete).toEqual([]);
    expect(r.create).toEqual(['web-hash10-s0001@b', 'web-hash10-s0002@b']);
  });

  it('makes a Pending pod, with the reason, of every replica no node can take', () => {
    const r = run([app('web', { replicas: 2 })], [node('a', { cordoned: true })]);
    expect(r).toMatchObject({ create: ['web-hash10-s0001@Pending', 'web-hash10-s0002@Pending'], delete: [] });
    expect(r.raw.create.map((p) => p.unschedulable)).toEqual(['0/1 nodes are available: 1 node(s) were cordoned', '0/1 nodes are available: 1 node(s) were cordoned']);
  });

  it('memory: requests must fit in available memory minus what is reserved', () => {
    const MiB = 1024 * 1024;
    const apps = [app('big', { replicas: 3, request: 100 * MiB })];
    const nodes = [node('a', { facts: { memoryAvailableBytes: 250 * MiB } }), node('b', { facts: { memoryAvailableBytes: 50 * MiB } })];
    // a holds two (200 of 250), b none, third replica stays Pending.
    const r = run(apps, nodes);
    expect(r.create).toEqual(['big-hash10-s0001@a', 'big-hash10-s0002@a', 'big-hash10-s0003@Pending']);
    expect(r.raw.create[2]!.unschedulable).toBe('0/2 nodes are available: 2 Insufficient memory');
  });

  it('memory: the limit stands in for a missing request, and unknown facts mean eligible', () => {
    const MiB = 1024 * 1024;
    const apps = [app('lim', { replicas: 2, memory: 300 * MiB })];
    const nodes = [node('a', { facts: { memoryAvailableBytes: 200 * MiB } }), node('b')];
    expect(run(apps, nodes).create).toEqual(['lim-hash10-s0001@b', 'lim-hash10-s0002@b']);
  });

  it('memory: other apps already assigned count against the node', () => {
    const MiB = 1024 * 1024;
    const apps = [app('a1', { replicas: 1, request: 150 * MiB }), app('b1', { replicas: 1, request: 100 * MiB })];
    const nodes = [node('n1', { facts: { memoryAvailableBytes: 200 * MiB } }), node('n2', { facts: { memoryAvailableBytes: 120 * MiB } })];
    // a1 → n1 (fewest pods; name order). b1: n1 has 50 left → n2.
    expect(run(apps, nodes).create).toEqual(['a1-hash10-s0001@n1', 'b1-hash10-s0002@n2']);
  });

  it('deletes pods of apps that no longer exist and pods on nodes that left', () => {
    const assignments = [pod('old-1', 'old', 'a', H1), pod('web-1', 'web', 'gone', H1)];
    const r = run([app('web')], [node('a')], assignments);
    expect(r.delete).toEqual(['old-1', 'web-1']);
    expect(r.create).toEqual(['web-hash10-s0001@a']);
  });

  it('arch annotation restricts placement only when the node reported its arch', () => {
    const apps = [app('arm', { replicas: 3, annotations: { 'grove.io/arch': 'arm64,arm' } })];
    const nodes = [node('a', { facts: { arch: 'x64' } }), node('b', { facts: { arch: 'aarch64' } }), node('c')];
    expect(run(apps, nodes).create).toEqual(['arm-hash10-s0001@b', 'arm-hash10-s0002@c', 'arm-hash10-s0003@b']);
  });

  it('the arch hook can be replaced', () => {
    const r = run([app('web', { replicas: 2 })], [node('a'), node('b')], [], { archCompatible: (_app, n) => n.name === 'b' });
    expect(r.create).toEqual(['web-hash10-s0001@b', 'web-hash10-s0002@b']);
  });

  it('picks a fresh suffix when a name is taken', () => {
    const taken = pod('web-hash10-s0001', 'web', 'a', H1);
    const r = run([app('web', { replicas: 2 })], [node('a'), node('b')], [taken]);
    expect(r.create).toEqual(['web-hash10-s0002@b']);
  });

  it('rejects a malformed suffix', () => {
    expect(() => schedule({ apps: [app('web')], nodes: [node('a')], assignments: [], templateHash: fakeHash, nameSuffix: () => 'UP' })).toThrow(/suffix/);
  });

  it('is deterministic for the same input', () => {
    const input = (): Parameters<typeof run> => [[app('web', { replicas: 4 }), app('db', { replicas: 2 })], [node('c'), node('a'), node('b')]];
    expect(run(...input()).create).toEqual(run(...input()).create);
  });
});

describe('scheduler: DaemonSet', () => {
  const ds = (o = {}) => app('agent', { kind: 'DaemonSet', ...o });

  it('runs exactly one pod per eligible node', () => {
    const r = run([ds()], [node('b'), node('a')], [pod('agent-1', 'agent', 'a', H1)]);
    expect(r.create).toEqual(['agent-hash10-s0001@b']);
    expect(r.delete).toEqual([]);
  });

  it('removes duplicates, keeping the oldest', () => {
    const r = run([ds()], [node('a')], [pod('agent-2', 'agent', 'a', H1, '2025-02-01T00:00:00Z'), pod('agent-1', 'agent', 'a', H1, '2025-01-01T00:00:00Z')]);
    expect(r.delete).toEqual(['agent-2']);
    expect(r.create).toEqual([]);
  });

  it('follows label changes: loses the label → deleted, gains it → created', () => {
    const apps = [ds({ nodeSelector: { role: 'edge' } })];
    const nodes = [node('a'), node('b', { labels: { role: 'edge' } })];
    const r = run(apps, nodes, [pod('agent-1', 'agent', 'a', H1)]);
    expect(r.delete).toEqual(['agent-1']);
    expect(r.create).toEqual(['agent-hash10-s0001@b']);
  });

  it('a joining node gets a pod; a cordoned one does not, but keeps the one it has', () => {
    const nodes = [node('a', { cordoned: true }), node('b', { cordoned: true }), node('c')];
    const r = run([ds()], nodes, [pod('agent-1', 'agent', 'a', H1)]);
    expect(r.delete).toEqual([]);
    expect(r.create).toEqual(['agent-hash10-s0001@c']);
  });

  it('updates in place, on cordoned nodes too, one node at a time by default', () => {
    const r = run([ds({ version: '2' })], [node('a', { cordoned: true }), node('b')], [pod('agent-1', 'agent', 'a', H1), pod('agent-2', 'agent', 'b', H1)]);
    expect(r.delete).toEqual(['agent-1']);
    expect(r.create).toEqual(['agent-hash20-s0001@a']);
  });

  it('skips nodes without room for the request', () => {
    const MiB = 1024 * 1024;
    const nodes = [node('a', { facts: { memoryAvailableBytes: 10 * MiB } }), node('b', { facts: { memoryAvailableBytes: 500 * MiB } })];
    expect(run([ds({ request: 64 * MiB })], nodes).create).toEqual(['agent-hash10-s0001@b']);
  });
});
