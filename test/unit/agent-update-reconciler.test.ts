import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { MemoryUpdateLocks } from '../../agent/src/agent/update-locks.js';
import { silentLogger } from '../../src/core/logger.js';
import { container, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

/** `update`: the pod's grove.io/update-* annotations. */
function pod(name: string, app: string, hash: string, update?: Record<string, string>): WirePodTarget {
  return podTarget(name, { app, hash, ...(update ? { annotations: update } : {}), containers: [container('main', { image: `img:${hash}` })] });
}

/** A runtime whose stop() of chosen containers hangs until released (a long grace). */
class SlowStopRuntime extends MemoryRuntime {
  readonly hanging = new Map<string, () => void>();
  slowApps = new Set<string>();
  override async stop(id: string, graceSeconds: number): Promise<void> {
    const c = (await this.list()).find((x) => x.id === id);
    if (c && this.slowApps.has(c.labels['grove.app'])) await new Promise<void>((resolve) => this.hanging.set(id, resolve));
    return super.stop(id, graceSeconds);
  }
}

function setup(start = Date.parse('2026-03-10T12:00:00Z')) {
  const clock = new ManualClock(start);
  const runtime = new SlowStopRuntime({ now: () => clock.now() });
  const locks = new MemoryUpdateLocks();
  const reports: StatusReport[] = [];
  const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, locks, timeZone: 'UTC', onStatus: (r) => reports.push(r) });
  return { clock, runtime, locks, reconciler, reports };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

async function settle(reconciler: Reconciler): Promise<void> {
  await flush();
  await reconciler.idle();
}

const images = async (runtime: MemoryRuntime) => (await runtime.list()).map((c) => `${c.name}@${c.image}`);

describe('Reconciler: update windows and locks', () => {
  it('defers an update until its window opens, reports it, then applies it on time', async () => {
    const { clock, runtime, reconciler, reports } = setup(Date.parse('2026-03-10T01:59:00Z'));
    const window = { 'grove.io/update-window': '0 2 * * *', 'grove.io/update-window-duration': '600s', 'grove.io/update-window-timezone': 'UTC' };
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', 'web', 'h1', window)] });
    await reconciler.setTarget({ revision: 2, pods: [pod('web-b', 'web', 'h2', window)] });
    expect(await images(runtime)).toEqual(['web-a_main@img:h1']);
    expect(reports.at(-1)?.deferred).toEqual([expect.objectContaining({ app: 'web', reason: 'update-window', until: '2026-03-10T02:00:00.000Z' })]);
    // The waiting pod says why it waits.
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'waiting', reason: 'UpdateDeferred', message: expect.stringMatching(/^update waits for window 0 2 \* \* \* \(10m, UTC\)/) });
    clock.advance(60_000);
    await settle(reconciler);
    expect(await images(runtime)).toEqual(['web-b_main@img:h2']);
    expect(reports.at(-1)?.deferred).toBeUndefined();
  });

  it('defers a stop while the lock is held and goes through as soon as it is released', async () => {
    const { runtime, locks, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', 'web', 'h1')] });
    locks.hold('web');
    await reconciler.setTarget({ revision: 2, pods: [pod('web-b', 'web', 'h2')] });
    expect(await images(runtime)).toEqual(['web-a_main@img:h1']);
    expect(reports.at(-1)?.deferred?.[0]).toMatchObject({ app: 'web', reason: 'update-lock', until: '2026-03-10T13:00:00.000Z' });
    const runsBefore = reconciler.runs;
    locks.release('web'); // the watch triggers a reconcile at once, no poll needed
    await settle(reconciler);
    expect(reconciler.runs).toBeGreaterThan(runsBefore);
    expect(await images(runtime)).toEqual(['web-b_main@img:h2']);
    expect(reports.at(-1)?.deferred).toBeUndefined();
  });

  it('deletes an app at once although it holds its lock, and forgets the lock of the app that left', async () => {
    const { runtime, locks, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', 'web', 'h1'), pod('db-a', 'db', 'd1')] });
    locks.hold('web');
    await reconciler.setTarget({ revision: 2, pods: [pod('db-a', 'db', 'd1')] });
    await settle(reconciler);
    expect(await images(runtime)).toEqual(['db-a_main@img:d1']);
    expect(runtime.stops.map((s) => s.graceSeconds)).toEqual([30]); // a normal stop: SIGTERM, then the grace
    expect(reports.at(-1)?.deferred).toBeUndefined();
    expect(await locks.held('web')).toBe(false);
  });

  it('gives up waiting for a lock at its maximum', async () => {
    const { clock, runtime, locks, reconciler } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', 'web', 'h1', { 'grove.io/update-lock-max': '30s' })] });
    locks.hold('web');
    await reconciler.setTarget({ revision: 2, pods: [pod('web-b', 'web', 'h2', { 'grove.io/update-lock-max': '30s' })] });
    clock.advance(29_000);
    await settle(reconciler);
    expect(await images(runtime)).toEqual(['web-a_main@img:h1']);
    clock.advance(1_000);
    await settle(reconciler);
    expect(await images(runtime)).toEqual(['web-b_main@img:h2']);
  });
});

describe('Reconciler: a long stop does not block other apps', () => {
  it('starts other apps while one app stops slowly; that app is replaced once its stop ends', async () => {
    const { clock, runtime, reconciler } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('slow-a', 'slow', 'h1')] });
    runtime.slowApps.add('slow');
    const applied = reconciler.setTarget({ revision: 2, pods: [pod('slow-b', 'slow', 'h2')] });
    await flush();
    clock.advance(2000); // the executor's wait for removals ends
    await applied;
    // Not stopped yet: the new revision of the same app waits, the loop is free.
    expect(await images(runtime)).toEqual(['slow-a_main@img:h1']);
    await reconciler.setTarget({ revision: 3, pods: [pod('slow-b', 'slow', 'h2'), pod('other-a', 'other', 'o1')] });
    expect(await images(runtime)).toEqual(['slow-a_main@img:h1', 'other-a_main@img:o1']);
    // A second round does not stop the same container again.
    expect(runtime.hanging.size).toBe(1);
    for (const release of runtime.hanging.values()) release();
    await settle(reconciler);
    expect(await images(runtime)).toEqual(['other-a_main@img:o1', 'slow-b_main@img:h2']);
  });
});
