import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { Reconciler } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const pod = (name: string): WirePodTarget => podTarget(name, { app: 'app', containers: [podContainer('main', { image: 'reg.lan/app:1' })] });

/** A MemoryRuntime that records the pod clean-ups the reconciler asks for. */
class SyncingRuntime extends MemoryRuntime {
  readonly synced: { target: string[]; current: string[] }[] = [];
  async syncPods(target: readonly WirePodTarget[], current: readonly ManagedContainer[]): Promise<void> {
    this.synced.push({ target: target.map((p) => p.name), current: current.map((c) => c.name) });
  }
}

describe('Reconciler: pod volume clean-up (runtime.syncPods)', () => {
  it('runs after a reconcile only when the pods with a target or a container change', async () => {
    const clock = new ManualClock();
    const runtime = new SyncingRuntime({ now: () => clock.now() });
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: () => undefined });
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    expect(runtime.synced).toEqual([{ target: ['web-a'], current: ['web-a_main'] }]);
    await reconciler.trigger('poll');
    await reconciler.setTarget({ revision: 2, pods: [pod('web-a')] });
    expect(runtime.synced).toHaveLength(1);
    // The pod goes: its container is removed in the same reconcile, then its directories may go.
    await reconciler.setTarget({ revision: 3, pods: [] });
    expect(runtime.synced.at(-1)).toEqual({ target: [], current: [] });
  });
});
