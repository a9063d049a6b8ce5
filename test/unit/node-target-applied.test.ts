/**
 * The TargetApplied node condition (src/server/objects/node-target-condition.ts): which target
 * revision a node runs, as 0.1's "Revisions: target N, observed M"; reported by the StatusCache
 * when either revision changes, never on a heartbeat.
 */
import { describe, expect, it } from 'vitest';
import type { WireNodeFacts } from '../../src/core/objects/wire.js';
import { silentLogger } from '../../src/core/logger.js';
import { nodeStatus } from '../../src/server/objects/node-object.js';
import { TARGET_APPLIED } from '../../src/server/objects/node-target-condition.js';
import { NodeRegistry } from '../../src/server/objects/node-registry.js';
import { NodeReports } from '../../src/server/objects/node-reports.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { StatusWriter } from '../../src/server/objects/status-writer.js';
import { createJoinToken } from '../../src/server/security/tokens.js';
import { StatusCache } from '../../src/server/status-cache.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { encStatus, fixtureClock, nodeStatus as statusMessage } from './server-fixtures.js';

const facts = (): WireNodeFacts => ({
  arch: 'aarch64', os: 'linux', cpus: 4, memoryBytes: 4 * 1024 ** 3, memoryAvailableBytes: 3 * 1024 ** 3, diskFreeBytes: 10 * 1024 ** 3,
  kernel: '6.6.31', ociRuntime: 'runc 1.1.12', cgroupVersion: 2, agentVersion: '0.2.0', labels: {},
});

const applied = (s: { conditions?: { type: string }[] } | undefined) => s?.conditions?.find((c) => c.type === TARGET_APPLIED);

describe('TargetApplied (pure)', () => {
  it('says which target the node runs; its time moves when it flips, not per revision', () => {
    const t = Date.parse('2026-03-01T10:00:00Z');
    const ready = { ready: true, since: t };
    // No revisions known yet (no status, or no target published): no condition.
    expect(applied(nodeStatus(undefined, { ...ready, lastReportAt: t }, facts()))).toBeUndefined();
    const inStep = nodeStatus(undefined, { ...ready, lastReportAt: t, revisions: { target: 7, applied: 7 } }, facts());
    expect(inStep.conditions?.[0]?.type).toBe('Ready');
    expect(applied(inStep)).toEqual({ type: TARGET_APPLIED, status: 'True', reason: 'TargetApplied', message: 'target revision 7 applied', lastTransitionTime: '2026-03-01T10:00:00Z' });
    // A report without revisions (a readiness flip) keeps the condition as it is.
    expect(applied(nodeStatus(inStep, { ready: false, since: t + 5000 }, undefined))).toEqual(applied(inStep));
    // A new target the node has not applied: False, naming both; then applied: True again.
    const behind = nodeStatus(inStep, { ...ready, lastReportAt: t + 60_000, revisions: { target: 9, applied: 7 } }, facts());
    expect(applied(behind)).toEqual({ type: TARGET_APPLIED, status: 'False', reason: 'TargetNotApplied', message: 'target revision 9, applied 7', lastTransitionTime: '2026-03-01T10:01:00Z' });
    const stillBehind = nodeStatus(behind, { ...ready, lastReportAt: t + 90_000, revisions: { target: 10, applied: 7 } }, facts());
    expect(applied(stillBehind)).toMatchObject({ status: 'False', message: 'target revision 10, applied 7', lastTransitionTime: '2026-03-01T10:01:00Z' });
    const caughtUp = nodeStatus(stillBehind, { ...ready, lastReportAt: t + 120_000, revisions: { target: 10, applied: 10 } }, facts());
    expect(applied(caughtUp)).toMatchObject({ status: 'True', message: 'target revision 10 applied', lastTransitionTime: '2026-03-01T10:02:00Z' });
    expect(caughtUp.conditions?.filter((c) => c.type === TARGET_APPLIED)).toHaveLength(1);
    // A node ahead of its target (a store that lost commits) is not in step either.
    expect(applied(nodeStatus(caughtUp, { ...ready, lastReportAt: t, revisions: { target: 10, applied: 12 } }, facts()))).toMatchObject({ status: 'False', message: 'target revision 10, applied 12' });
  });
});

describe('TargetApplied from the StatusCache', () => {
  it('is reported when the target or applied revision changes; heartbeats write nothing', async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = fixtureClock();
    const objects = new ObjectStore({ store, clock });
    const token = (await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: new Date(clock.now()) })).token;
    expect((await new NodeRegistry(objects).joinBatch([{ token, nodeName: 'pi-1' }], new Date(clock.now())))[0]?.ok).toBe(true);
    const writer = new StatusWriter({ objects, clock, logger: silentLogger() });
    const reports = new NodeReports(objects, writer);
    const pending: Promise<void>[] = [];
    let target = 5;
    const cache = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock, targetRevision: () => target, reportNode: (n, r, f) => pending.push(reports.report(n, r, f)) });
    await cache.start();
    let seq = 0;
    const status = async (observedRevision: number, heartbeat = true) => {
      clock.advance(1000);
      cache.handleMessage('grove/v1/test/nodes/pi-1/status', encStatus({ ...statusMessage('pi-1', { seq: ++seq, observedRevision }), heartbeat }));
      await Promise.all(pending.splice(0));
      await writer.flush();
    };
    const condition = async () => applied((await objects.get({ kind: 'Node', name: 'pi-1' }))!.status);
    await status(5, false);
    expect(await condition()).toMatchObject({ status: 'True', message: 'target revision 5 applied' });
    const revision = store.revision();
    for (let i = 0; i < 5; i++) await status(5);
    expect(store.revision()).toBe(revision);
    // A new target its heartbeats do not show applied (a full disk): False at the next heartbeat.
    target = 8;
    await status(5);
    expect(await condition()).toMatchObject({ status: 'False', message: 'target revision 8, applied 5' });
    const behind = store.revision();
    await status(5);
    expect(store.revision()).toBe(behind);
    await status(8, false);
    expect(await condition()).toMatchObject({ status: 'True', message: 'target revision 8 applied' });
    await cache.stop();
  });
});
