import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { NetworkSync } from '../../agent/src/agent/network-sync.js';
import { createLogger } from '../../src/core/logger.js';
import { encodeNetworkCluster, encodeNetworkService, type WireNetworkCluster, type WireNetworkService } from '../../src/core/wire-network.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';
import { ManualClock } from '../support/manual-clock.js';

const T = 'grove/v1/home/network';
const logger = createLogger({ level: 'silent' });

const index = (revision: number, services: Record<string, number>): Buffer =>
  encodeNetworkCluster({ schema: 1, revision, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'vxlan', vni: 1, port: 8472 }, nodes: [{ name: 'pi-1', internalIP: '192.168.1.10', podCIDR: '10.42.1.0/24' }], services } satisfies WireNetworkCluster);
const web = (revision: number, ready: boolean): Buffer =>
  encodeNetworkService({ schema: 1, revision, service: { namespace: 'default', name: 'web', type: 'ClusterIP', clusterIP: '10.43.0.1', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], endpoints: [{ ip: '10.42.1.5', nodeName: 'pi-1', ready, ports: { http: 8080 } }] } } satisfies WireNetworkService);

let store: MemoryStore;
let seen: ClusterNetworkView[];
const consumer = { update: async (v: ClusterNetworkView) => void seen.push(v), cleanup: async () => undefined };
const summary = (v: ClusterNetworkView) => `r${v.revision} ${v.services.map((s) => `${s.name}:${s.endpoints.map((e) => `${e.ip}=${e.ready}`).join(',')}`).join(' ')}`;

function sync(): NetworkSync {
  return new NetworkSync({ cluster: 'home', store, consumers: [consumer], clock: new ManualClock(), logger });
}

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  seen = [];
});

describe('NetworkSync', () => {
  it('assembles, persists once per change and hands the whole view to the consumers; nothing when unchanged', async () => {
    const s = sync();
    await s.start();
    expect(seen).toEqual([]);
    s.handle(`${T}/services/default/web`, web(3, true));
    s.handle(`${T}/cluster`, index(3, { 'default/web': 3 }));
    await s.idle();
    expect(seen.map(summary)).toEqual(['r3 web:10.42.1.5=true']);
    expect(seen[0]!.nodes).toEqual([{ name: 'pi-1', internalIP: '192.168.1.10', podCIDR: '10.42.1.0/24' }]);
    const written = store.revision();
    // The same retained messages again (a reconnection): no write, no update.
    s.handle(`${T}/cluster`, index(3, { 'default/web': 3 }));
    s.handle(`${T}/services/default/web`, web(3, true));
    await s.idle();
    expect(store.revision()).toBe(written);
    expect(seen).toHaveLength(1);
    s.handle(`${T}/services/default/web`, web(4, false));
    s.handle(`${T}/cluster`, index(4, { 'default/web': 4 }));
    await s.idle();
    expect(store.revision()).toBe(written + 1);
    expect(seen.map(summary)).toEqual(['r3 web:10.42.1.5=true', 'r4 web:10.42.1.5=false']);
    // Deleted: the cleared message and an index without it.
    s.handle(`${T}/services/default/web`, Buffer.alloc(0));
    s.handle(`${T}/cluster`, index(5, {}));
    await s.idle();
    expect(seen.map(summary).at(-1)).toBe('r5 ');
    await s.stop();
  });

  it('starts from the persisted view before any message, keeps a listed Service whose message is late, and ignores what is not valid', async () => {
    const first = sync();
    await first.start();
    first.handle(`${T}/services/default/web`, web(3, true));
    first.handle(`${T}/cluster`, index(3, { 'default/web': 3 }));
    await first.idle();
    await first.stop();
    seen = [];
    const again = sync();
    await again.start();
    expect(seen.map(summary)).toEqual(['r3 web:10.42.1.5=true']);
    // After a reconnection the index comes first: the Service stays as it was until its message arrives.
    again.handle(`${T}/cluster`, index(6, { 'default/web': 6 }));
    again.handle(`${T}/services/default/other`, Buffer.from('not cbor'));
    again.handle(`${T}/services/default/db`, web(6, true));
    await again.idle();
    expect(seen.map(summary)).toEqual(['r3 web:10.42.1.5=true', 'r6 web:10.42.1.5=true']);
    await again.stop();
  });

  it('gives a consumer whose update failed the view again after the retry delay, and only that one', async () => {
    const clock = new ManualClock();
    let failures = 1;
    const flaky = { update: async (v: ClusterNetworkView) => { if (failures-- > 0) throw new Error('xtables lock held'); seen.push(v); }, cleanup: async () => undefined };
    const steady: ClusterNetworkView[] = [];
    const s = new NetworkSync({ cluster: 'home', store, consumers: [flaky, { update: async (v) => void steady.push(v), cleanup: async () => undefined }], clock, logger, retryMs: 5000 });
    await s.start();
    s.handle(`${T}/services/default/web`, web(3, true));
    s.handle(`${T}/cluster`, index(3, { 'default/web': 3 }));
    await s.idle();
    expect(seen).toEqual([]);
    expect(steady).toHaveLength(1);
    clock.advance(4999);
    await s.idle();
    expect(seen).toEqual([]);
    clock.advance(1);
    await s.idle();
    expect(seen.map(summary)).toEqual(['r3 web:10.42.1.5=true']);
    expect(steady).toHaveLength(1);
    await s.stop();
  });

  it('asks every consumer to check the host once per resync period, only once it has a view; a failing check is tried again next period', async () => {
    const clock = new ManualClock();
    let checks = 0;
    let failing = true;
    const checking = {
      update: async () => undefined,
      cleanup: async () => undefined,
      resync: async () => {
        checks++;
        if (failing) throw new Error('iptables-save failed');
      },
    };
    // A consumer without resync (DNS, ingress) is skipped.
    const s = new NetworkSync({ cluster: 'home', store, consumers: [consumer, checking], clock, logger, resyncMs: 60_000 });
    await s.start();
    clock.advance(60_000);
    await s.idle();
    expect(checks).toBe(0); // no view yet: nothing was programmed
    s.handle(`${T}/cluster`, index(3, {}));
    await s.idle();
    clock.advance(59_999);
    await s.idle();
    expect(checks).toBe(0);
    clock.advance(1);
    await s.idle();
    expect(checks).toBe(1);
    failing = false;
    clock.advance(60_000);
    await s.idle();
    expect(checks).toBe(2);
    await s.stop();
    clock.advance(120_000);
    await s.idle();
    expect(checks).toBe(2);
  });

  it('tells the consumers once, before any view, when the server\'s target says it publishes none (an older server)', async () => {
    let told = 0;
    const fallback = { update: async () => undefined, cleanup: async () => undefined, withoutClusterNetwork: () => void told++ };
    const s = new NetworkSync({ cluster: 'home', store, consumers: [consumer, fallback], clock: new ManualClock(), logger });
    await s.start();
    s.noteTarget({ networkView: true });
    expect(told).toBe(0); // a current server: pods wait for the view
    s.noteTarget({});
    s.noteTarget({});
    expect(told).toBe(1);
    await s.stop();

    // A view already there (received before, or persisted): nothing to fall back to.
    told = 0;
    const t = new NetworkSync({ cluster: 'home', store, consumers: [fallback], clock: new ManualClock(), logger });
    await t.start();
    t.handle(`${T}/cluster`, index(3, {}));
    await t.idle();
    t.noteTarget({});
    expect(told).toBe(0);
    await t.stop();
  });
});
