import { describe, expect, it } from 'vitest';
import type { App, AppRevision, RolloutRecord } from '../../src/core/model.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeNodeTarget } from '../../src/core/wire.js';
import type { NodeTarget } from '../../src/core/wire-types.js';
import { Controller } from '../../src/server/controller.js';
import { Mutex } from '../../src/server/mutex.js';
import { applyResources } from '../../src/server/resources.js';
import { historyOf, indexRevisions, pruneRevisions, recordRevisions, rolloutKey } from '../../src/server/revisions.js';
import { trackRollouts, undoTarget } from '../../src/server/rollouts.js';
import type { RolloutProgress } from '../../src/server/scheduler.js';
import type { StoredNode } from '../../src/server/status-cache.js';
import { templateHash } from '../../src/server/targets.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreOp } from '../../src/store/store.js';
import { app, fakeHash, fixtureClock, nodeRecord, suffixes } from './server-fixtures.js';

const T0 = '2025-06-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const H1 = fakeHash(app('x'));
const H2 = fakeHash(app('x', { version: '2' }));

function revision(appName: string, n: number, hash: string, a: App = app(appName)): AppRevision {
  return { kind: 'AppRevision', app: appName, revision: n, templateHash: hash, template: a.spec.template, createdAt: T0 };
}

function progress(o: Partial<RolloutProgress> = {}): RolloutProgress {
  return { app: 'web', templateHash: H2, desired: 3, updated: 1, updatedAvailable: 0, total: 4, complete: false, ...o };
}

/** The value a put op writes (fails the test on a delete). */
function written(op: StoreOp | undefined): unknown {
  if (op?.type !== 'put') throw new Error(`expected a put, got ${JSON.stringify(op)}`);
  return op.value;
}

function record(o: Partial<RolloutRecord> = {}): RolloutRecord {
  return { kind: 'Rollout', app: 'web', revision: 2, templateHash: H2, phase: 'Progressing', startedAt: T0, lastProgressAt: T0, progressKey: '1/0/4', stableHash: H1, ...o };
}

describe('revisions', () => {
  it('numbers new templates in order and renumbers a template that becomes current again', () => {
    const index = indexRevisions([revision('web', 1, H1), revision('web', 2, H2)]);
    const records = new Map([['web', record()]]);
    // web goes back to version 1 (an undo): revision 1 becomes revision 3.
    const ops = recordRevisions([app('web')], index, records, fakeHash, at(10));
    expect(ops).toHaveLength(1);
    expect(historyOf(index, 'web').map((r) => [r.revision, r.templateHash])).toEqual([[3, H1], [2, H2]]);
    // Once the rollout record follows, nothing more is written.
    records.set('web', record({ templateHash: H1, revision: 3 }));
    expect(recordRevisions([app('web')], index, records, fakeHash, at(20))).toEqual([]);
  });

  it('keeps revisionHistoryLimit old revisions plus what still runs, and drops gone apps', () => {
    const h = (n: number) => `hash${n}`.padEnd(16, '0');
    const revs = [1, 2, 3, 4].map((n) => revision('web', n, h(n)));
    const index = indexRevisions([...revs, revision('gone', 1, H1)]);
    const web = app('web', { version: '4' });
    web.spec.revisionHistoryLimit = 1;
    const live = new Map([['web', new Set([fakeHash(app('x', { version: '1' }))])]]);
    const ops = pruneRevisions([web], index, live, new Map(), fakeHash);
    // current 4 kept, 3 is the one old revision allowed, 1 runs a pod, 2 goes; gone's goes.
    expect(ops.map((o) => o.key).sort()).toEqual([`revisions/gone/${H1}`, `revisions/web/${h(2)}`]);
  });

  it('undo goes to the newest other revision, or the one asked for', () => {
    const index = indexRevisions([revision('web', 1, H1), revision('web', 2, H2), revision('web', 3, 'hash3000000000000')]);
    expect(undoTarget(index, 'web', 'hash3000000000000')?.revision).toBe(2);
    expect(undoTarget(index, 'web', 'hash3000000000000', 1)?.templateHash).toBe(H1);
    expect(undoTarget(index, 'web', H1, 9)).toBeUndefined();
  });
});

