/**
 * Issue 12, defect 6: an agent restarted with its clock behind its previous run (no RTC, NTP not
 * synced yet) had every status dropped as stale, silently, until its seq caught up: NotReady
 * while connected. The real Agent and control plane over the embedded broker; only the second
 * agent's clock is an hour behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { isReadyNode, startCluster, waitFor, type Cluster, type NodeObject } from './server-harness.js';

const HOUR = 3_600_000;
const FACTS: NodeFacts = { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 2 ** 30, memoryAvailableBytes: 2 ** 29, diskFreeBytes: 2 ** 33, kernel: '6.6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: 'test', labels: {} };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Real timers, but `now()` off by `offsetMs`: what statuses say as sentAt. */
function skewedClock(offsetMs: number): Clock {
  const real = systemClock();
  return { ...real, now: () => real.now() + offsetMs };
}

describe('an agent restarted with its clock behind', () => {
  it('stays Ready: the server takes its new run over the previous one whatever the clocks say', async () => {
    const c: Cluster = await startCluster({ extra: { nodeGraceMs: 3000 } });
    cleanups.push(() => c.close());
    const token = await c.call<{ token: string }>('POST', '/v1/tokens', {});
    const joined = await c.call<{ mqtt: { username: string; password: string } }>('POST', '/v1/join', { token: token.body.token, nodeName: 'pi-1' }, null);
    const startAgent = (clock: Clock, heartbeatSeconds: number): Agent => {
      const agent = new Agent({
        nodeName: 'pi-1',
        cluster: 'test',
        store: new MemoryStore(),
        runtime: new MemoryRuntime(),
        mqtt: { url: c.broker.url, username: joined.body.mqtt.username, password: joined.body.mqtt.password },
        logger: silentLogger(),
        clock,
        facts: async () => FACTS,
        heartbeatSeconds,
        reconnectSeconds: 0.2,
      });
      cleanups.push(() => agent.stop());
      return agent;
    };
    const ready = async () => isReadyNode((await c.call<NodeObject>('GET', '/api/v1/nodes/pi-1')).body);

    // The first run sends many statuses (a fast heartbeat), so its seq runs well ahead.
    const first = startAgent(systemClock(), 0.1);
    await first.start();
    await waitFor(ready, 'Ready in the first run');
    await new Promise((r) => setTimeout(r, 3000));
    await first.stop();

    // Restarted with the clock an hour behind: seq starts again at 1, every sentAt is "older".
    const second = startAgent(skewedClock(-HOUR), 1);
    await second.start();
    await waitFor(ready, 'Ready in the second run');
    // Three node grace periods: without the run id every one of these statuses was dropped.
    const until = Date.now() + 9000;
    while (Date.now() < until) {
      expect(await ready()).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 60_000);
});
