import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { StatusCache } from '../../src/server/status-cache.js';
import type { NodeReadiness } from '../../src/server/objects/node-object.js';
import { silentLogger } from '../../src/core/logger.js';
import { encPresence, encStatus, fixtureClock, nodeObject, nodeStatus } from './server-fixtures.js';
import { judgeStatus, retireRun, RETIRED_RUNS_KEPT } from '../../src/server/status-order.js';
import { capturingLogger } from '../support/capture-logger.js';

const T = (node: string, kind: string) => `grove/v1/test/nodes/${node}/${kind}`;

/** What the cache hands to the Node objects' status (objects/node-reports.ts): readiness flips, with when. */
type Report = { node: string; ready: boolean; since: string; facts: boolean };

async function setup(nodes: string[] = ['pi-1']) {
  const store = new MemoryStore();
  await store.open();
  if (nodes.length) await store.commit(nodes.map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: nodeObject(n) })));
  const clock = fixtureClock();
  const events: string[] = [];
  const reports: Report[] = [];
  const cache = new StatusCache({
    store,
    cluster: 'test',
    logger: silentLogger(),
    clock,
    onNodeEvent: (n, why) => events.push(`${n}:${why}`),
    reportNode: (node: string, r: NodeReadiness, facts) => reports.push({ node, ready: r.ready, since: new Date(r.since).toISOString(), facts: facts !== undefined }),
  });
  await cache.start();
  return { store, clock, cache, events, reports };
}

/** The readiness flips reported (facts-only reports left out). */
const flips = (reports: Report[]) => reports.filter((r, i) => i === 0 || r.ready !== reports.slice(0, i).reverse().find((p) => p.node === r.node)?.ready).map((r) => `${r.node}:${r.ready ? 'Ready' : 'NotReady'}@${r.since}`);

