/**
 * Node labels (src/server/node-labels.ts): what a node reports about itself counts only under
 * node.grove.io/ and never over labels the API set; the server adds kubernetes.io/hostname, os
 * and arch. Through the scheduler: a rogue node's `zone=vault` attracts nothing, and a
 * DaemonSet selecting kubernetes.io/os: linux runs on every node.
 */
import { describe, expect, it } from 'vitest';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { DroppedLabelNotes, effectiveNodeLabels, joinLabels, selfReportedLabels, wellKnownLabels } from '../../src/server/node-labels.js';
import { schedule } from '../../src/server/scheduler.js';
import { effectiveLabels } from '../../src/server/views.js';
import type { StoredNode } from '../../src/server/status-cache.js';
import { app, fakeHash, node, suffixes } from './server-fixtures.js';

function facts(o: Partial<NodeFacts> = {}): NodeFacts {
  return { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: '6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: '0', labels: {}, ...o };
}

function record(name: string, labels: Record<string, string> = {}): StoredNode {
  return { kind: 'Node', meta: { name, labels, annotations: {} }, cordoned: false, credentialHash: '0'.repeat(64), joinedAt: '2025-01-01T00:00:00Z' };
}

describe('node labels', () => {
  it('keeps only node.grove.io/ labels a node reports, and says which it dropped', () => {
    expect(selfReportedLabels({ zone: 'vault', 'node.grove.io/sensor': 'bme280', 'grove.io/role': 'db' })).toEqual({
      kept: { 'node.grove.io/sensor': 'bme280' },
      dropped: ['grove.io/role', 'zone'],
    });
  });

  it('derives kubernetes.io/hostname, os and arch in Kubernetes spelling', () => {
    expect(wellKnownLabels('pi-1', undefined)).toEqual({ 'kubernetes.io/hostname': 'pi-1' });
    expect(wellKnownLabels('pi-1', { os: 'linux', arch: 'arm64' })).toEqual({ 'kubernetes.io/hostname': 'pi-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    for (const [reported, expected] of [['x64', 'amd64'], ['x86_64', 'amd64'], ['aarch64', 'arm64'], ['armv7l', 'arm'], ['arm', 'arm'], ['amd64', 'amd64']]) {
      expect(wellKnownLabels('n', { os: 'linux', arch: reported! })['kubernetes.io/arch'], reported).toBe(expected);
    }
    expect(wellKnownLabels('n', { os: 'win32', arch: 'x64' })['kubernetes.io/os']).toBe('windows');
  });

  it('API labels win over well-known ones, which win over self-reported ones; a node cannot set zone=vault', () => {
    const labels = effectiveNodeLabels('pi-1', { zone: 'edge', 'node.grove.io/sensor': 'api' }, facts({ labels: { zone: 'vault', 'node.grove.io/sensor': 'self', 'node.grove.io/fan': 'on', 'kubernetes.io/os': 'windows' } }));
    expect(labels).toEqual({ zone: 'edge', 'node.grove.io/sensor': 'api', 'node.grove.io/fan': 'on', 'kubernetes.io/hostname': 'pi-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    expect(effectiveLabels(record('pi-2'), { ready: true, online: true, status: { schema: 1, node: 'pi-2', seq: 1, observedRevision: 0, heartbeat: false, facts: facts({ labels: { zone: 'vault' } }), pods: [], sentAt: '' } })).not.toHaveProperty('zone');
  });

  it('join labels: not the node prefix, not the well-known ones', () => {
    expect(joinLabels({ zone: 'a', 'node.grove.io/x': '1', 'kubernetes.io/hostname': 'other', 'kubernetes.io/arch': 's390x' })).toEqual({ zone: 'a' });
  });

  it('notes dropped keys once per node, again only when they change', () => {
    const notes = new DroppedLabelNotes();
    expect(notes.note('a', { zone: 'vault' })).toEqual(['zone']);
    expect(notes.note('a', { zone: 'vault' })).toBeUndefined();
    expect(notes.note('b', { zone: 'vault' })).toEqual(['zone']);
    expect(notes.note('a', { zone: 'vault', tier: 'x' })).toEqual(['tier', 'zone']);
    expect(notes.note('a', { 'node.grove.io/ok': '1' })).toBeUndefined();
    expect(notes.note('a', { zone: 'vault' })).toEqual(['zone']);
    notes.forget('a');
    expect(notes.note('a', { zone: 'vault' })).toEqual(['zone']);
  });
});

describe('node labels through the scheduler', () => {
  const view = (name: string, apiLabels: Record<string, string>, f?: NodeFacts) => node(name, { labels: effectiveNodeLabels(name, apiLabels, f), ...(f ? { facts: { arch: f.arch } } : {}) });

  it("a rogue node's self-reported zone=vault does not attract a pod selecting it", () => {
    const vault = app('vault-reader', { nodeSelector: { zone: 'vault' } });
    const rogue = view('rogue', {}, facts({ labels: { zone: 'vault' } }));
    const result = schedule({ apps: [vault], nodes: [rogue, view('plain', {}, facts())], assignments: [], templateHash: fakeHash, nameSuffix: suffixes() });
    // No node may take it: the replica waits Pending (no node), never on the rogue node.
    expect(result.create.map((p) => p.node)).toEqual([undefined]);
    expect(result.create[0]?.unschedulable).toMatch(/^0\/2 nodes are available: 2 node\(s\) didn't match Pod's node affinity\/selector/);
    // Labelled through the API, the node does get it.
    const trusted = view('trusted', { zone: 'vault' }, facts());
    const placed = schedule({ apps: [vault], nodes: [rogue, trusted], assignments: [], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(placed.create.map((p) => p.node)).toEqual(['trusted']);
  });

  it('a DaemonSet selecting kubernetes.io/os: linux runs on every node that reported its facts', () => {
    const ds = app('node-exporter', { kind: 'DaemonSet', nodeSelector: { 'kubernetes.io/os': 'linux' } });
    const nodes = [view('a', {}, facts({ arch: 'x64' })), view('b', {}, facts({ arch: 'aarch64' })), view('c', { zone: 'x' }, facts({ arch: 'armv7l' }))];
    const result = schedule({ apps: [ds], nodes, assignments: [], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(result.create.map((p) => p.node).sort()).toEqual(['a', 'b', 'c']);
    const arm64 = app('arm-only', { kind: 'DaemonSet', nodeSelector: { 'kubernetes.io/arch': 'arm64' } });
    const pinned = app('on-c', { kind: 'DaemonSet', nodeSelector: { 'kubernetes.io/hostname': 'c' } });
    const more = schedule({ apps: [arm64, pinned], nodes, assignments: [], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(more.create.map((p) => `${p.app}@${p.node}`).sort()).toEqual(['arm-only@b', 'on-c@c']);
  });
});
