import { describe, expect, it } from 'vitest';
import type { App, PodAssignment } from '../../src/core/resolved-pod.js';
import { schedule, type NodeView, type ScheduleInput } from '../../src/server/scheduler.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

const H1 = fakeHash(app('x'));
const H2 = fakeHash(app('x', { version: '2' }));
const NOW = '2025-06-01T00:00:00.000Z';
const MiB = 1024 * 1024;
const SELECTOR = "didn't match Pod's node affinity/selector";

function run(apps: App[], nodes: NodeView[], assignments: PodAssignment[] = [], extra: Partial<ScheduleInput> = {}) {
  return schedule({ apps, nodes, assignments, templateHash: fakeHash, nameSuffix: suffixes(), now: NOW, ...extra });
}

/** A Pending pod as the store holds it. */
function pending(name: string, appName: string, hash: string, reason: string, createdAt = '2025-01-01T00:00:00.000Z'): PodAssignment {
  const { node: _none, ...rest } = pod(name, appName, 'x', hash, createdAt);
  return { ...rest, unschedulable: reason };
}

const brief = (pods: PodAssignment[]) => pods.map((p) => `${p.meta.name}@${p.node ?? 'Pending'}`);

describe('scheduler: Pending pods (FailedScheduling)', () => {
  it('an unsatisfiable nodeSelector gives every replica a Pending pod counting the nodes', () => {
    const r = run([app('web', { replicas: 2, nodeSelector: { zone: 'garage' } })], [node('a'), node('b'), node('c', { labels: { zone: 'attic' } })]);
    const reason = `0/3 nodes are available: 3 node(s) ${SELECTOR}`;
    expect(r.create).toEqual([
      { kind: 'Pod', meta: { name: 'web-hash10-s0001', labels: { app: 'web' }, annotations: {}, createdAt: NOW }, app: 'web', templateHash: H1, unschedulable: reason },
      { kind: 'Pod', meta: { name: 'web-hash10-s0002', labels: { app: 'web' }, annotations: {}, createdAt: NOW }, app: 'web', templateHash: H1, unschedulable: reason },
    ]);
    expect(r.update).toEqual([]);
    expect(r.rollouts[0]).toMatchObject({ desired: 2, updated: 2, updatedAvailable: 0, total: 2, complete: false });
  });

  it('counts every node once, under the first check it fails, in a fixed order', () => {
    const web = app('web', { replicas: 1, request: 100 * MiB, nodeSelector: { role: 'edge' }, annotations: { 'grove.io/arch': 'arm64' } });
    web.spec.template.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
    const edge = { role: 'edge' };
    const nodes = [
      node('a', { ready: false, notReadySince: '2025-05-01T00:00:00Z', labels: edge }),
      node('b', { cordoned: true }),
      node('c'),
      node('d', { labels: edge, facts: { arch: 'amd64' } }),
      node('e', { labels: edge, facts: { arch: 'arm64', memoryAvailableBytes: 50 * MiB } }),
      node('f', { labels: edge, facts: { arch: 'arm64' } }),
    ];
    const other = app('proxy');
    other.spec.template.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
    const r = run([web, other], nodes, [pod('proxy-1', 'proxy', 'f', H1)]);
    expect(r.create.find((p) => p.app === 'web')!.unschedulable).toBe(
      `0/6 nodes are available: 1 node(s) were not ready, 1 node(s) were cordoned, 1 node(s) ${SELECTOR}, 1 node(s) didn't match the app's grove.io/arch, 1 node(s) didn't have free ports for the requested pod ports, 1 Insufficient memory`,
    );
  });

  it('says so when no node has joined', () => {
    expect(run([app('web')], []).create[0]!.unschedulable).toBe('0/0 nodes are available: no node has joined the cluster');
  });

  it('writes nothing for a Pending pod whose reason is unchanged', () => {
    const reason = `0/1 nodes are available: 1 node(s) ${SELECTOR}`;
    const r = run([app('web', { nodeSelector: { zone: 'garage' } })], [node('a')], [pending('web-1', 'web', H1, reason)]);
    expect({ create: r.create, update: r.update, delete: r.delete }).toEqual({ create: [], update: [], delete: [] });
  });

  it('rewrites the reason when it changes, keeping the pod', () => {
    const old = pending('web-1', 'web', H1, `0/1 nodes are available: 1 node(s) ${SELECTOR}`);
    const r = run([app('web', { nodeSelector: { zone: 'garage' } })], [node('a'), node('b', { cordoned: true, labels: { zone: 'garage' } })], [old]);
    expect(r.update).toEqual([{ ...old, unschedulable: `0/2 nodes are available: 1 node(s) were cordoned, 1 node(s) ${SELECTOR}` }]);
    expect(r.create).toEqual([]);
    expect(r.delete).toEqual([]);
  });

  it('places a Pending pod under its own name as soon as a node fits (labelled, uncordoned, joined)', () => {
    const old = pending('web-1', 'web', H1, `0/1 nodes are available: 1 node(s) ${SELECTOR}`, '2025-05-05T00:00:00.000Z');
    const r = run([app('web', { nodeSelector: { zone: 'garage' } })], [node('a', { labels: { zone: 'garage' } })], [old]);
    const { unschedulable: _gone, ...placed } = old;
    expect(r.update).toEqual([{ ...placed, node: 'a' }]);
    expect(r.create).toEqual([]);
    expect(r.delete).toEqual([]);
  });

  it('counts Pending pods as replicas: scale-down removes them first, scale-up adds beside them', () => {
    const reason = '0/1 nodes are available: 1 node(s) were cordoned';
    const pods = [pod('web-1', 'web', 'a', H1), pending('web-2', 'web', H1, reason, '2025-01-01T00:00:00Z'), pending('web-3', 'web', H1, reason, '2025-01-02T00:00:00Z')];
    const nodes = [node('a', { cordoned: true })];
    expect(run([app('web', { replicas: 3 })], nodes, pods)).toMatchObject({ create: [], update: [], delete: [] });
    expect(run([app('web', { replicas: 1 })], nodes, pods).delete).toEqual(['web-3', 'web-2']);
    expect(brief(run([app('web', { replicas: 4 })], nodes, pods).create)).toEqual(['web-hash10-s0001@Pending']);
  });

  it('a rolling update removes Pending pods of the old template first, and never counts one as available', () => {
    const reason = '0/2 nodes are available: 2 Insufficient memory';
    const full = { facts: { memoryAvailableBytes: 100 * MiB } };
    const pods = [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1), pending('web-3', 'web', H1, reason)];
    const strategy = { type: 'RollingUpdate' as const, maxSurge: 0, maxUnavailable: 1 };
    const r = run([app('web', { replicas: 3, version: '2', request: 100 * MiB, strategy })], [node('a', full), node('b', full)], pods);
    // The one pod that may be unavailable is the old Pending one (it costs nothing), not web-1
    // or web-2; its replacement has no room either.
    expect(r.delete).toEqual(['web-3']);
    expect(brief(r.create)).toEqual(['web-hash20-s0001@Pending']);
    expect(r.rollouts[0]).toMatchObject({ updated: 1, updatedAvailable: 0, total: 3 });
  });

  it('a pod created Pending and placed in the same pass is one create on its node', () => {
    const v1 = app('web', { replicas: 1 });
    const v2 = app('web', { replicas: 1, version: '2' });
    for (const a of [v1, v2]) a.spec.template.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
    const r = run([v2], [node('a')], [pod('web-1', 'web', 'a', fakeHash(v1))]);
    expect(brief(r.create)).toEqual(['web-hash20-s0001@a']);
    expect(r.create[0]!.unschedulable).toBeUndefined();
    expect(r.update).toEqual([]);
    expect(r.delete).toEqual(['web-1']);
  });

  it('Pending pods of a deleted app go', () => {
    expect(run([], [node('a')], [pending('old-1', 'old', H1, 'x')]).delete).toEqual(['old-1']);
  });

  it('a Job with no node is Pending, then placed; a new template replaces the Pending pod', () => {
    const job = app('once', { kind: 'Job', nodeSelector: { gpu: 'yes' } });
    const first = run([job], [node('a')]);
    expect(brief(first.create)).toEqual(['once-hash10-s0001@Pending']);
    const held = first.create[0]!;
    expect(run([job], [node('a', { labels: { gpu: 'yes' } })], [held]).update.map((p) => p.node)).toEqual(['a']);
    const changed = run([app('once', { kind: 'Job', version: '2', nodeSelector: { gpu: 'yes' } })], [node('a')], [held]);
    expect(changed.delete).toEqual([held.meta.name]);
    expect(changed.create.map((p) => [p.templateHash, p.node])).toEqual([[H2, undefined]]);
  });
});