describe('StatusCache', () => {
  it('becomes Ready on the first status and reports the facts, then the flip, once', async () => {
    const { store, cache, events, reports } = await setup();
    const rev = store.revision();
    cache.handleMessage(T('pi-1', 'presence'), encPresence('pi-1', true));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 1 })));
    expect(cache.isReady('pi-1')).toBe(true);
    // The cache writes nothing itself: the Node's status is node-reports.ts's.
    expect(store.revision()).toBe(rev);
    expect(reports).toEqual([
      { node: 'pi-1', ready: true, since: '2025-05-01T00:00:00.000Z', facts: true },
      { node: 'pi-1', ready: true, since: '2025-05-01T00:00:00.000Z', facts: true },
    ]);
    expect(events).toEqual(['pi-1:facts', 'pi-1:ready']);
  });

  it('heartbeats report nothing', async () => {
    const { cache, clock, reports } = await setup();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 1 })));
    const before = reports.length;
    for (let seq = 2; seq < 20; seq++) {
      clock.advance(15_000);
      cache.handleMessage(T('pi-1', 'status'), encStatus({ ...nodeStatus('pi-1', { seq }), heartbeat: true }));
      cache.sweep();
    }
    expect(reports).toHaveLength(before);
    expect(cache.view('pi-1').status?.seq).toBe(19);
  });

  it('goes NotReady 40 s (the grace) after the last status and back on the next status', async () => {
    const { cache, clock, events, reports } = await setup();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1')));
    clock.advance(40_000);
    cache.sweep();
    expect(cache.isReady('pi-1')).toBe(true);
    expect(cache.view('pi-1').notReadySince).toBeUndefined();
    // Noticed by a sweep 3 s late: NotReady counts from when the grace ran out.
    clock.advance(3000);
    cache.sweep();
    expect(cache.isReady('pi-1')).toBe(false);
    expect(cache.view('pi-1').notReadySince).toBe('2025-05-01T00:00:40.000Z');
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 2, sentAt: '2025-05-01T00:01:00.000Z' })));
    expect(flips(reports)).toEqual(['pi-1:Ready@2025-05-01T00:00:00.000Z', 'pi-1:NotReady@2025-05-01T00:00:40.000Z', 'pi-1:Ready@2025-05-01T00:00:43.000Z']);
    expect(events).toEqual(['pi-1:facts', 'pi-1:ready', 'pi-1:not-ready', 'pi-1:ready']);
  });

  it('an offline presence (Last Will) makes the node NotReady at once', async () => {
    const { cache, reports } = await setup();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1')));
    cache.handleMessage(T('pi-1', 'presence'), encPresence('pi-1', false));
    expect(cache.view('pi-1')).toMatchObject({ ready: false, online: false, notReadySince: '2025-05-01T00:00:00.000Z' });
    expect(reports.at(-1)).toMatchObject({ ready: false, since: '2025-05-01T00:00:00.000Z' });
  });

  it('takes the grace from nodeGraceMs, whatever the heartbeat', async () => {
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1') }]);
    const clock = fixtureClock();
    const cache = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock, nodeGraceMs: 3000 });
    await cache.start();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1')));
    clock.advance(3000);
    cache.sweep();
    expect(cache.isReady('pi-1')).toBe(true);
    clock.advance(1);
    cache.sweep();
    expect(cache.view('pi-1')).toMatchObject({ ready: false, notReadySince: '2025-05-01T00:00:03.000Z' });
  });

  it('a node never Ready has no notReadySince; one stored NotReady keeps its time across a restart', async () => {
    const { cache } = await setup();
    expect(cache.view('pi-1')).toEqual({ ready: false, online: false });
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1', { ready: false, since: '2025-04-30T23:00:00Z' }) }]);
    const again = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock: fixtureClock() });
    await again.start();
    expect(again.view('pi-1')).toMatchObject({ ready: false, notReadySince: '2025-04-30T23:00:00.000Z' });
  });

  it('ignores unknown nodes, other clusters, invalid payloads and spoofed names', async () => {
    const { cache, reports } = await setup();
    expect(cache.handleMessage(T('ghost', 'status'), encStatus(nodeStatus('ghost')))).toBe(true);
    cache.handleMessage('grove/v1/other/nodes/pi-1/status', encStatus(nodeStatus('pi-1')));
    cache.handleMessage(T('pi-1', 'status'), Buffer.from('not cbor'));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-2')));
    expect(cache.view('ghost').status).toBeUndefined();
    expect(cache.isReady('pi-1')).toBe(false);
    expect(reports).toEqual([]);
    expect(cache.handleMessage(T('pi-1', 'target'), Buffer.alloc(1))).toBe(false);
  });

  it('a stale status does not roll state back; an agent restart (seq from 0, newer time) does', async () => {
    const { cache } = await setup();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 5, observedRevision: 7, sentAt: '2025-05-01T00:00:05.000Z' })));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 4, observedRevision: 6, sentAt: '2025-05-01T00:00:04.000Z' })));
    expect(cache.view('pi-1').status?.observedRevision).toBe(7);
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 0, observedRevision: 8, sentAt: '2025-05-01T00:10:00.000Z' })));
    expect(cache.view('pi-1').status?.observedRevision).toBe(8);
  });

  it('learns about nodes that join later and forgets deleted ones', async () => {
    const { store, cache } = await setup([]);
    await store.commit([{ type: 'put', key: 'nodes/pi-9', value: nodeObject('pi-9') }]);
    cache.handleMessage(T('pi-9', 'status'), encStatus(nodeStatus('pi-9')));
    expect(cache.isReady('pi-9')).toBe(true);
    await store.commit([{ type: 'delete', key: 'nodes/pi-9' }]);
    expect(cache.view('pi-9')).toEqual({ ready: false, online: false });
  });

  it('after a restart a node stored Ready keeps it for one timeout (no flapping)', async () => {
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1', { ready: true }) }]);
    const clock = fixtureClock();
    const reports: string[] = [];
    const cache = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock, reportNode: (n, r) => reports.push(`${n}:${r.ready}@${new Date(r.since).toISOString()}`) });
    await cache.start();
    cache.sweep();
    expect(cache.isReady('pi-1')).toBe(true);
    expect(reports).toEqual([]);
    clock.advance(41_000);
    cache.sweep();
    expect(reports).toEqual(['pi-1:false@2025-05-01T00:00:40.000Z']);
  });

  it('reports a facts event when labels or arch change, not on every status', async () => {
    const { cache, events } = await setup();
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 1 })));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 2, memoryAvailableBytes: 1 })));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 3, labels: { zone: 'a' } })));
    expect(events).toEqual(['pi-1:facts', 'pi-1:ready', 'pi-1:facts']);
  });
});

