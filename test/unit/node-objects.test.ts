/**
 * Nodes as Node objects (src/server/objects/node-object.ts, node-registry.ts): join, rejoin with
 * the credential, labels by source, cordon, delete, status from reports with the Ready condition
 * rewritten on transitions only, and the credential kept out of the object.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { GroveKeys } from '../../src/core/keys.js';
import type { Node } from '../../src/core/objects/cluster.js';
import type { WireNodeFacts } from '../../src/core/objects/wire.js';
import { nodeKeyKey } from '../../src/server/node-keys.js';
import { createAuthenticator, generatePassword, storeNodeLookup } from '../../src/server/security/credentials.js';
import { createJoinToken } from '../../src/server/security/tokens.js';
import type { Condition } from '../../src/core/objects/meta.js';
import { joinedNode, nodeEditedThroughApi, nodeStatus, nodeWithFacts, patchedNode, withLastHeartbeat } from '../../src/server/objects/node-object.js';
import { NodeRegistry } from '../../src/server/objects/node-registry.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { NodeReports } from '../../src/server/objects/node-reports.js';
import { StatusWriter } from '../../src/server/objects/status-writer.js';
import { silentLogger } from '../../src/core/logger.js';
import { StatusCache } from '../../src/server/status-cache.js';
import { encStatus, fixtureClock, nodeStatus as statusMessage } from './server-fixtures.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Outcome } from '../../src/core/batcher.js';
import { ManualClock } from '../support/manual-clock.js';

const T0 = new Date('2026-03-01T10:00:00Z');

const facts = (o: Partial<WireNodeFacts> = {}): WireNodeFacts => ({
  arch: 'aarch64',
  os: 'linux',
  cpus: 4,
  memoryBytes: 4 * 1024 ** 3,
  memoryAvailableBytes: 3 * 1024 ** 3,
  diskFreeBytes: 10 * 1024 ** 3,
  kernel: '6.6.31',
  ociRuntime: 'runc 1.1.12',
  cgroupVersion: 2,
  agentVersion: '0.2.0',
  labels: {},
  ...o,
});

function ok<T>(o: Outcome<T> | undefined): T {
  if (!o?.ok) throw (o as { error: unknown } | undefined)?.error ?? new Error('no outcome');
  return o.value;
}

describe('Node objects (pure)', () => {
  it('a joined node carries its join labels and hostname; node prefix and well-known keys are not the join’s', () => {
    const n = joinedNode('pi-1', { zone: 'a', 'node.grove.io/x': '1', 'kubernetes.io/arch': 's390x' });
    expect(n.metadata.labels).toEqual({ zone: 'a', 'kubernetes.io/hostname': 'pi-1' });
    expect(n.metadata.annotations).toEqual({ 'grove.io/api-labels': 'zone' });
  });

  it('facts add os, arch and self-reported labels; API labels win; a dropped self label goes', () => {
    const n = nodeWithFacts(joinedNode('pi-1', { zone: 'edge' }), facts({ labels: { zone: 'vault', 'node.grove.io/fan': 'on' } }));
    expect(n.metadata.labels).toEqual({ zone: 'edge', 'node.grove.io/fan': 'on', 'kubernetes.io/hostname': 'pi-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    const later = nodeWithFacts(n, facts({ labels: {} }));
    expect(later.metadata.labels).not.toHaveProperty('node.grove.io/fan');
    expect(later.metadata.labels).toHaveProperty('zone', 'edge');
  });

  it('API edits keep what the facts gave; cordon is spec.unschedulable', () => {
    const n = nodeWithFacts(joinedNode('pi-1', {}), facts({ labels: { 'node.grove.io/fan': 'on' } }));
    const edited = patchedNode(n, { tier: 'db', 'node.grove.io/fan': 'api' }, true);
    expect(edited.metadata.labels).toMatchObject({ tier: 'db', 'node.grove.io/fan': 'api', 'kubernetes.io/arch': 'arm64' });
    expect(edited.spec).toEqual({ unschedulable: true });
    const removed = patchedNode(edited, { 'node.grove.io/fan': null, tier: null }, false);
    expect(removed.metadata.labels).not.toHaveProperty('tier');
    // The API's value went; the node's own one comes back with its next report.
    expect(removed.metadata.labels).not.toHaveProperty('node.grove.io/fan');
    expect(removed.metadata.annotations).toBeUndefined();
    expect(removed.spec).toEqual({});
  });

  it('status: Ready condition times move on transitions only; nodeInfo and capacity from facts', () => {
    const t = Date.parse('2026-03-01T10:00:00Z');
    const first = nodeStatus(undefined, { ready: true, since: t, lastReportAt: t }, facts());
    expect(first.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-03-01T10:00:00Z', lastTransitionTime: '2026-03-01T10:00:00Z' });
    expect(first.nodeInfo).toMatchObject({ architecture: 'arm64', operatingSystem: 'linux', kubeletVersion: '0.2.0', containerRuntimeVersion: 'runc 1.1.12' });
    expect(first.capacity).toEqual({ cpu: '4', memory: '4194304Ki', pods: '110' });
    // A heartbeat 30 s later with less free memory (still above the pressure threshold): the same status.
    const beat = nodeStatus(first, { ready: true, since: t, lastReportAt: t + 30_000 }, facts({ memoryAvailableBytes: 200 * 1024 ** 2 }));
    expect(beat).toEqual(first);
    const down = nodeStatus(beat, { ready: false, since: t + 90_000, lastReportAt: t + 30_000 }, undefined);
    expect(down.conditions?.[0]).toMatchObject({ status: 'False', reason: 'NodeStatusUnknown', lastTransitionTime: '2026-03-01T10:01:30Z', lastHeartbeatTime: '2026-03-01T10:00:30Z' });
    expect(down.nodeInfo).toEqual(first.nodeInfo);
  });

  it('served with the last heartbeat: only a later report moves lastHeartbeatTime; nothing else changes', () => {
    const t = Date.parse('2026-03-01T10:00:00Z');
    const node = { ...joinedNode('pi-1', {}), status: nodeStatus(undefined, { ready: true, since: t, lastReportAt: t }, facts()) };
    const served = withLastHeartbeat(node, t + 45_500);
    expect(served.status?.conditions?.[0]).toEqual({ ...node.status.conditions![0], lastHeartbeatTime: '2026-03-01T10:00:45Z' });
    expect({ ...served, status: { ...served.status, conditions: [] } }).toEqual({ ...node, status: { ...node.status, conditions: [] } });
    expect(withLastHeartbeat(node, undefined)).toBe(node);
    expect(withLastHeartbeat(node, t - 60_000)).toBe(node);
    // No Ready condition yet (joined, never reported): nothing to add.
    expect(withLastHeartbeat(joinedNode('pi-2', {}), t)).toEqual(joinedNode('pi-2', {}));
  });

  it('served with the last heartbeat: a condition stored without one (TargetApplied) gets it too', () => {
    const t = Date.parse('2026-03-01T10:00:00Z');
    const status = nodeStatus(undefined, { ready: true, since: t, lastReportAt: t }, facts());
    const target: Condition = { type: 'TargetApplied', status: 'True', reason: 'TargetApplied', message: 'target revision 3 applied', lastTransitionTime: '2026-03-01T10:00:00Z' };
    const node = { ...joinedNode('pi-1', {}), status: { ...status, conditions: [...status.conditions!, target] } };
    const served = withLastHeartbeat(node, t + 20_000);
    expect(served.status?.conditions?.find((c) => c.type === 'TargetApplied')).toEqual({ ...target, lastHeartbeatTime: '2026-03-01T10:00:20Z' });
    // What is stored is not touched (the served object is a copy).
    expect(node.status.conditions.find((c) => c.type === 'TargetApplied')?.lastHeartbeatTime).toBeUndefined();
  });
});

describe('NodeRegistry', () => {
  let store: MemoryStore;
  let objects: ObjectStore;
  let registry: NodeRegistry;
  let token: string;

  beforeEach(async () => {
    store = new MemoryStore();
    await store.open();
    objects = new ObjectStore({ store, clock: new ManualClock(T0) });
    registry = new NodeRegistry(objects);
    token = (await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0 })).token;
  });

  const node = (name: string) => objects.get({ kind: 'Node', name }) as Promise<Node | undefined>;

  it('a join creates the Node object; the credential lives under grove/, never in the object', async () => {
    const joined = ok((await registry.joinBatch([{ token, nodeName: 'pi-1', labels: { zone: 'a' } }], T0))[0]);
    const n = await node('pi-1');
    expect(n?.metadata.labels).toEqual({ zone: 'a', 'kubernetes.io/hostname': 'pi-1' });
    expect(JSON.stringify(n)).not.toContain(joined.registration.credentialHash);
    expect((await store.get(GroveKeys.nodeCredential('pi-1')))?.value).toEqual({ credentialHash: joined.registration.credentialHash, joinedAt: T0.toISOString() });
    expect(await store.get(nodeKeyKey('pi-1'))).toBeDefined();
    const auth = createAuthenticator({ username: 'grove-server', password: generatePassword() }, storeNodeLookup(objects.store));
    expect(await auth(joined.result.username, joined.result.password)).toBe(true);
    expect(await auth(joined.result.username, 'x'.repeat(43))).toBe(false);
  });

  it('many joins are one commit; a refused join spends nothing and does not stop the others', async () => {
    const before = store.revision();
    const outcomes = await registry.joinBatch([{ token, nodeName: 'a' }, { token: 'grv_bad', nodeName: 'b' }, { token, nodeName: 'c' }], T0);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(store.revision()).toBe(before + 1);
    expect((await objects.list('Node')).items.map((n) => n.metadata.name)).toEqual(['a', 'c']);
  });

  it('a taken name joins again only with its credential; the rejoin keeps labels and cordon', async () => {
    const first = ok((await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]);
    await registry.patch('pi-1', { labels: { tier: 'db' }, cordoned: true });
    const refused = (await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]!;
    expect(refused.ok).toBe(false);
    expect(isGroveError((refused as { error: unknown }).error, ErrorCode.Conflict)).toBe(true);
    const again = ok((await registry.joinBatch([{ token, nodeName: 'pi-1', credential: first.result.password, labels: { other: 'x' } }], T0))[0]);
    expect(again.registration.credentialHash).not.toBe(first.registration.credentialHash);
    const n = await node('pi-1');
    expect(n?.metadata.labels).toEqual({ tier: 'db', 'kubernetes.io/hostname': 'pi-1' });
    expect(n?.spec?.unschedulable).toBe(true);
    // The server's own host takes its name over without the credential.
    expect((await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0, { replaceExisting: true }))[0]?.ok).toBe(true);
  });

  it('patch edits labels and cordon and writes nothing when nothing changes', async () => {
    ok((await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]);
    const n = await registry.patch('pi-1', { labels: { tier: 'db' }, cordoned: true });
    expect(n.metadata.labels).toMatchObject({ tier: 'db' });
    const rev = store.revision();
    await registry.patch('pi-1', { labels: { tier: 'db' } });
    expect(store.revision()).toBe(rev);
    await expect(registry.patch('nope', { cordoned: true })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(registry.patch('pi-1', { labels: { 'bad key!': 'x' } })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it('delete removes the object, the credential and the config key in one commit; the name joins again', async () => {
    ok((await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]);
    const rev = store.revision();
    await registry.delete('pi-1');
    expect(store.revision()).toBe(rev + 1);
    expect(await node('pi-1')).toBeUndefined();
    expect(await store.get(GroveKeys.nodeCredential('pi-1'))).toBeUndefined();
    expect(await store.get(nodeKeyKey('pi-1'))).toBeUndefined();
    await expect(registry.delete('pi-1')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect((await registry.joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]?.ok).toBe(true);
  });
});

describe('NodeReports', () => {
  it('writes labels when facts change and status on transitions only', async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = new ManualClock(T0);
    const objects = new ObjectStore({ store, clock });
    const token = (await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0 })).token;
    ok((await new NodeRegistry(objects).joinBatch([{ token, nodeName: 'pi-1' }], T0))[0]);
    const writer = new StatusWriter({ objects, clock, logger: silentLogger() });
    const reports = new NodeReports(objects, writer);
    const t = T0.getTime();
    await reports.report('pi-1', { ready: true, since: t, lastReportAt: t }, facts());
    await writer.flush();
    const first = store.revision();
    const n = (await objects.get({ kind: 'Node', name: 'pi-1' }))!;
    expect(n.metadata.labels).toMatchObject({ 'kubernetes.io/arch': 'arm64' });
    expect(n.status?.conditions?.[0]?.status).toBe('True');
    // Heartbeats with moving free memory: nothing written.
    for (let i = 1; i <= 10; i++) await reports.report('pi-1', { ready: true, since: t, lastReportAt: t + i * 15_000 }, facts({ memoryAvailableBytes: 2 ** 30 + i }));
    await writer.flush();
    expect(store.revision()).toBe(first);
    await reports.report('pi-1', { ready: false, since: t + 200_000, lastReportAt: t + 150_000 });
    await writer.flush();
    expect(store.revision()).toBe(first + 1);
    await reports.report('ghost', { ready: true, since: t });
    await writer.flush();
    expect(store.revision()).toBe(first + 1);
  });
});

describe('StatusCache with Node objects', () => {
  it('writes the Ready condition on flips only, and facts once', async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = fixtureClock();
    const objects = new ObjectStore({ store, clock });
    const token = (await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: new Date(clock.now()) })).token;
    ok((await new NodeRegistry(objects).joinBatch([{ token, nodeName: 'pi-1' }], new Date(clock.now())))[0]);
    const writer = new StatusWriter({ objects, clock, logger: silentLogger() });
    const reports = new NodeReports(objects, writer);
    const pendingReports: Promise<void>[] = [];
    const cache = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock, reportNode: (n, r, f) => pendingReports.push(reports.report(n, r, f)) });
    await cache.start();
    const settle = async () => {
      await Promise.all(pendingReports.splice(0));
      await writer.flush();
    };
    const T = (node: string) => `grove/v1/test/nodes/${node}/status`;
    cache.handleMessage(T('pi-1'), encStatus(statusMessage('pi-1', { seq: 1, arch: 'arm64' })));
    await settle();
    const n = (await objects.get({ kind: 'Node', name: 'pi-1' }))!;
    expect(n.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', lastTransitionTime: '2025-05-01T00:00:00Z' });
    expect(n.metadata.labels).toMatchObject({ 'kubernetes.io/arch': 'arm64' });
    const version = n.metadata.resourceVersion;
    for (let seq = 2; seq < 10; seq++) {
      clock.advance(15_000);
      cache.handleMessage(T('pi-1'), encStatus({ ...statusMessage('pi-1', { seq, arch: 'arm64', memoryAvailableBytes: 2 ** 30 + seq }), heartbeat: true }));
      cache.sweep();
      await settle();
    }
    // Heartbeats (free memory moving) never rewrite the Node object.
    const stored = (await objects.get({ kind: 'Node', name: 'pi-1' }))!;
    expect(stored.metadata.resourceVersion).toBe(version);
    expect(stored.status?.conditions?.[0]?.lastHeartbeatTime).toBe('2025-05-01T00:00:00Z');
    // The API serves the last heartbeat's time from memory (the 8th, 120 s later).
    expect(withLastHeartbeat(stored, cache.lastReportAt('pi-1')).status?.conditions?.[0]).toMatchObject({ status: 'True', lastHeartbeatTime: '2025-05-01T00:02:00Z', lastTransitionTime: '2025-05-01T00:00:00Z' });
    clock.advance(60_000);
    cache.sweep();
    await settle();
    expect((await objects.get({ kind: 'Node', name: 'pi-1' }))?.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'NodeStatusUnknown' });
    // A restarted server reads readiness from the Node object.
    const again = new StatusCache({ store, cluster: 'test', logger: silentLogger(), clock });
    await again.start();
    expect(again.view('pi-1')).toMatchObject({ ready: false, notReadySince: '2025-05-01T00:02:40.000Z' });
  });
});

describe('a Node written through the Kubernetes API (kubectl label node)', () => {
  const facts = { os: 'linux', arch: 'arm64', labels: { 'node.grove.io/board': 'pi4' } };
  const stored = nodeWithFacts(joinedNode('pi-1', { zone: 'a' }), facts);

  it('keeps a label kubectl added when the node reports again', () => {
    const edited: Node = { ...stored, metadata: { ...stored.metadata, labels: { ...stored.metadata.labels, 'node-role.kubernetes.io/ingress': 'true' } } };
    const written = nodeEditedThroughApi(stored, edited);
    const reported = nodeWithFacts(written, facts);
    expect(reported.metadata.labels).toMatchObject({ 'node-role.kubernetes.io/ingress': 'true', zone: 'a', 'node.grove.io/board': 'pi4', 'kubernetes.io/arch': 'arm64' });
    expect(reported.metadata.annotations?.['grove.io/api-labels']).toBe('node-role.kubernetes.io/ingress,zone');
  });

  it('drops an API label kubectl removed, and keeps the stored bookkeeping whatever the client sent', () => {
    const { zone: _z, ...rest } = stored.metadata.labels!;
    const edited: Node = { ...stored, metadata: { ...stored.metadata, labels: rest, annotations: { 'grove.io/api-labels': 'kubernetes.io/hostname' } } };
    const reported = nodeWithFacts(nodeEditedThroughApi(stored, edited), facts);
    expect(reported.metadata.labels?.zone).toBeUndefined();
    expect(reported.metadata.annotations?.['grove.io/api-labels']).toBeUndefined();
    expect(reported.metadata.labels?.['kubernetes.io/hostname']).toBe('pi-1');
  });

  it('carries cordon from the written spec', () => {
    const edited: Node = { ...stored, spec: { unschedulable: true } };
    expect(nodeEditedThroughApi(stored, edited).spec?.unschedulable).toBe(true);
    expect(nodeEditedThroughApi(edited, stored).spec?.unschedulable).toBeUndefined();
  });
});
