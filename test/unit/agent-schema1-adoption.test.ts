/**
 * Upgrading an agent in place: a target stored by a 0.1 agent (schema 1) is converted at start
 * and its containers are adopted, and the server's schema-2 target for the same pods restarts
 * nothing. Namespaced pods outside `default` get their own names and labels.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler } from '../../agent/src/agent/reconciler.js';
import { TARGET_KEY } from '../../agent/src/agent/sync-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeAnyNodeTarget } from '../../src/core/wire-target.js';
import { encodeMessage } from '../../src/core/wire-codec.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { PodTarget } from '../../src/core/wire-types.js';
import { ManualClock } from '../support/manual-clock.js';
import { container, podTarget } from '../support/pod-target.js';
import { targetWith } from './wire-fixtures.js';

const FACTS = { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1 << 30, memoryAvailableBytes: 1 << 29, diskFreeBytes: 1 << 30, kernel: '6.6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: 'test', labels: {} };

/** 0.1's target for pod web-1 of app web: one container, 64 MiB, a nightly update window. */
const legacyPod: PodTarget = {
  name: 'web-1',
  app: 'web',
  templateHash: 'abc123',
  restartPolicy: 'Always',
  hostNetwork: false,
  update: { window: { schedule: '0 2 * * *', durationSeconds: 3600 } },
  containers: [{ name: 'main', image: 'reg.lan/web:1', env: [{ name: 'A', value: '1' }], resources: { memoryBytes: 64 * 1024 * 1024 } }],
};

const legacyTarget = () => ({ ...targetWith([legacyPod]), cluster: 'lab', node: 'pi-1' });

function agentOn(store: MemoryStore, runtime: MemoryRuntime): Agent {
  return new Agent({
    nodeName: 'pi-1',
    cluster: 'lab',
    store,
    runtime,
    // No broker: the agent runs from its stored target, offline.
    mqtt: { url: 'mqtt://127.0.0.1:1', username: 'n', password: 'p' },
    logger: silentLogger(),
    facts: async () => FACTS,
    reconnectSeconds: 60,
  });
}

const starts = (runtime: MemoryRuntime) => runtime.calls.filter((c) => c.startsWith('start '));

describe('an agent upgraded in place', () => {
  it('converts a stored schema-1 target at start and adopts its containers, restarting none', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.commit([{ type: 'put', key: TARGET_KEY, value: legacyTarget() }]);
    await store.close();
    const runtime = new MemoryRuntime();
    // What the 0.1 agent left running: started from the same target (converted, as 0.1's mapping is the same).
    const first = agentOn(store, runtime);
    await first.start();
    await first.reconcileNow();
    await first.stop();
    const before = await runtime.list();
    expect(before.map((c) => c.name)).toEqual(['web-1_main']);
    // 0.1's labels; no stop grace of its own (the pod set none: the agent's default, as in 0.1).
    expect(before[0]!.labels).toEqual({ 'grove.managed': 'agent', 'grove.pod': 'web-1', 'grove.app': 'web', 'grove.container': 'main', 'grove.template-hash': 'abc123' });
    // The store keeps the schema-1 target as it was: converted again, the same way, on every load.
    expect((await store.get(TARGET_KEY))?.value).toMatchObject({ schema: 1 });

    const again = agentOn(store, runtime);
    await again.start();
    await again.reconcileNow();
    await again.stop();
    expect(starts(runtime)).toEqual(['start web-1_main']);
    expect(await runtime.list()).toEqual(before);
  });

  it('restarts nothing when the server then sends the schema-2 target of the same pods', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: () => undefined });
    const converted = decodeAnyNodeTarget(encodeMessage(legacyTarget()));
    await reconciler.setTarget({ revision: 1, pods: converted.pods });
    await reconciler.idle();
    const before = await runtime.list();
    // As a schema-2 server builds it from the migrated Pod: same name and hash, Kubernetes fields, its own uid.
    const schema2 = podTarget('web-1', {
      hash: 'abc123',
      annotations: { 'grove.io/update-window': '0 2 * * *' },
      containers: [container('main', { image: 'reg.lan/web:1', imagePullPolicy: 'IfNotPresent', env: [{ name: 'A', value: '1' }], resources: { limits: { memory: '64Mi' }, requests: { memory: '64Mi' } } })],
      grace: 30,
    });
    await reconciler.setTarget({ revision: 2, pods: [schema2] });
    await reconciler.idle();
    expect(starts(runtime)).toEqual(['start web-1_main']);
    expect(await runtime.list()).toEqual(before);
    await reconciler.stop();
  });

  it('names and labels pods of other namespaces apart from a same-named pod of default', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reports: { pods: { name: string; namespace?: string }[] }[] = [];
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: (r) => reports.push(r) });
    await reconciler.setTarget({ revision: 1, pods: [podTarget('web-1'), podTarget('web-1', { namespace: 'shop' })] });
    await reconciler.idle();
    const byName = new Map((await runtime.list()).map((c) => [c.name, c.labels]));
    expect([...byName.keys()].sort()).toEqual(['shop_web-1_main', 'web-1_main']);
    expect(byName.get('shop_web-1_main')).toMatchObject({ 'grove.pod': 'web-1', 'grove.app': 'web', 'grove.namespace': 'shop' });
    expect(byName.get('web-1_main')).not.toHaveProperty('grove.namespace');
    expect(reports.at(-1)!.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(['default/web-1', 'shop/web-1']);
    // The default pod leaving removes only its own container.
    await reconciler.setTarget({ revision: 2, pods: [podTarget('web-1', { namespace: 'shop' })] });
    await reconciler.idle();
    expect((await runtime.list()).map((c) => c.name)).toEqual(['shop_web-1_main']);
    await reconciler.stop();
  });
});