describe('StatusCache: labels a node reports about itself', () => {
  it('logs the ones outside node.grove.io/ once per node, again only when they change', async () => {
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1') }]);
    const log = capturingLogger();
    const cache = new StatusCache({ store, cluster: 'test', logger: log.logger, clock: fixtureClock() });
    await cache.start();
    const ignored = () => log.lines().filter((l) => l.msg === 'labels the node reports about itself must start with node.grove.io/: ignored').map((l) => l.labels);
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 1, labels: { zone: 'vault', 'node.grove.io/fan': 'on' } })));
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 2, labels: { zone: 'vault' } })));
    expect(ignored()).toEqual([['zone']]);
    cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq: 3, labels: { zone: 'vault', tier: 'x' } })));
    expect(ignored()).toEqual([['zone'], ['tier', 'zone']]);
  });
});

describe('StatusCache: nodes behind their target', () => {
  it('asks for a target to be sent again when a node keeps reporting an older revision, at most every 30 s', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1') }]);
    const clock = fixtureClock();
    const resent: string[] = [];
    let target = 7;
    const cache = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock, targetRevision: () => target, onNodeBehind: (n) => resent.push(n) });
    await cache.start();
    let seq = 0;
    const report = (observedRevision: number) => cache.handleMessage(T('pi-1', 'status'), encStatus({ ...nodeStatus('pi-1', { seq: ++seq }), observedRevision, heartbeat: true }));
    report(6);
    clock.advance(15_000);
    report(6);
    expect(resent).toEqual([]); // 15 s behind: it may still be applying it
    clock.advance(15_000);
    report(6);
    expect(resent).toEqual(['pi-1']);
    clock.advance(15_000);
    report(6);
    expect(resent).toEqual(['pi-1']); // not again within 30 s
    clock.advance(15_000);
    report(6);
    expect(resent).toEqual(['pi-1', 'pi-1']);
    report(7); // caught up: the clock starts over
    target = 8;
    clock.advance(15_000);
    report(7);
    expect(resent).toHaveLength(2);
  });
});

