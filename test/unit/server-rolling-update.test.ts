import { describe, expect, it } from 'vitest';
import { schedule, type RolloutProgress } from '../../src/server/scheduler.js';
import { resolveStrategy, scaledValue, isIntOrPercent } from '../../src/server/update-strategy.js';
import type { App, PodAssignment } from '../../src/core/resolved-pod.js';
import type { NodeView } from '../../src/server/scheduler.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

const H1 = fakeHash(app('x'));
const H2 = fakeHash(app('x', { version: '2' }));
const NOW = '2025-06-01T00:00:00.000Z';

interface Step {
  pods: PodAssignment[];
  rollout: RolloutProgress;
  created: string[];
  deleted: string[];
}

/**
 * Runs scheduler passes the way the controller does, with node reports in between: after
 * each pass, pods for which `becomesAvailable` says so are reported available. Stops when a
 * pass changes nothing. Returns every pass's outcome.
 */
function simulate(a: App, nodes: NodeView[], start: PodAssignment[], becomesAvailable: (p: PodAssignment) => boolean, maxPasses = 30): Step[] {
  let pods = start;
  const available = new Set(start.map((p) => p.meta.name));
  const nameSuffix = suffixes();
  const steps: Step[] = [];
  for (let i = 0; i < maxPasses; i++) {
    const r = schedule({ apps: [a], nodes, assignments: pods, templateHash: fakeHash, nameSuffix, now: NOW, available });
    const gone = new Set(r.delete);
    pods = [...pods.filter((p) => !gone.has(p.meta.name)), ...r.create];
    for (const p of r.create) if (becomesAvailable(p)) available.add(p.meta.name);
    steps.push({ pods, rollout: r.rollouts[0]!, created: r.create.map((p) => p.meta.name), deleted: r.delete });
    if (r.create.length === 0 && r.delete.length === 0) break;
  }
  return steps;
}

const availableCount = (pods: PodAssignment[], isAvailable: (p: PodAssignment) => boolean) => pods.filter(isAvailable).length;

describe('update strategy values', () => {
  it('validates counts and percentages', () => {
    for (const ok of [0, 1, 100, '0%', '25%', '100%']) expect(isIntOrPercent(ok)).toBe(true);
    for (const bad of [-1, 1.5, '101%', '25', '%', 'x%', '05%', null, {}]) expect(isIntOrPercent(bad)).toBe(false);
  });

  it('rounds surge up and unavailable down for a Deployment, both up for a DaemonSet', () => {
    expect(scaledValue('25%', 3, true)).toBe(1);
    expect(scaledValue('25%', 3, false)).toBe(0);
    expect(resolveStrategy(app('w', { replicas: 10 }).spec, 10)).toEqual({ type: 'RollingUpdate', maxSurge: 3, maxUnavailable: 2 });
    expect(resolveStrategy(app('d', { kind: 'DaemonSet' }).spec, 10)).toEqual({ type: 'RollingUpdate', maxSurge: 0, maxUnavailable: 1 });
    const ds = app('d', { kind: 'DaemonSet', strategy: { type: 'RollingUpdate', maxUnavailable: '10%' } });
    expect(resolveStrategy(ds.spec, 11).maxUnavailable).toBe(2);
  });

  it('never resolves to zero surge and zero unavailable', () => {
    const a = app('w', { replicas: 1, strategy: { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: '25%' } });
    expect(resolveStrategy(a.spec, 1)).toEqual({ type: 'RollingUpdate', maxSurge: 0, maxUnavailable: 1 });
  });
});