describe('scheduler: DaemonSets matching no node', () => {
  const ds = (nodeSelector: Record<string, string> = {}) => app('agent', { kind: 'DaemonSet', nodeSelector });

  it('have no pods (as in Kubernetes) and a note saying no node matches', () => {
    const r = run([ds({ role: 'edge', zone: 'a' })], [node('a'), node('b')]);
    expect(r.create).toEqual([]);
    expect(r.daemonSetNotes).toEqual([{ app: 'agent', message: '0 nodes match nodeSelector role=edge,zone=a' }]);
  });

  it('say which matching nodes run no pod and why; nothing when every matching node has one', () => {
    const nodes = [node('a', { labels: { role: 'edge' } }), node('b', { labels: { role: 'edge' }, cordoned: true }), node('c')];
    const r = run([ds({ role: 'edge' })], nodes);
    expect(brief(r.create)).toEqual(['agent-hash10-s0001@a']);
    expect(r.daemonSetNotes).toEqual([{ app: 'agent', message: 'no pod on 1 of 2 nodes matching nodeSelector role=edge: 1 node(s) were cordoned' }]);
    expect(run([ds({ role: 'edge' })], [node('a', { labels: { role: 'edge' } }), node('c')]).daemonSetNotes).toEqual([]);
  });

  it('never keep a Pending pod', () => {
    const r = run([ds()], [node('a')], [pending('agent-1', 'agent', H1, 'x')]);
    expect(r.delete).toEqual(['agent-1']);
    expect(brief(r.create)).toEqual(['agent-hash10-s0001@a']);
  });
});
