import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import { container, podTarget, type WirePodTarget } from '../support/pod-target.js';

function pod(name: string, secret?: string): WirePodTarget {
  return podTarget(name, {
    app: name,
    containers: [
      container('main', {
        image: secret ? 'reg.lan/uses-secret:1' : 'reg.lan/app:1',
        ...(secret ? { env: [{ name: 'TOKEN', value: '', valueFrom: { secretKeyRef: { name: secret, key: 'token' } } }] } : {}),
      }),
    ],
  });
}

describe('Reconciler and config changes', () => {
  it('retries a pod that failed for lack of a Secret as soon as that Secret arrives, not after its backoff', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: () => undefined });
    // The memory runtime does not read config: an image error stands in for the missing Secret.
    runtime.failImage('reg.lan/uses-secret:1', new Error('Secret "db" not found on this node'));
    const target = { revision: 1, pods: [pod('uses-db', 'db'), pod('plain')] };
    await reconciler.setTarget(target);
    // Fail a few times so the backoff has grown.
    for (let i = 0; i < 3; i++) {
      clock.advance(120_000);
      await reconciler.trigger('retry');
    }
    const starts = () => runtime.calls.filter((c) => c.startsWith('start') && c.includes('uses-db')).length;
    const before = starts();
    expect((await runtime.list()).some((c) => c.name === 'uses-db_main')).toBe(false);

    // An unrelated object changes: the held pod stays held.
    await reconciler.configChanged([{ kind: 'ConfigMap', name: 'other' }]);
    expect(starts()).toBe(before);

    runtime.failImage('reg.lan/uses-secret:1', null);
    await reconciler.trigger('poll');
    expect(starts()).toBe(before); // still held by its backoff
    await reconciler.configChanged([{ kind: 'Secret', name: 'db' }]);
    expect(starts()).toBe(before + 1);
    expect((await runtime.list()).find((c) => c.name === 'uses-db_main')?.state).toBe('running');
    await reconciler.stop();
  });
});
