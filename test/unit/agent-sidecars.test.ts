import { describe, expect, it } from 'vitest';
import { managedLabels, type ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { planContainers as plan } from '../../agent/src/agent/plan/containers.js';
import { initProgress, initWatchAt, mainsFinished, runnableContainers } from '../../agent/src/agent/plan/init-order.js';
import type { Step } from '../../agent/src/agent/plan/steps.js';
import { deriveStatus } from '../../agent/src/agent/status.js';
import type { Container } from '../../src/core/objects/pod-container.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';
import { podTarget, type WirePodTarget } from '../support/pod-target.js';

const sidecar = (name: string, extra: Partial<Container> = {}): Container => ({ name, image: `reg.lan/${name}:1`, restartPolicy: 'Always', ...extra });
const init = (name: string): Container => ({ name, image: `reg.lan/${name}:1` });

/** setup (plain init), log (sidecar), migrate (plain init), then app. */
function pod(opts: { policy?: RestartPolicy; log?: Partial<Container>; hash?: string } = {}): WirePodTarget {
  return podTarget('web-a', { policy: opts.policy, hash: opts.hash, inits: [init('setup'), sidecar('log', opts.log), init('migrate')], containers: ['app'] });
}

let nextId = 0;
function mc(p: WirePodTarget, container: string, state: ManagedContainer['state'], exitCode: number | null = null): ManagedContainer {
  const spec = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((c) => c.name === container)!;
  return {
    id: `${container}-${++nextId}`,
    name: `web-a_${container}`,
    labels: managedLabels(p, spec) as ManagedContainer['labels'],
    image: spec.image,
    state,
    exitCode: state === 'exited' ? exitCode : null,
    oomKilled: false,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const short = (steps: Step[]): string[] =>
  steps.map((s) =>
    s.type === 'remove-container'
      ? `remove ${s.name.split('_')[1]} ${s.reason}`
      : s.type === 'stop-container'
        ? `stop ${s.container} ${s.reason}`
        : s.type === 'start-container'
          ? `start ${s.container.name}`
          : s.type === 'restart-container'
            ? `restart ${s.container.name} ${s.reason}`
            : s.type,
  );

const byName = (list: ManagedContainer[]) => (name: string) => list.find((c) => c.labels['grove.container'] === name);

describe('native sidecars: start order', () => {
  it('starts a sidecar in its place among the init containers without waiting for it to end', () => {
    const p = pod();
    expect(short(plan([mc(p, 'setup', 'exited', 0)], [p]))).toEqual(['start log']);
    // The sidecar runs (no startup probe): the next init container starts beside it.
    expect(short(plan([mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running')], [p]))).toEqual(['start migrate']);
    expect(short(plan([mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running'), mc(p, 'migrate', 'exited', 0)], [p]))).toEqual(['start app']);
  });

  it('waits for the startup probe of a sidecar that has one', () => {
    const p = pod({ log: { startupProbe: { exec: { command: ['true'] } } } });
    const current = [mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running')];
    const log = current[1]!.id;
    expect(short(plan(current, [p]))).toEqual([]);
    expect(short(plan(current, [p], { started: (id) => (id === log ? false : undefined) }))).toEqual([]);
    expect(short(plan(current, [p], { started: (id) => id === log }))).toEqual(['start migrate']);
    expect(initProgress(p, byName(current), (id) => id === log)).toEqual({ completed: 2, total: 3, initialised: false, failed: false });
  });

  it('restarts a sidecar that exits, whatever the pod policy, during and after initialisation', () => {
    const p = pod({ policy: 'Never' });
    expect(short(plan([mc(p, 'setup', 'exited', 0), mc(p, 'log', 'exited', 0), mc(p, 'migrate', 'running')], [p]))).toEqual(['restart log exited']);
    expect(short(plan([mc(p, 'setup', 'exited', 0), mc(p, 'log', 'exited', 1), mc(p, 'migrate', 'exited', 0), mc(p, 'app', 'running')], [p]))).toEqual(['restart log exited']);
  });

  it('keeps the sidecar among the runnable containers once the pod runs', () => {
    const p = pod();
    const current = [mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running'), mc(p, 'migrate', 'exited', 0), mc(p, 'app', 'running')];
    expect(runnableContainers(p, byName(current)).map((c) => c.name)).toEqual(['log', 'app']);
    expect(plan(current, [p])).toEqual([]);
  });

  it('does not poll for a running sidecar as for an init container that will end', () => {
    const p = pod();
    const started = { ...mc(p, 'log', 'running'), startedAt: '2025-01-01T00:00:05.000Z' };
    expect(initWatchAt([p], [mc(p, 'setup', 'exited', 0), started], Date.parse('2025-01-01T00:00:10.000Z'))).toBeUndefined();
  });
});

describe('native sidecars: the end of the pod', () => {
  it('stops the sidecars once every main container has finished (a Job pod completes)', () => {
    const p = pod({ policy: 'Never' });
    const current = [mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running'), mc(p, 'migrate', 'exited', 0), mc(p, 'app', 'exited', 0)];
    expect(mainsFinished(p, byName(current))).toBe(true);
    expect(short(plan(current, [p]))).toEqual(['stop log pod-finished']);
    // Stopped: it stays stopped, and is not restarted.
    const stopped = current.map((c) => (c.labels['grove.container'] === 'log' ? { ...c, state: 'exited' as const, exitCode: 143 } : c));
    expect(plan(stopped, [p])).toEqual([]);
    const status = deriveStatus([p], stopped, () => undefined)[0]!;
    expect(status.phase).toBe('Succeeded');
    expect(status.initContainers?.find((c) => c.name === 'log')?.state).toBe('exited');
  });

  it('keeps the sidecars while a main container will still be restarted', () => {
    const p = pod({ policy: 'OnFailure' });
    const current = [mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running'), mc(p, 'migrate', 'exited', 0), mc(p, 'app', 'exited', 1)];
    expect(mainsFinished(p, byName(current))).toBe(false);
    expect(short(plan(current, [p]))).toEqual(['restart app failed']);
  });

  it('removes a leaving pod\'s sidecars only after its main containers', () => {
    const p = pod();
    const current = [mc(p, 'setup', 'exited', 0), mc(p, 'log', 'running'), mc(p, 'migrate', 'exited', 0), mc(p, 'app', 'running')];
    expect(short(plan(current, []))).toEqual(['remove app not-desired', 'remove migrate not-desired', 'remove setup not-desired']);
    const mainsGone = current.filter((c) => c.labels['grove.container'] === 'log');
    expect(short(plan(mainsGone, []))).toEqual(['remove log not-desired']);
    // The same on a template change: the old pod's sidecar outlives its old mains.
    const next = pod({ hash: 'h2' });
    expect(short(plan(current, [next]))).toEqual(['remove app template-changed', 'remove migrate template-changed', 'remove setup template-changed', 'start setup']);
  });

  it('labels sidecar containers, so the order holds once the pod left the target', () => {
    const p = pod();
    expect(managedLabels(p, p.spec.initContainers![1]!)['grove.sidecar']).toBe('true');
    expect(managedLabels(p, p.spec.initContainers![0]!)['grove.sidecar']).toBeUndefined();
  });
});
