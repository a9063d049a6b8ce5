import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { AnyObject, ObjectRef } from '../../src/core/objects/changes.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { StatusWriter } from '../../src/server/objects/status-writer.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { namespace } from '../contract/object-store.contract.js';

const pod = (name: string): AnyObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } }) as AnyObject;
const podRef = (name: string): ObjectRef & { kind: 'Pod' } => ({ kind: 'Pod', namespace: 'default', name });
const node = (name: string): AnyObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } }) as AnyObject;
const ready = (status: 'True' | 'False', beat: string) => ({ conditions: [{ type: 'Ready', status, lastHeartbeatTime: beat, lastTransitionTime: '2025-01-01T00:00:00Z' }] });

let store: MemoryStore;
let objects: ObjectStore;
let clock: ManualClock;
let writer: StatusWriter;
let commits: number;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  clock = new ManualClock();
  objects = new ObjectStore({ store, clock });
  await objects.commit([{ op: 'put', object: namespace('default') }, ...Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, object: pod(`p${i}`) })), { op: 'put', object: node('pi-1') }]);
  writer = new StatusWriter({ objects, clock, logger: silentLogger() });
  commits = 0;
  store.watch(() => commits++);
});

async function tick(ms: number): Promise<void> {
  clock.advance(ms);
  await writer.idle();
}

describe('StatusWriter', () => {
  it('writes the statuses of many objects in one commit', async () => {
    for (let i = 0; i < 100; i++) writer.set(podRef(`p${i}`), { phase: 'Running' });
    await tick(0);
    expect(commits).toBe(1);
    expect((await objects.get(podRef('p42')))?.status).toEqual({ phase: 'Running' });
  });

  it('commits at most once per interval; the latest status of an object wins', async () => {
    writer.set(podRef('p1'), { phase: 'Running' });
    await tick(0);
    expect(commits).toBe(1);
    writer.set(podRef('p2'), { phase: 'Running' });
    writer.set(podRef('p1'), { phase: 'Failed' });
    writer.set(podRef('p1'), { phase: 'Succeeded' });
    await tick(999);
    expect(commits).toBe(1);
    await tick(1);
    expect(commits).toBe(2);
    expect((await objects.get(podRef('p1')))?.status).toEqual({ phase: 'Succeeded' });
    expect(clock.pending()).toBe(0);
  });

  it('writes nothing for an unchanged status, nor for a heartbeat time alone', async () => {
    writer.set({ kind: 'Node' as const, name: 'pi-1' }, ready('True', '2025-01-01T00:00:10Z'));
    await tick(0);
    expect(commits).toBe(1);
    writer.set({ kind: 'Node' as const, name: 'pi-1' }, ready('True', '2025-01-01T00:00:50Z'));
    // A new pod is Pending already: saying so again writes nothing.
    writer.set(podRef('p1'), { phase: 'Pending' });
    await tick(5000);
    expect(commits).toBe(1);
    expect((await objects.get({ kind: 'Node' as const, name: 'pi-1' }))?.status?.conditions?.[0]?.lastHeartbeatTime).toBe('2025-01-01T00:00:10Z');
    // A transition is written, with its heartbeat.
    writer.set({ kind: 'Node' as const, name: 'pi-1' }, ready('False', '2025-01-01T00:01:30Z'));
    await tick(0);
    expect(commits).toBe(2);
    expect((await objects.get({ kind: 'Node' as const, name: 'pi-1' }))?.status?.conditions?.[0]).toMatchObject({ status: 'False', lastHeartbeatTime: '2025-01-01T00:01:30Z' });
  });

  it('skips objects deleted meanwhile, and one invalid status does not hold back the others', async () => {
    await objects.commit([{ op: 'delete', ref: podRef('p3') }]);
    commits = 0;
    writer.set(podRef('p3'), { phase: 'Running' });
    writer.set(podRef('p4'), { phase: 'NotAPhase' });
    writer.set(podRef('p5'), { phase: 'Running' });
    await tick(0);
    expect(await objects.get(podRef('p3'))).toBeUndefined();
    expect((await objects.get(podRef('p4')))?.status).toEqual({ phase: 'Pending' });
    expect((await objects.get(podRef('p5')))?.status).toEqual({ phase: 'Running' });
  });

  it('stop() writes what is queued', async () => {
    writer.set(podRef('p1'), { phase: 'Running' });
    await writer.stop();
    expect((await objects.get(podRef('p1')))?.status).toEqual({ phase: 'Running' });
    writer.set(podRef('p2'), { phase: 'Running' });
    expect(writer.queued).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