describe('rolling update: Deployment', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const oldPods = () => [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1), pod('web-3', 'web', 'c', H1)];

  it('a healthy update converges with at most replicas + maxSurge pods and never fewer available than replicas − maxUnavailable', () => {
    const a = app('web', { replicas: 3, version: '2', strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 1 } });
    const steps = simulate(a, nodes, oldPods(), () => true);
    const final = steps[steps.length - 1]!;
    expect(final.pods.map((p) => p.templateHash)).toEqual([H2, H2, H2]);
    expect(final.rollout).toMatchObject({ desired: 3, updated: 3, updatedAvailable: 3, total: 3, complete: true });
    for (const s of steps) expect(s.pods.length).toBeLessThanOrEqual(4);
  });

  it('a new version that never becomes available stops at the surge: every old pod keeps serving', () => {
    const a = app('web', { replicas: 3, version: '2' }); // defaults: surge 1, unavailable 0
    const steps = simulate(a, nodes, oldPods(), (p) => p.templateHash !== H2);
    const final = steps[steps.length - 1]!;
    expect(final.pods.filter((p) => p.templateHash === H1).map((p) => p.meta.name)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(final.rollout).toMatchObject({ updated: 1, updatedAvailable: 0, total: 4, complete: false });
    const isOldAvailable = (p: PodAssignment) => p.templateHash === H1;
    for (const s of steps) expect(availableCount(s.pods, isOldAvailable)).toBe(3);
  });

  it('with maxUnavailable 1 and a broken version, availability drops by one and no further', () => {
    const a = app('web', { replicas: 3, version: '2', strategy: { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: 1 } });
    const steps = simulate(a, nodes, oldPods(), (p) => p.templateHash !== H2);
    for (const s of steps) expect(availableCount(s.pods, (p) => p.templateHash === H1)).toBeGreaterThanOrEqual(2);
    const final = steps[steps.length - 1]!;
    expect(final.pods.filter((p) => p.templateHash === H1)).toHaveLength(2);
    expect(final.pods).toHaveLength(3);
  });

  it('maxSurge 0: the old pod goes and its replacement comes in the same pass (one device, one port)', () => {
    const a = app('web', { replicas: 1, version: '2', strategy: { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: 1 } });
    const r = schedule({ apps: [a], nodes: [node('a')], assignments: [pod('web-1', 'web', 'a', H1)], templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(r.delete).toEqual(['web-1']);
    expect(r.create.map((p) => `${p.meta.name}@${p.node}`)).toEqual(['web-hash20-s0001@a']);
  });

  it('unavailable old pods are replaced first, at no cost to availability', () => {
    const a = app('web', { replicas: 3, version: '2', strategy: { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: 1 } });
    const available = new Set(['web-1', 'web-3']);
    const r = schedule({ apps: [a], nodes, assignments: oldPods(), templateHash: fakeHash, nameSuffix: suffixes(), now: NOW, available });
    // web-2 was down anyway; with it gone, two are available = replicas − maxUnavailable: stop.
    expect(r.delete).toEqual(['web-2']);
    expect(r.create).toHaveLength(1);
  });

  it('Recreate removes every old pod, and only then places new ones', () => {
    const a = app('web', { replicas: 3, version: '2', strategy: { type: 'Recreate' } });
    const steps = simulate(a, nodes, oldPods(), () => true);
    expect(steps[0]).toMatchObject({ deleted: ['web-1', 'web-2', 'web-3'], created: [] });
    expect(steps[1]!.created).toHaveLength(3);
    expect(steps[1]!.deleted).toEqual([]);
  });

  it('reports an app already on its template as complete only when every replica is available', () => {
    const a = app('web', { replicas: 2 });
    const pods = [pod('web-1', 'web', 'a', H1), pod('web-2', 'web', 'b', H1)];
    const run = (available: Set<string>) => schedule({ apps: [a], nodes, assignments: pods, templateHash: fakeHash, nameSuffix: suffixes(), now: NOW, available }).rollouts[0];
    expect(run(new Set(['web-1']))).toMatchObject({ updated: 2, updatedAvailable: 1, complete: false });
    expect(run(new Set(['web-1', 'web-2']))).toMatchObject({ updated: 2, updatedAvailable: 2, complete: true });
  });
});

describe('rolling update: DaemonSet', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const oldPods = () => [pod('ds-1', 'ds', 'a', H1), pod('ds-2', 'ds', 'b', H1), pod('ds-3', 'ds', 'c', H1)];

  it('replaces one node at a time by default, each after the previous one is available', () => {
    const a = app('ds', { kind: 'DaemonSet', version: '2' });
    const steps = simulate(a, nodes, oldPods(), () => true);
    expect(steps.slice(0, 3).map((s) => s.deleted)).toEqual([['ds-1'], ['ds-2'], ['ds-3']]);
    expect(steps[steps.length - 1]!.rollout).toMatchObject({ desired: 3, updated: 3, complete: true });
  });

  it('a broken version stops after maxUnavailable nodes', () => {
    const a = app('ds', { kind: 'DaemonSet', version: '2', strategy: { type: 'RollingUpdate', maxUnavailable: 2 } });
    const steps = simulate(a, nodes, oldPods(), (p) => p.templateHash !== H2);
    const final = steps[steps.length - 1]!;
    expect(final.pods.filter((p) => p.templateHash === H1).map((p) => p.node)).toEqual(['c']);
    expect(final.rollout).toMatchObject({ updated: 2, updatedAvailable: 0, complete: false });
  });

  it('maxSurge starts the new pod beside the old one, which goes once the new one is available', () => {
    const a = app('ds', { kind: 'DaemonSet', version: '2', strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 } });
    const steps = simulate(a, nodes, oldPods(), () => true);
    expect(steps[0]).toMatchObject({ deleted: [] });
    expect(steps[0]!.pods.filter((p) => p.node === 'a')).toHaveLength(2);
    expect(steps[1]!.deleted).toEqual(['ds-1']);
    const final = steps[steps.length - 1]!;
    expect(final.pods.map((p) => `${p.node}:${p.templateHash}`)).toEqual([`a:${H2}`, `b:${H2}`, `c:${H2}`]);
  });

  it('a NotReady node gets the new template at once and does not hold the fleet back', () => {
    const fleet = [node('a'), node('b', { ready: false, notReadySince: '2025-05-01T00:00:00Z' }), node('c')];
    const a = app('ds', { kind: 'DaemonSet', version: '2' });
    const steps = simulate(a, fleet, oldPods(), (p) => p.node !== 'b');
    expect(steps[0]!.deleted).toEqual(['ds-2', 'ds-1']);
    const final = steps[steps.length - 1]!;
    expect(final.pods.every((p) => p.templateHash === H2)).toBe(true);
    expect(final.rollout).toMatchObject({ desired: 2, updated: 2, updatedAvailable: 2, complete: true });
  });

  it('OnDelete leaves running pods alone', () => {
    const a = app('ds', { kind: 'DaemonSet', version: '2', strategy: { type: 'OnDelete' } });
    const r = schedule({ apps: [a], nodes, assignments: oldPods(), templateHash: fakeHash, nameSuffix: suffixes(), now: NOW });
    expect(r).toMatchObject({ create: [], delete: [] });
  });
});
