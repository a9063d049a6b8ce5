import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime, type MemoryBehaviour } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import { container, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

function pod(name: string, image = 'reg.lan/app:1', policy: RestartPolicy = 'Always'): WirePodTarget {
  return podTarget(name, { app: 'app', policy, containers: [container('main', { image })] });
}

function setup(behaviour?: () => MemoryBehaviour) {
  const clock = new ManualClock();
  const runtime = new MemoryRuntime({ now: () => clock.now(), ...(behaviour ? { behaviour } : {}) });
  const reports: StatusReport[] = [];
  const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: (r) => reports.push(r) });
  return { clock, runtime, reconciler, reports };
}

/** Lets timer-triggered (not awaited) reconciles finish. */
async function settle(reconciler: Reconciler): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await reconciler.idle();
}

describe('Reconciler', () => {
  it('touches nothing and reports nothing before a target is known', async () => {
    const { runtime, reconciler, reports } = setup();
    await reconciler.trigger('manual');
    expect(runtime.calls).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('applies a target, reports the status once, and stays quiet while nothing changes', async () => {
    const { runtime, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 3, pods: [pod('web-a'), pod('db-a')] });
    expect((await runtime.list()).map((c) => [c.name, c.state])).toEqual([['web-a_main', 'running'], ['db-a_main', 'running']]);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.observedRevision).toBe(3);
    expect(reports[0]?.pods.map((p) => [p.name, p.phase, p.ready])).toEqual([['web-a', 'Running', true], ['db-a', 'Running', true]]);
    await reconciler.trigger('manual');
    await reconciler.trigger('poll');
    expect(reports).toHaveLength(1);
    // A new revision with the same pods is still news: the server waits for observedRevision.
    await reconciler.setTarget({ revision: 4, pods: [pod('web-a'), pod('db-a')] });
    expect(reports.map((r) => r.observedRevision)).toEqual([3, 4]);
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
  });

  it("removes a deleted pod's container with the pod's terminationGracePeriodSeconds", async () => {
    const { runtime, reconciler } = setup();
    await reconciler.setTarget({ revision: 1, pods: [podTarget('web-a', { app: 'app', grace: 12, containers: [container('main', { image: 'reg.lan/app:1' })] })] });
    const [c] = await runtime.list();
    await reconciler.setTarget({ revision: 2, pods: [] });
    expect(runtime.stops).toEqual([{ id: c?.id, graceSeconds: 12 }]);
    expect(await runtime.list()).toEqual([]);
  });

  it('coalesces triggers: one run in progress, at most one queued', async () => {
    const { runtime, reconciler } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lists = 0;
    const list = runtime.list.bind(runtime);
    runtime.list = async () => {
      lists += 1;
      if (lists === 1) await gate;
      return list();
    };
    const first = reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    const more = [reconciler.trigger('poll'), reconciler.trigger('retry'), reconciler.setTarget({ revision: 2, pods: [pod('web-a'), pod('db-a')] }), reconciler.trigger('manual')];
    // All triggers made during the run share one queued run.
    expect(new Set(more).size).toBe(1);
    release();
    await Promise.all([first, ...more]);
    expect(reconciler.runs).toBe(2);
    // The queued run saw the newest target.
    expect((await runtime.list()).map((c) => c.name).sort()).toEqual(['db-a_main', 'web-a_main']);
  });

  it('notices exits on the poll timer and restarts under Always', async () => {
    const { clock, runtime, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    reconciler.start();
    runtime.exit('web-a_main', 3);
    clock.advance(4999);
    await settle(reconciler);
    expect(runtime.get('web-a_main')?.state).toBe('exited');
    clock.advance(1);
    await settle(reconciler);
    // Seen at the poll; the restart waits the first 10 s of the crash-loop series.
    expect(runtime.get('web-a_main')?.state).toBe('exited');
    clock.advance(10_000);
    await settle(reconciler);
    expect(runtime.get('web-a_main')).toMatchObject({ state: 'running', restarts: 1 });
    expect(reports.at(-1)?.pods[0]).toMatchObject({ phase: 'Running', restarts: 1 });
    await reconciler.stop();
    expect(clock.pending()).toBe(0);
  });

  it('retries a failed pull when its backoff ends, without waiting for the poll', async () => {
    const { clock, runtime, reconciler, reports } = setup();
    runtime.failImage('reg.lan/app:1');
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'waiting', reason: 'ImagePullError' });
    expect(reports.at(-1)?.pods[0]?.phase).toBe('Pending');
    runtime.failImage('reg.lan/app:1', null);
    clock.advance(1000); // the retry timer, not the 5 s poll (not started)
    await settle(reconciler);
    expect(reports.at(-1)?.pods[0]).toMatchObject({ phase: 'Running', ready: true });
    expect(reports).toHaveLength(2);
  });

  it('reports CrashLoopBackOff for a container that keeps exiting', async () => {
    const { clock, runtime, reconciler, reports } = setup(() => ({ exitCode: 1 }));
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'exited', reason: 'Error', exitCode: 1 });
    await reconciler.trigger('poll');
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'exited', reason: 'CrashLoopBackOff', restarts: 0 });
    clock.advance(10_000); // the retry timer restarts it; it exits again and is held for 20 s
    await settle(reconciler);
    expect(runtime.get('web-a_main')?.restarts).toBe(1);
    clock.advance(5000);
    await reconciler.trigger('poll'); // noticed 5 s after the exit: still 20 s from the exit
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'exited', reason: 'CrashLoopBackOff', restarts: 1 });
    clock.advance(14_999);
    await settle(reconciler);
    expect(runtime.get('web-a_main')?.restarts).toBe(1);
    clock.advance(1);
    await settle(reconciler);
    expect(runtime.get('web-a_main')?.restarts).toBe(2);
  });

  it('keeps going when the runtime fails', async () => {
    const { runtime, reconciler, reports } = setup();
    const list = runtime.list.bind(runtime);
    let broken = true;
    runtime.list = async () => {
      if (broken) throw new Error('runc state dir unreadable');
      return list();
    };
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    expect(reports).toEqual([]);
    broken = false;
    await reconciler.trigger('poll');
    expect(reports).toHaveLength(1);
  });

  it('an empty target removes everything it manages', async () => {
    const { runtime, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    await reconciler.setTarget({ revision: 2, pods: [] });
    expect(await runtime.list()).toEqual([]);
    expect(reports.at(-1)).toEqual({ observedRevision: 2, pods: [] });
  });
});
