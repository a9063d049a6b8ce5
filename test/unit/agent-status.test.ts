import { describe, expect, it } from 'vitest';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import type { ContainerWork, Failure } from '../../agent/src/agent/plan/steps.js';
import { deepEqual, deriveStatus } from '../../agent/src/agent/status.js';
import { container, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

function pod(name: string, containers: string[] = ['main'], policy: RestartPolicy = 'Always', hash = 'h1'): WirePodTarget {
  return podTarget(name, { app: 'app', hash, policy, containers: containers.map((c) => container(c, { image: 'img:1' })) });
}

function mc(p: string, c: string, state: ManagedContainer['state'], extra: Partial<ManagedContainer> = {}): ManagedContainer {
  return {
    id: `${p}-${c}-${state}`,
    name: `${p}_${c}`,
    labels: { 'grove.managed': 'agent', 'grove.pod': p, 'grove.app': 'app', 'grove.container': c, 'grove.template-hash': 'h1' },
    image: 'img:1',
    state,
    exitCode: null,
    oomKilled: false,
    createdAt: '2025-01-01T00:00:00Z',
    startedAt: '2025-01-01T00:00:01Z',
    ...extra,
  };
}

const none = (): undefined => undefined;
/** Failures by "pod/container", as typed ids. */
const failures = (m: Record<string, Omit<Failure, 'work'>>) => (w: ContainerWork): Failure | undefined => {
  const f = m[`${w.pod}/${w.container}`];
  return f ? { ...f, work: w } : undefined;
};

describe('deriveStatus', () => {
  it('reports a pod with nothing started yet as Pending / ContainerCreating', () => {
    expect(deriveStatus([pod('web-a')], [], none)).toEqual([
      {
        name: 'web-a', namespace: 'default', uid: 'uid-web-a', app: 'app', templateHash: 'h1', phase: 'Pending', ready: false, restarts: 0,
        containers: [{ name: 'main', state: 'waiting', reason: 'ContainerCreating', oomKilled: false, restarts: 0 }],
      },
    ]);
  });

  it('shows a pull failure as the waiting reason with its message', () => {
    const f = failures({ 'web-a/main': { reason: 'ImagePullError', message: 'manifest unknown', failures: 3, retryAt: 1 } });
    const [s] = deriveStatus([pod('web-a')], [], f);
    expect(s?.containers[0]).toEqual({ name: 'main', state: 'waiting', reason: 'ImagePullError', message: 'manifest unknown', oomKilled: false, restarts: 0 });
    expect(s?.phase).toBe('Pending');
  });

  it('is Running and ready when every container runs', () => {
    const [s] = deriveStatus([pod('web-a')], [mc('web-a', 'main', 'running', { restarts: 2, imageDigest: 'sha256:abc' })], none);
    expect(s).toMatchObject({ phase: 'Running', ready: true, restarts: 2 });
    expect(s?.containers[0]).toEqual({ name: 'main', state: 'running', oomKilled: false, restarts: 2, startedAt: '2025-01-01T00:00:01Z', imageDigest: 'sha256:abc' });
  });

  it('is Running but not ready while one of two containers is still coming up', () => {
    const [s] = deriveStatus([pod('web-a', ['app', 'side'])], [mc('web-a', 'app', 'running')], none);
    expect(s).toMatchObject({ phase: 'Running', ready: false });
    expect(s?.containers.map((c) => c.state)).toEqual(['running', 'waiting']);
  });

  it('ends as Succeeded or Failed under Never, by exit code', () => {
    const done = mc('job-a', 'main', 'exited', { exitCode: 0, finishedAt: '2025-01-01T00:01:00Z' });
    const failed = mc('job-b', 'main', 'exited', { exitCode: 2 });
    const out = deriveStatus([pod('job-a', ['main'], 'Never'), pod('job-b', ['main'], 'Never')], [done, failed], none);
    expect(out.map((p) => p.phase)).toEqual(['Succeeded', 'Failed']);
    expect(out[0]?.containers[0]).toEqual({
      name: 'main', state: 'exited', reason: 'Completed', exitCode: 0, oomKilled: false, restarts: 0,
      startedAt: '2025-01-01T00:00:01Z', finishedAt: '2025-01-01T00:01:00Z',
    });
    expect(out[1]?.containers[0]?.reason).toBe('Error');
  });

  it('under OnFailure: exit 0 is Succeeded, a failure to be restarted keeps the pod Running', () => {
    const out = deriveStatus(
      [pod('job-a', ['main'], 'OnFailure'), pod('job-b', ['main'], 'OnFailure')],
      [mc('job-a', 'main', 'exited', { exitCode: 0 }), mc('job-b', 'main', 'exited', { exitCode: 1 })],
      none,
    );
    expect(out.map((p) => [p.phase, p.ready])).toEqual([['Succeeded', false], ['Running', false]]);
  });

  it('says OOMKilled, and CrashLoopBackOff while a crashing container waits for its restart', () => {
    const oom = deriveStatus([pod('web-a', ['main'], 'Never')], [mc('web-a', 'main', 'exited', { exitCode: 137, oomKilled: true })], none);
    expect(oom[0]?.containers[0]).toMatchObject({ reason: 'OOMKilled', oomKilled: true, exitCode: 137 });
    expect(oom[0]?.phase).toBe('Failed');
    const f = failures({ 'web-a/main': { reason: 'CrashLoopBackOff', message: 'back-off restarting web-a/main (exit 1)', failures: 4, retryAt: 1 } });
    const loop = deriveStatus([pod('web-a')], [mc('web-a', 'main', 'exited', { exitCode: 1, restarts: 4 })], f);
    expect(loop[0]).toMatchObject({ phase: 'Running', ready: false, restarts: 4 });
    expect(loop[0]?.containers[0]).toMatchObject({ state: 'exited', reason: 'CrashLoopBackOff', message: 'back-off restarting web-a/main (exit 1)' });
    // A crash-loop record does not make a running container look unhealthy.
    expect(deriveStatus([pod('web-a')], [mc('web-a', 'main', 'running')], f)[0]?.containers[0]?.reason).toBeUndefined();
  });

  it('ignores an instance of an older template that is still being replaced', () => {
    const [s] = deriveStatus([pod('web-a', ['main'], 'Always', 'h2')], [mc('web-a', 'main', 'running')], none);
    expect(s?.containers[0]?.state).toBe('waiting');
    expect(s?.templateHash).toBe('h2');
  });

  it('clips long failure messages to the wire limit', () => {
    const f = failures({ 'web-a/main': { reason: 'ImagePullError', message: 'x'.repeat(10_000), failures: 1, retryAt: 1 } });
    expect(deriveStatus([pod('web-a')], [], f)[0]?.containers[0]?.message).toHaveLength(4096);
  });
});

describe('deepEqual', () => {
  it('compares plain data structurally, ignoring undefined fields', () => {
    expect(deepEqual({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual(undefined, { a: 1 })).toBe(false);
  });
});
