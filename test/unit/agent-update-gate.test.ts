import { describe, expect, it } from 'vitest';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { planContainers as plan, type ContainerStep as Step } from '../../agent/src/agent/plan/containers.js';
import type { Hold } from '../../agent/src/agent/plan/steps.js';
import { gateSteps, type GateInput } from '../../agent/src/agent/plan/update-gate.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const T = (iso: string): number => Date.parse(iso);
const NIGHTLY = { 'grove.io/update-window': '0 2 * * *', 'grove.io/update-window-duration': '2h', 'grove.io/update-window-timezone': 'UTC' };

/** `update`: the pod's grove.io/update-* annotations. */
function pod(name: string, hash: string, update?: Record<string, string>, app = 'web'): WirePodTarget {
  return podTarget(name, { app, hash, ...(update ? { annotations: update } : {}), containers: [podContainer('main', { image: `img:${hash}` })] });
}

let n = 0;
function running(podName: string, hash: string, state: ManagedContainer['state'] = 'running', app = 'web'): ManagedContainer {
  return {
    id: `c${++n}`,
    name: `${podName}_main`,
    labels: { 'grove.managed': 'agent', 'grove.pod': podName, 'grove.app': app, 'grove.container': 'main', 'grove.template-hash': hash },
    image: `img:${hash}`,
    state,
    exitCode: state === 'exited' ? 1 : null,
    oomKilled: false,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

function gate(current: ManagedContainer[], target: WirePodTarget[], now: number, extra: Partial<GateInput> = {}) {
  const steps = plan(current, target);
  return { steps, ...gateSteps({ steps, current, target, now, lockedApps: new Set(), holds: new Map(), defaultLockMaxSeconds: 3600, ...extra }) };
}

const short = (steps: Step[]): string[] => steps.map((s) => (s.type === 'remove-container' ? `remove ${s.id}` : `${s.type.replace('-container', '')} ${s.pod.name}`));

describe('update window', () => {
  it('holds an update outside the window: old keeps running, new waits; says until when', () => {
    const old = running('web-old', 'h1');
    const r = gate([old], [pod('web-new', 'h2', NIGHTLY)], T('2026-03-10T12:00:00Z'));
    expect(r.run).toEqual([]);
    expect(r.deferred).toEqual([
      {
        app: 'web',
        reason: 'update-window',
        since: '2026-03-10T12:00:00.000Z',
        until: '2026-03-11T02:00:00.000Z',
        message: 'update waits for window 0 2 * * * (2h, UTC), next at 2026-03-11T02:00:00.000Z',
      },
    ]);
    expect(r.wakeAt).toBe(T('2026-03-11T02:00:00Z'));
    expect(r.holds.get('web')).toEqual({ reason: 'update-window', since: T('2026-03-10T12:00:00Z') });
  });

  it('holds the surge pod of a rolling update (old and new listed side by side) outside the window', () => {
    const old = running('web-old', 'h1');
    const target = [pod('web-old', 'h1', NIGHTLY), pod('web-new', 'h2', NIGHTLY)];
    const r = gate([old], target, T('2026-03-10T12:00:00Z'));
    expect(r.run).toEqual([]);
    expect(r.deferred.map((d) => d.reason)).toEqual(['update-window']);
    expect(short(gate([old], target, T('2026-03-11T02:30:00Z')).run)).toEqual(['start web-new']);
    // Once the new pod runs, the old one's removal is not an update waiting for a window any more.
    const fresh = running('web-new', 'h2');
    expect(short(gate([old, fresh], [pod('web-new', 'h2', NIGHTLY)], T('2026-03-11T05:00:00Z')).run)).toEqual([`remove ${old.id}`]);
  });

  it('lets the update through inside the window', () => {
    const old = running('web-old', 'h1');
    const r = gate([old], [pod('web-new', 'h2', NIGHTLY)], T('2026-03-11T03:59:00Z'));
    expect(short(r.run)).toEqual([`remove ${old.id}`, 'start web-new']);
    expect(r.deferred).toEqual([]);
    expect(r.holds.size).toBe(0);
  });

  it('keeps `since` across rounds', () => {
    const old = running('web-old', 'h1');
    const holds = new Map<string, Hold>([['web', { reason: 'update-window', since: T('2026-03-10T08:00:00Z') }]]);
    const r = gate([old], [pod('web-new', 'h2', NIGHTLY)], T('2026-03-10T12:00:00Z'), { holds });
    expect(r.deferred[0]?.since).toBe('2026-03-10T08:00:00.000Z');
  });

  it('never holds a first install, a scale-up on the current revision, a crash restart or a deletion', () => {
    const noon = T('2026-03-10T12:00:00Z');
    expect(short(gate([], [pod('web-a', 'h1', NIGHTLY)], noon).run)).toEqual(['start web-a']);
    const a = running('web-a', 'h1');
    expect(short(gate([a], [pod('web-a', 'h1', NIGHTLY), pod('web-b', 'h1', NIGHTLY)], noon).run)).toEqual(['start web-b']);
    const crashed = running('web-a', 'h1', 'exited');
    expect(short(gate([crashed], [pod('web-a', 'h1', NIGHTLY)], noon).run)).toEqual([`restart web-a`]);
    expect(short(gate([a], [], noon).run)).toEqual([`remove ${a.id}`]);
  });

  it('holds only the app with the closed window', () => {
    const noon = T('2026-03-10T12:00:00Z');
    const web = running('web-old', 'h1');
    const db = running('db-old', 'd1', 'running', 'db');
    const r = gate([web, db], [pod('web-new', 'h2', NIGHTLY), pod('db-new', 'd2', undefined, 'db')], noon);
    expect(short(r.run)).toEqual([`remove ${db.id}`, 'start db-new']);
    expect(r.deferred.map((d) => d.app)).toEqual(['web']);
  });

  it('holds a template change of a same-named pod (remove and start)', () => {
    const old = running('web-a', 'h1');
    const r = gate([old], [pod('web-a', 'h2', NIGHTLY)], T('2026-03-10T12:00:00Z'));
    expect(r.run).toEqual([]);
  });
});

describe('update lock', () => {
  const noon = T('2026-03-10T12:00:00Z');

  it('holds every stop of a running container of a locked app, and the new revision with it', () => {
    const old = running('web-old', 'h1');
    const r = gate([old], [pod('web-new', 'h2')], noon, { lockedApps: new Set(['web']) });
    expect(r.run).toEqual([]);
    expect(r.deferred).toEqual([
      { app: 'web', reason: 'update-lock', since: '2026-03-10T12:00:00.000Z', until: '2026-03-10T13:00:00.000Z', message: 'update lock held since 2026-03-10T12:00:00.000Z (at most until 2026-03-10T13:00:00.000Z)' },
    ]);
    expect(r.wakeAt).toBe(T('2026-03-10T13:00:00Z'));
  });

  it('never holds the deletion of the app from the node, though the lock is held', () => {
    const old = running('web-old', 'h1');
    const other = running('db-a', 'd1', 'running', 'db');
    const holds = new Map<string, Hold>([['web', { reason: 'update-lock', since: noon - 60_000 }]]);
    const r = gate([old, other], [pod('db-a', 'd1', undefined, 'db')], noon, { lockedApps: new Set(['web']), holds });
    expect(short(r.run)).toEqual([`remove ${old.id}`]);
    expect(r.deferred).toEqual([]);
    expect(r.holds.size).toBe(0);
    expect(r.wakeAt).toBeUndefined();
    // A scale-down (the app stays) still waits for the lock.
    const b = running('web-b', 'h1');
    expect(gate([old, b], [pod('web-b', 'h1')], noon, { lockedApps: new Set(['web']) }).run).toEqual([]);
  });

  it('holds the surge pod of a rolling update while the lock is held', () => {
    const old = running('web-old', 'h1');
    const target = [pod('web-old', 'h1'), pod('web-new', 'h2')];
    const r = gate([old], target, T('2026-03-10T12:00:00Z'), { lockedApps: new Set(['web']) });
    expect(r.run).toEqual([]);
    expect(r.deferred.map((d) => d.reason)).toEqual(['update-lock']);
    expect(short(gate([old], target, T('2026-03-10T12:00:00Z')).run)).toEqual(['start web-new']);
    // The new revision runs (and took the app's lock again): retiring the old one goes ahead.
    const fresh = running('web-new', 'h2');
    const retire = gate([old, fresh], [pod('web-new', 'h2')], T('2026-03-10T12:05:00Z'), { lockedApps: new Set(['web']) });
    expect(short(retire.run)).toEqual([`remove ${old.id}`]);
  });

  it('goes ahead once released', () => {
    const old = running('web-old', 'h1');
    const holds = new Map<string, Hold>([['web', { reason: 'update-lock', since: noon - 60_000 }]]);
    const r = gate([old], [pod('web-new', 'h2')], noon, { holds });
    expect(short(r.run)).toEqual([`remove ${old.id}`, 'start web-new']);
    expect(r.holds.size).toBe(0);
  });

  it('goes ahead when the maximum has passed, though the lock is still held', () => {
    const old = running('web-old', 'h1');
    const holds = new Map<string, Hold>([['web', { reason: 'update-lock', since: noon - 600_000 }]]);
    const r = gate([old], [pod('web-new', 'h2', { 'grove.io/update-lock-max': '600s' })], noon, { holds, lockedApps: new Set(['web']) });
    expect(short(r.run)).toEqual([`remove ${old.id}`, 'start web-new']);
    expect(r.deferred).toEqual([]);
    const almost = gate([old], [pod('web-new', 'h2', { 'grove.io/update-lock-max': '601s' })], noon, { holds, lockedApps: new Set(['web']) });
    expect(almost.run).toEqual([]);
  });

  it('is ignored with lockMaxSeconds 0, and never holds starts of a first install or a crashed container', () => {
    const old = running('web-old', 'h1');
    expect(short(gate([old], [pod('web-new', 'h2', { 'grove.io/update-lock-max': '0' })], noon, { lockedApps: new Set(['web']) }).run)).toEqual([`remove ${old.id}`, 'start web-new']);
    expect(short(gate([], [pod('web-a', 'h1')], noon, { lockedApps: new Set(['web']) }).run)).toEqual(['start web-a']);
    const crashed = running('web-a', 'h1', 'exited');
    expect(short(gate([crashed], [pod('web-a', 'h1')], noon, { lockedApps: new Set(['web']) }).run)).toEqual(['restart web-a']);
  });

  it('a closed window wins over the lock (reported once, as the window)', () => {
    const old = running('web-old', 'h1');
    const r = gate([old], [pod('web-new', 'h2', NIGHTLY)], noon, { lockedApps: new Set(['web']) });
    expect(r.deferred.map((d) => d.reason)).toEqual(['update-window']);
  });
});
