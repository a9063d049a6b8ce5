import { describe, expect, it } from 'vitest';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { planContainers as plan } from '../../agent/src/agent/plan/containers.js';
import { INIT_WATCH_FOR_MS, initEndedDuringRound, initProgress, initWatchAt, runnableContainers } from '../../agent/src/agent/plan/init-order.js';
import type { Failure, Step } from '../../agent/src/agent/plan/steps.js';
import { deriveStatus } from '../../agent/src/agent/status.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';
import { podTarget, type WirePodTarget } from '../support/pod-target.js';

function pod(opts: { policy?: RestartPolicy; inits?: string[]; containers?: string[]; hash?: string } = {}): WirePodTarget {
  return podTarget('web-a', { ...opts, inits: opts.inits ?? ['setup', 'migrate'], containers: opts.containers ?? ['app'] });
}

let nextId = 0;
function mc(container: string, state: ManagedContainer['state'], exitCode: number | null = null, hash = 'h1'): ManagedContainer {
  return {
    id: `id${++nextId}`,
    name: `web-a_${container}`,
    labels: { 'grove.managed': 'agent', 'grove.pod': 'web-a', 'grove.app': 'web', 'grove.container': container, 'grove.template-hash': hash },
    image: `reg.lan/${container}:1`,
    state,
    exitCode: state === 'exited' ? exitCode : null,
    oomKilled: false,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const short = (steps: Step[]): string[] =>
  steps.map((s) =>
    s.type === 'remove-container' ? `remove ${s.reason}` : s.type === 'start-container' ? `start ${s.container.name}` : s.type === 'restart-container' ? `restart ${s.container.name} ${s.reason}` : s.type,
  );

const byName = (list: ManagedContainer[]) => (name: string) => list.find((c) => c.labels['grove.container'] === name);

describe('init order', () => {
  it('starts only the first init container of a fresh pod', () => {
    expect(short(plan([], [pod()]))).toEqual(['start setup']);
  });

  it('waits while an init container runs, then starts the next, then the mains', () => {
    expect(short(plan([mc('setup', 'running')], [pod()]))).toEqual([]);
    expect(short(plan([mc('setup', 'exited', 0)], [pod()]))).toEqual(['start migrate']);
    expect(short(plan([mc('setup', 'exited', 0), mc('migrate', 'exited', 0)], [pod({ containers: ['app', 'side'] })]))).toEqual(['start app', 'start side']);
  });

  it('never removes init container records as not desired, nor runs a completed one again', () => {
    const current = [mc('setup', 'exited', 0), mc('migrate', 'exited', 0), mc('app', 'running')];
    expect(plan(current, [pod()])).toEqual([]);
  });

  it('does not re-run the init containers when a main container restarts, even without their records', () => {
    // The init records are gone (pruned by hand), a main container exited: the pod still lives.
    expect(short(plan([mc('app', 'exited', 1)], [pod()]))).toEqual(['restart app exited']);
  });

  it('runs the init containers again once every container of the pod is gone', () => {
    expect(short(plan([], [pod()]))).toEqual(['start setup']);
    // Records of an older template count for nothing (they are removed).
    expect(short(plan([mc('setup', 'exited', 0, 'old'), mc('app', 'running', null, 'old')], [pod()]))).toEqual([
      'remove template-changed',
      'remove template-changed',
      'start setup',
    ]);
  });

  it('restarts a failed init container under Always and OnFailure, not under Never', () => {
    expect(short(plan([mc('setup', 'exited', 1)], [pod({ policy: 'Always' })]))).toEqual(['restart setup exited']);
    expect(short(plan([mc('setup', 'exited', 1)], [pod({ policy: 'OnFailure' })]))).toEqual(['restart setup failed']);
    expect(plan([mc('setup', 'exited', 1)], [pod({ policy: 'Never' })])).toEqual([]);
    const failed = initProgress(pod({ policy: 'Never' }), byName([mc('setup', 'exited', 1)]));
    expect(failed).toEqual({ completed: 0, total: 2, initialised: false, failed: true });
  });

  it('respects the planner hold (backoff) for init containers', () => {
    expect(plan([mc('setup', 'exited', 1)], [pod()], { held: (p, c) => p === 'web-a' && c === 'setup' })).toEqual([]);
  });

  it('a pod without init containers is planned as before', () => {
    const p = pod({ inits: [] });
    expect(runnableContainers(p, () => undefined)).toBe(p.spec.containers);
    expect(short(plan([], [p]))).toEqual(['start app']);
  });

  it('asks for another round when an init container ended during this one', () => {
    const p = pod();
    const steps: Step[] = [{ type: 'start-container', pod: p, container: p.spec.initContainers![0]! }];
    expect(initEndedDuringRound(steps, [mc('setup', 'exited', 0)])).toBe(true);
    expect(initEndedDuringRound(steps, [mc('setup', 'running')])).toBe(false);
    expect(initEndedDuringRound(steps, [mc('setup', 'exited', 2)])).toBe(false);
    expect(initEndedDuringRound([{ type: 'start-container', pod: p, container: p.spec.containers[0]! }], [mc('app', 'exited', 0)])).toBe(false);
  });
});

describe('initWatchAt', () => {
  const now = Date.parse('2025-01-01T00:00:10.000Z');
  const started = (c: ManagedContainer, at: string): ManagedContainer => ({ ...c, startedAt: at });

  it('looks again in a second while a freshly started init container runs', () => {
    expect(initWatchAt([pod()], [started(mc('setup', 'running'), '2025-01-01T00:00:05.000Z')], now)).toBe(now + 1000);
  });

  it('leaves long-running init containers, main containers and pods without inits to the poll', () => {
    const longAgo = new Date(now - INIT_WATCH_FOR_MS - 1).toISOString();
    expect(initWatchAt([pod()], [started(mc('setup', 'running'), longAgo)], now)).toBeUndefined();
    expect(initWatchAt([pod()], [mc('setup', 'exited', 0), started(mc('app', 'running'), '2025-01-01T00:00:09.000Z')], now)).toBeUndefined();
    expect(initWatchAt([pod({ inits: [] })], [started(mc('app', 'running'), '2025-01-01T00:00:09.000Z')], now)).toBeUndefined();
  });
});

describe('init container status', () => {
  const none = () => undefined;

  it('is Pending with main containers PodInitializing while the inits run', () => {
    const [s] = deriveStatus([pod()], [mc('setup', 'exited', 0), mc('migrate', 'running')], none);
    expect(s).toMatchObject({ phase: 'Pending', ready: false });
    expect(s!.initContainers!.map((c) => [c.name, c.state, c.reason])).toEqual([
      ['setup', 'exited', 'Completed'],
      ['migrate', 'running', undefined],
    ]);
    expect(s!.containers).toEqual([{ name: 'app', state: 'waiting', reason: 'PodInitializing', oomKilled: false, restarts: 0 }]);
  });

  it('fails the pod when an init container fails under Never', () => {
    const [s] = deriveStatus([pod({ policy: 'Never' })], [mc('setup', 'exited', 3)], none);
    expect(s!.phase).toBe('Failed');
    expect(s!.initContainers![0]).toMatchObject({ state: 'exited', reason: 'Error', exitCode: 3 });
  });

  it('shows the crash-loop backoff of a failing init container', () => {
    const failure: Failure = { work: { kind: 'container', pod: 'web-a', container: 'setup' }, reason: 'CrashLoopBackOff', message: 'back-off 10s', failures: 1, retryAt: 1 };
    const [s] = deriveStatus([pod()], [mc('setup', 'exited', 1)], (w) => (w.pod === 'web-a' && w.container === 'setup' ? failure : undefined));
    expect(s!.phase).toBe('Pending');
    expect(s!.initContainers![0]).toMatchObject({ reason: 'CrashLoopBackOff', message: 'back-off 10s' });
  });

  it('a completed init container reads Completed even after an earlier crash loop (Always acts as OnFailure)', () => {
    const failure: Failure = { work: { kind: 'container', pod: 'web-a', container: 'setup' }, reason: 'CrashLoopBackOff', message: 'back-off 10s', failures: 1, retryAt: 1 };
    const [s] = deriveStatus([pod()], [mc('setup', 'exited', 0), mc('migrate', 'exited', 0), mc('app', 'running')], () => failure);
    expect(s!.initContainers!.map((c) => c.reason)).toEqual(['Completed', 'Completed']);
    expect(s).toMatchObject({ phase: 'Running', ready: true });
  });

  it('pods without init containers report no initContainers', () => {
    const [s] = deriveStatus([pod({ inits: [] })], [mc('app', 'running')], none);
    expect(s).not.toHaveProperty('initContainers');
  });
});
