/**
 * Node labels (src/server/node-labels.ts): what a node reports about itself counts only under
 * node.grove.io/ and never over labels the API set; the server adds kubernetes.io/hostname, os
 * and arch. Through the scheduler (on Node objects): a rogue node's `zone=vault` attracts
 * nothing, and a DaemonSet selecting kubernetes.io/os: linux runs on every node.
 */
import { describe, expect, it } from 'vitest';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { daemonSetController } from '../../src/server/controllers/daemonset.js';
import { DroppedLabelNotes, effectiveNodeLabels, joinLabels, selfReportedLabels, wellKnownLabels } from '../../src/server/node-labels.js';
import { joinedNode, nodeWithFacts } from '../../src/server/objects/node-object.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { container, daemonSet, pass, pod, pods, world } from './controller-fixtures.js';

function facts(o: Partial<NodeFacts> = {}): NodeFacts {
  return { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: '6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: '0', labels: {}, ...o };
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
    expect(nodeWithFacts(joinedNode('pi-2', {}), facts({ labels: { zone: 'vault' } })).metadata.labels).not.toHaveProperty('zone');
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

describe('node labels through the scheduler (Node objects)', () => {
  /** A Node as joined with `apiLabels`, its labels then rebuilt from the facts it reported. */
  const nodeOf = (name: string, apiLabels: Record<string, string>, f?: NodeFacts) => (f ? nodeWithFacts(joinedNode(name, apiLabels), f) : joinedNode(name, apiLabels)) as AnyObject;
  const owner = { kind: 'ReplicaSet', name: 'vault-reader-abc', uid: 'uid-rs' };
  const bound = (objects: AnyObject[]) => {
    const w = world(objects);
    pass(w, schedulerController());
    return pods(w).map((p) => ({ node: p.spec.nodeName, scheduled: p.status?.conditions?.find((c) => c.type === 'PodScheduled') }));
  };

  it("a rogue node's self-reported zone=vault does not attract a pod selecting it", () => {
    const reader = pod('vault-reader-abc-1', { owner, selector: { zone: 'vault' } }) as AnyObject;
    const rogue = nodeOf('rogue', {}, facts({ labels: { zone: 'vault' } }));
    // No node may take it: the pod waits Pending (no node), never on the rogue node.
    const [pending] = bound([rogue, nodeOf('plain', {}, facts()), reader]);
    expect(pending!.node).toBeUndefined();
    expect(pending!.scheduled?.message).toMatch(/^0\/2 nodes are available: 2 node\(s\) didn't match Pod's node affinity\/selector/);
    // Labelled through the API, the node does get it.
    expect(bound([rogue, nodeOf('trusted', { zone: 'vault' }, facts()), reader]).map((p) => p.node)).toEqual(['trusted']);
  });

  it('a DaemonSet selecting kubernetes.io/os: linux runs on every node that reported its facts', () => {
    const selecting = (name: string, selector: Record<string, string>) =>
      daemonSet(name, { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { nodeSelector: selector, containers: [container()] } } }) as AnyObject;
    const nodes = [nodeOf('a', {}, facts({ arch: 'x64' })), nodeOf('b', {}, facts({ arch: 'aarch64' })), nodeOf('c', { zone: 'x' }, facts({ arch: 'armv7l' }))];
    const run = (...sets: AnyObject[]) => {
      const w = world([...nodes, ...sets]);
      pass(w, daemonSetController());
      return pods(w).map((p) => `${p.metadata.ownerReferences?.[0]?.name}@${p.spec.nodeName}`).sort();
    };
    expect(run(selecting('node-exporter', { 'kubernetes.io/os': 'linux' }))).toEqual(['node-exporter@a', 'node-exporter@b', 'node-exporter@c']);
    expect(run(selecting('arm-only', { 'kubernetes.io/arch': 'arm64' }), selecting('on-c', { 'kubernetes.io/hostname': 'c' }))).toEqual(['arm-only@b', 'on-c@c']);
  });
});
