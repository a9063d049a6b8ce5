import { describe, expect, it } from 'vitest';
import { STOP_GRACE_LABEL, stopGraceLabels, stopGraceOf, type ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { planContainers as plan, type ContainerStep as Step } from '../../agent/src/agent/plan/containers.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';
import { podTarget, type WirePodTarget } from '../support/pod-target.js';

function pod(name: string, opts: { hash?: string; policy?: RestartPolicy; containers?: string[]; grace?: number } = {}): WirePodTarget {
  return podTarget(name, opts);
}

let nextId = 0;
function mc(
  podName: string,
  container: string,
  opts: { id?: string; hash?: string; state?: ManagedContainer['state']; exitCode?: number | null; createdAt?: string } = {},
): ManagedContainer {
  const state = opts.state ?? 'running';
  return {
    id: opts.id ?? `id${++nextId}`,
    name: `${podName}_${container}`,
    labels: {
      'grove.managed': 'agent',
      'grove.pod': podName,
      'grove.app': podName.split('-')[0] as string,
      'grove.container': container,
      'grove.template-hash': opts.hash ?? 'h1',
    },
    image: `reg.lan/${container}:1`,
    state,
    exitCode: state === 'exited' ? (opts.exitCode === undefined ? 0 : opts.exitCode) : null,
    oomKilled: false,
    createdAt: opts.createdAt ?? '2025-01-01T00:00:00.000Z',
  };
}

/** Steps with pods and containers reduced to names, for readable exact assertions. */
function short(steps: Step[]): string[] {
  return steps.map((s) => {
    if (s.type === 'remove-container') return `remove ${s.id} ${s.reason}`;
    if (s.type === 'start-container') return `start ${s.pod.name}/${s.container.name}`;
    if (s.type === 'restart-container') return `restart ${s.id} ${s.pod.name}/${s.container.name} ${s.reason}`;
    return s.type;
  });
}

describe('plan', () => {
  it('does nothing with nothing running and nothing desired', () => {
    expect(plan([], [])).toEqual([]);
  });

  it('starts every desired container in target order', () => {
    const web = pod('web-a', { containers: ['app', 'sidecar'] });
    const db = pod('db-a');
    const steps = plan([], [web, db]);
    expect(steps).toEqual([
      { type: 'start-container', pod: web, container: web.spec.containers[0] },
      { type: 'start-container', pod: web, container: web.spec.containers[1] },
      { type: 'start-container', pod: db, container: db.spec.containers[0] },
    ]);
  });

  it('leaves running desired containers alone', () => {
    expect(plan([mc('web-a', 'main', { id: 'a' }), mc('db-a', 'main', { id: 'b' })], [pod('web-a'), pod('db-a')])).toEqual([]);
  });

  it('removes containers of pods that are no longer desired', () => {
    expect(plan([mc('web-a', 'main', { id: 'a' })], [])).toEqual([{ type: 'remove-container', id: 'a', name: 'web-a_main', app: 'web', reason: 'not-desired' }]);
  });

  it('replaces a container whose template hash changed (same pod name): remove first, then start', () => {
    const web = pod('web-a', { hash: 'h2' });
    expect(plan([mc('web-a', 'main', { id: 'a', hash: 'h1' })], [web])).toEqual([
      { type: 'remove-container', id: 'a', name: 'web-a_main', app: 'web', reason: 'template-changed' },
      { type: 'start-container', pod: web, container: web.spec.containers[0] },
    ]);
  });

  it('rolls a pod to a new name: removes the old one and starts the new one', () => {
    expect(short(plan([mc('web-old', 'main', { id: 'a' })], [pod('web-new', { hash: 'h2' })]))).toEqual([
      'remove a not-desired',
      'start web-new/main',
    ]);
  });

  it('starts only the missing container of a partly running pod', () => {
    expect(short(plan([mc('web-a', 'app', { id: 'a' })], [pod('web-a', { containers: ['app', 'sidecar'] })]))).toEqual([
      'start web-a/sidecar',
    ]);
  });

  it('restarts an exited container under restartPolicy Always, whatever its exit code', () => {
    const current = [mc('web-a', 'main', { id: 'a', state: 'exited', exitCode: 0 }), mc('db-a', 'main', { id: 'b', state: 'exited', exitCode: 2 })];
    expect(short(plan(current, [pod('web-a'), pod('db-a')]))).toEqual(['restart a web-a/main exited', 'restart b db-a/main exited']);
  });

  it('restarts under OnFailure only after a non-zero or unknown exit code', () => {
    const current = [
      mc('job-a', 'main', { id: 'ok', state: 'exited', exitCode: 0 }),
      mc('job-b', 'main', { id: 'bad', state: 'exited', exitCode: 1 }),
      mc('job-c', 'main', { id: 'lost', state: 'exited', exitCode: null }),
    ];
    const target = ['job-a', 'job-b', 'job-c'].map((n) => pod(n, { policy: 'OnFailure' }));
    expect(short(plan(current, target))).toEqual(['restart bad job-b/main failed', 'restart lost job-c/main failed']);
  });

  it('never restarts under restartPolicy Never', () => {
    const current = [mc('job-a', 'main', { id: 'a', state: 'exited', exitCode: 0 }), mc('job-b', 'main', { id: 'b', state: 'exited', exitCode: 137 })];
    expect(plan(current, [pod('job-a', { policy: 'Never' }), pod('job-b', { policy: 'Never' })])).toEqual([]);
  });

  it('restarts a half-created container even under Never (it never ran)', () => {
    expect(short(plan([mc('job-a', 'main', { id: 'a', state: 'created' })], [pod('job-a', { policy: 'Never' })]))).toEqual([
      'restart a job-a/main not-started',
    ]);
  });

  it('removes a container that left the pod spec', () => {
    expect(short(plan([mc('web-a', 'main', { id: 'a' }), mc('web-a', 'old', { id: 'b' })], [pod('web-a')]))).toEqual([
      'remove b not-desired',
    ]);
  });

  it('keeps one of duplicates: running beats exited, newer beats older', () => {
    const current = [
      mc('web-a', 'main', { id: 'old', createdAt: '2025-01-01T00:00:00Z' }),
      mc('web-a', 'main', { id: 'new', createdAt: '2025-01-02T00:00:00Z' }),
      mc('db-a', 'main', { id: 'dead', state: 'exited', exitCode: 1, createdAt: '2025-01-03T00:00:00Z' }),
      mc('db-a', 'main', { id: 'live', createdAt: '2025-01-01T00:00:00Z' }),
    ];
    expect(short(plan(current, [pod('web-a'), pod('db-a')]))).toEqual(['remove dead duplicate', 'remove old duplicate']);
  });

  it('holds back starts and restarts in backoff, but not removals', () => {
    const current = [mc('web-a', 'main', { id: 'a', state: 'exited', exitCode: 1 }), mc('gone-a', 'main', { id: 'g' })];
    const target = [pod('web-a'), pod('api-a')];
    const held = (pod: string, c: string): boolean => `${pod}/${c}` === 'web-a/main' || `${pod}/${c}` === 'api-a/main';
    expect(short(plan(current, target, { held }))).toEqual(['remove g not-desired']);
    expect(short(plan(current, target, { held: (pod) => pod === 'api-a' }))).toEqual(['remove g not-desired', 'restart a web-a/main exited']);
  });

  it('orders removals by pod, container and age, then starts in target order, then restarts', () => {
    const current = [
      mc('zeta-a', 'main', { id: 'z' }),
      mc('web-a', 'main', { id: 'w-exited', state: 'exited', exitCode: 3 }),
      mc('alpha-a', 'b', { id: 'ab' }),
      mc('alpha-a', 'a', { id: 'aa' }),
      mc('api-a', 'main', { id: 'api', hash: 'old' }),
    ];
    const target = [pod('web-a'), pod('new-a'), pod('api-a', { hash: 'h9' })];
    const expected = [
      'remove aa not-desired',
      'remove ab not-desired',
      'remove api template-changed',
      'remove z not-desired',
      'start new-a/main',
      'start api-a/main',
      'restart w-exited web-a/main exited',
    ];
    expect(short(plan(current, target))).toEqual(expected);
    // Deterministic whatever order the runtime listed the containers in.
    expect(short(plan([...current].reverse(), target))).toEqual(expected);
  });

  it('uses the first of repeated pod names and container names in a target', () => {
    const first = pod('web-a', { containers: ['main', 'main'] });
    const second = pod('web-a', { hash: 'other' });
    expect(plan([], [first, second])).toEqual([{ type: 'start-container', pod: first, container: first.spec.containers[0] }]);
  });

  it('does not mutate its inputs', () => {
    const current = [mc('web-a', 'main', { id: 'a', state: 'exited' }), mc('x-a', 'main', { id: 'x' })];
    const target = [pod('web-a'), pod('y-a')];
    const snapshot = JSON.stringify({ current, target });
    plan(current, target);
    expect(JSON.stringify({ current, target })).toBe(snapshot);
  });

  it('gives a removal the stop grace recorded on its container, and none when absent or invalid', () => {
    const labelled = (id: string, value: string): ManagedContainer => {
      const c = mc('old-a', 'main', { id });
      c.labels[STOP_GRACE_LABEL] = value;
      return c;
    };
    const current = [labelled('g45', '45'), labelled('g0', '0'), mc('old-b', 'main', { id: 'none' }), labelled('bad', '99999'), labelled('neg', '-1')];
    const removes = plan(current, []).filter((s): s is Extract<Step, { type: 'remove-container' }> => s.type === 'remove-container');
    expect(Object.fromEntries(removes.map((s) => [s.id, s.graceSeconds]))).toEqual({ g45: 45, g0: 0, none: undefined, bad: undefined, neg: undefined });
    expect(removes.find((s) => s.id === 'none')).not.toHaveProperty('graceSeconds');
  });
});

describe('stop grace labels', () => {
  it('records terminationGracePeriodSeconds only when the pod sets it', () => {
    expect(stopGraceLabels(pod('web-a', { grace: 0 }))).toEqual({ [STOP_GRACE_LABEL]: '0' });
    expect(stopGraceLabels(pod('web-a'))).toEqual({});
  });

  it('reads back only integers in 0..3600', () => {
    const with_ = (v: string): ManagedContainer => {
      const c = mc('web-a', 'main');
      c.labels[STOP_GRACE_LABEL] = v;
      return c;
    };
    expect(['3600', '7', '3601', '1.5', '', ' 5', 'abc'].map((v) => stopGraceOf(with_(v)))).toEqual([3600, 7, undefined, undefined, undefined, undefined, undefined]);
    expect(stopGraceOf(mc('web-a', 'main'))).toBeUndefined();
  });
});