describe('StatusCache: agent restarts (run ids)', () => {
  const HOUR = 3_600_000;
  async function withLog() {
    const store = new MemoryStore();
    await store.commit([{ type: 'put', key: 'nodes/pi-1', value: nodeObject('pi-1') }]);
    const clock = fixtureClock();
    const log = capturingLogger();
    const events: string[] = [];
    const cache = new StatusCache({ store, cluster: 'test', logger: log.logger, clock, onNodeEvent: (n, why) => events.push(`${n}:${why}`) });
    await cache.start();
    const send = (runId: string | undefined, seq: number, agentClockOffsetMs = 0) =>
      cache.handleMessage(T('pi-1', 'status'), encStatus(nodeStatus('pi-1', { seq, ...(runId ? { runId } : {}), sentAt: new Date(clock.now() + agentClockOffsetMs).toISOString() })));
    const drops = () => log.lines().filter((l) => String(l.msg).startsWith('status from node pi-1 dropped'));
    return { store, clock, cache, events, send, drops };
  }

  it('an agent restarted with its clock 1 h behind stays Ready: its new run replaces the old one whatever sentAt says', async () => {
    const { store, clock, cache, events, send } = await withLog();
    for (let seq = 1; seq <= 40; seq++) {
      send('run-a', seq);
      clock.advance(15_000);
      cache.sweep();
    }
    const writes = store.revision();
    // Restarted: seq from 1 again, and its clock (no RTC, NTP not synced yet) an hour behind.
    for (let seq = 1; seq <= 40; seq++) {
      send('run-b', seq, -HOUR);
      expect(cache.view('pi-1').status).toMatchObject({ runId: 'run-b', seq });
      clock.advance(15_000);
      cache.sweep();
      expect(cache.isReady('pi-1')).toBe(true);
    }
    expect(events).toEqual(['pi-1:facts', 'pi-1:ready']);
    expect(store.revision()).toBe(writes);
  });

  it('drops a late status of the replaced run and stale ones of the same run, logging each reason at most once a minute', async () => {
    const { clock, cache, send, drops } = await withLog();
    send('run-a', 5);
    send('run-b', 1, -HOUR);
    send('run-a', 6); // redelivered late, from before the restart
    send('run-b', 1, +HOUR); // same run, not a newer seq: stale whatever its sentAt
    expect(cache.view('pi-1').status).toMatchObject({ runId: 'run-b', seq: 1 });
    expect(drops().map((l) => l.reason)).toEqual(['from run run-a of the agent, which a newer run replaced', 'stale: seq 1 is not after 1 of the same run']);
    for (let i = 0; i < 100; i++) send('run-b', 1);
    expect(drops()).toHaveLength(2);
    clock.advance(60_000);
    send('run-b', 1);
    expect(drops()).toHaveLength(3);
    expect(drops()[2]).toMatchObject({ suppressedSinceLast: 100, node: 'pi-1', kind: 'status' });
  });

  it('logs invalid statuses with their reason, throttled', async () => {
    const { cache, drops } = await withLog();
    for (let i = 0; i < 50; i++) cache.handleMessage(T('pi-1', 'status'), Buffer.from('not cbor'));
    expect(drops()).toHaveLength(1);
    expect(String(drops()[0]!.reason)).toMatch(/not valid CBOR/);
  });

  it('an agent without run ids keeps the old rule; its upgrade to one with run ids counts as a new run', async () => {
    const { cache, send } = await withLog();
    send(undefined, 5);
    send(undefined, 4, -1000);
    expect(cache.view('pi-1').status?.seq).toBe(5);
    send('run-new', 1, -HOUR);
    expect(cache.view('pi-1').status).toMatchObject({ runId: 'run-new', seq: 1 });
  });

  it('judgeStatus / retireRun', () => {
    const s = (runId: string | undefined, seq: number, sentAt = '2025-05-01T00:00:00.000Z') => nodeStatus('n', { seq, sentAt, ...(runId ? { runId } : {}) });
    expect(judgeStatus(undefined, s('a', 1))).toEqual({ accept: true, newRun: false });
    expect(judgeStatus(s('a', 3), s('a', 4))).toEqual({ accept: true, newRun: false });
    expect(judgeStatus(s('a', 3), s('b', 1, '2000-01-01T00:00:00.000Z'))).toEqual({ accept: true, newRun: true });
    expect(judgeStatus(s('b', 1), s('a', 9), ['a'])).toMatchObject({ accept: false });
    expect(judgeStatus(s(undefined, 3), s(undefined, 1, '2025-05-01T00:00:01.000Z'))).toEqual({ accept: true, newRun: false });
    let retired: string[] = [];
    for (const r of ['a', 'b', 'c', 'd', 'e', 'f']) retired = retireRun(retired, r);
    expect(retired).toEqual(['f', 'e', 'd', 'c']);
    expect(retired).toHaveLength(RETIRED_RUNS_KEPT);
  });
});