describe('trackRollouts', () => {
  const index = () => indexRevisions([revision('web', 1, H1), revision('web', 2, H2, app('web', { version: '2' }))]);
  const web2 = () => app('web', { replicas: 3, version: '2' });

  it('writes nothing while nothing moves before the deadline', () => {
    const d = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', record()]]), revisions: index(), now: at(100) });
    expect(d.ops).toEqual([]);
    expect(d.nextDeadlineAt).toBe(at(600));
  });

  it('moves the deadline on progress and completes the rollout', () => {
    const moved = trackRollouts({ apps: [web2()], progress: [progress({ updatedAvailable: 1 })], records: new Map([['web', record()]]), revisions: index(), now: at(100) });
    expect(written(moved.ops[0])).toMatchObject({ lastProgressAt: at(100), progressKey: '1/1/4', phase: 'Progressing' });
    expect(moved.nextDeadlineAt).toBe(at(700));
    const done = trackRollouts({ apps: [web2()], progress: [progress({ updated: 3, updatedAvailable: 3, total: 3, complete: true })], records: new Map([['web', record()]]), revisions: index(), now: at(200) });
    expect(written(done.ops[0])).toMatchObject({ phase: 'Complete', stableHash: H2 });
    expect(done.nextDeadlineAt).toBeUndefined();
  });

  it('rolls back to the last complete revision after progressDeadlineSeconds without progress', () => {
    const d = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', record()]]), revisions: index(), now: at(600) });
    expect(d.rollbacks).toHaveLength(1);
    expect(fakeHash(d.rollbacks[0]!)).toBe(H1);
    expect(d.rollbacks[0]!.spec.replicas).toBe(3);
    expect(written(d.ops[0])).toMatchObject({ phase: 'Failed', lastRollback: { fromRevision: 2, toRevision: 1, at: at(600) } });
  });

  it('only marks the rollout failed when automatic rollback is off or nothing completed before', () => {
    const off = web2();
    off.spec.autoRollback = false;
    const a = trackRollouts({ apps: [off], progress: [progress()], records: new Map([['web', record()]]), revisions: index(), now: at(601) });
    expect(a.rollbacks).toEqual([]);
    expect(written(a.ops[0])).toMatchObject({ phase: 'Failed', message: expect.stringContaining('automatic rollback is off') });
    const first = record();
    delete first.stableHash;
    const b = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', first]]), revisions: index(), now: at(601) });
    expect(b.rollbacks).toEqual([]);
    expect(written(b.ops[0])).toMatchObject({ phase: 'Failed', message: expect.stringContaining('no earlier revision completed') });
  });

  it('starts a new rollout on a new template, remembering what completed last', () => {
    const complete = record({ templateHash: H1, revision: 1, phase: 'Complete' });
    const d = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', complete]]), revisions: index(), now: at(5) });
    expect(written(d.ops[0])).toMatchObject({ phase: 'Progressing', revision: 2, stableHash: H1, startedAt: at(5) });
  });

  it('does not fail a rollout a node holds back for its update window; the deadline restarts after', () => {
    const held = new Set(['web']);
    const waiting = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', record()]]), revisions: index(), now: at(100), deferred: held });
    expect(written(waiting.ops[0])).toMatchObject({ progressKey: '1/0/4/deferred', lastProgressAt: at(100) });
    const rec = written(waiting.ops[0]) as RolloutRecord;
    const later = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', rec]]), revisions: index(), now: at(5000), deferred: held });
    expect(later).toMatchObject({ ops: [], rollbacks: [] });
    expect(later.nextDeadlineAt).toBeUndefined();
    const opened = trackRollouts({ apps: [web2()], progress: [progress()], records: new Map([['web', rec]]), revisions: index(), now: at(5001) });
    expect(written(opened.ops[0])).toMatchObject({ phase: 'Progressing', lastProgressAt: at(5001) });
    expect(opened.nextDeadlineAt).toBe(at(5601));
  });

  it('forgets the rollout of a deleted app', () => {
    const d = trackRollouts({ apps: [], progress: [], records: new Map([['web', record()]]), revisions: index(), now: at(5) });
    expect(d.ops).toEqual([{ type: 'delete', key: rolloutKey('web') }]);
  });
});

describe('Controller: rolling update with automatic rollback', () => {
  it('keeps the old pod in the node target while the new one is not ready, then rolls back at the deadline', async () => {
    const store = new MemoryStore();
    const clock = fixtureClock(Date.parse(T0));
    const targets: NodeTarget[] = [];
    const available = new Set<string>();
    const controller = new Controller({
      store,
      cluster: 'test',
      logger: silentLogger(),
      clock,
      mutex: new Mutex(),
      publish: async (_topic, payload) => {
        if (payload.length) targets.push(decodeNodeTarget(payload));
      },
      nodeView: (r: StoredNode) => ({ name: r.meta.name, labels: r.meta.labels, cordoned: false, ready: true }),
      availablePods: () => available,
      nameSuffix: suffixes(),
      debounceMs: 1,
    });
    await store.commit([{ type: 'put', key: 'nodes/pi', value: nodeRecord('pi') }]);
    await controller.start();
    const v1 = app('web', { replicas: 1 });
    v1.spec.progressDeadlineSeconds = 60;
    await applyResources(store, [v1], new Date(clock.now()));
    await controller.idle();
    const oldPod = targets.at(-1)!.pods[0]!.name;
    available.add(oldPod);
    controller.nudge();
    await controller.idle();
    expect((await store.get<RolloutRecord>(rolloutKey('web')))!.value).toMatchObject({ phase: 'Complete', revision: 1 });

    const v2 = app('web', { replicas: 1, version: '2' });
    v2.spec.progressDeadlineSeconds = 60;
    await applyResources(store, [v2], new Date(clock.now()));
    await controller.idle();
    const during = targets.at(-1)!;
    // The old pod is still described (from its revision) beside the surge pod of version 2.
    const versions = new Map(during.pods.map((p) => [p.name, p.containers[0]!.env[0]!.value]));
    expect(versions.size).toBe(2);
    expect(versions.get(oldPod)).toBe('1');
    expect([...versions.values()].sort()).toEqual(['1', '2']);
    expect((await store.get<RolloutRecord>(rolloutKey('web')))!.value).toMatchObject({ phase: 'Progressing', revision: 2 });

    clock.advance(61_000);
    controller.nudge();
    await controller.idle();
    await controller.idle();
    const app1 = (await store.get<App>('apps/web'))!.value;
    expect(app1.spec.template.containers[0]!.env[0]!.value).toBe('1');
    expect(app1.spec.progressDeadlineSeconds).toBe(60);
    const after = targets.at(-1)!;
    expect(after.pods.map((p) => p.name)).toEqual([oldPod]);
    const rec = (await store.get<RolloutRecord>(rolloutKey('web')))!.value;
    expect(rec).toMatchObject({ templateHash: templateHash(v1), lastRollback: { fromRevision: 2, toRevision: 1 } });
    expect(historyOf(indexRevisions((await store.list<AppRevision>('revisions/')).map((e) => e.value)), 'web').map((r) => r.revision)).toEqual([3, 2]);
    await controller.stop();
  });
});
