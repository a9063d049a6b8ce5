/**
 * Pod CIDRs (issue 15): the CIDR arithmetic, the start-up checks of the cluster's ranges, the
 * lowest-free-block allocator and the node IPAM controller (exact allocations, release on
 * delete, exhaustion as a condition and an event, changed settings).
 */
import { describe, expect, it } from 'vitest';
import { cidrsOverlap, ipv4ToNumber, numberToIpv4, parseCidr } from '../../src/core/network/cidr.js';
import { allocatePodCidrs, checkClusterRanges, fitsSettings } from '../../src/core/network/cluster-ranges.js';
import { nodeIpamController, podCidrChanges } from '../../src/server/controllers/node-ipam.js';
import { controllerEvents } from '../../src/server/events/controller-events.js';
import { thrownBy as thrown } from '../support/thrown.js';
import { applyChanges, node, snapshot, T0, world } from './controller-fixtures.js';

const s24 = { clusterCIDR: '10.42.0.0/16', nodeMaskSize: 24 };
const created = (n: ReturnType<typeof node>, minute: number) => ({ ...n, metadata: { ...n.metadata, creationTimestamp: new Date(T0 + minute * 60_000).toISOString().replace('.000Z', 'Z') } });

describe('IPv4 CIDRs', () => {
  it('parses and formats addresses and blocks', () => {
    expect(ipv4ToNumber('10.42.3.7')).toBe(0x0a2a0307);
    expect(numberToIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(ipv4ToNumber('10.42.3.256')).toBeUndefined();
    expect(ipv4ToNumber('10.042.3.1')).toBeUndefined();
    expect(parseCidr('10.42.0.0/16')).toEqual({ base: 0x0a2a0000, prefix: 16 });
    expect(parseCidr('10.42.1.0/16')).toBeUndefined();
    expect(parseCidr('10.42.1.0/16', false)).toEqual({ base: 0x0a2a0000, prefix: 16 });
    expect(parseCidr('10.42.0.0/33')).toBeUndefined();
    expect(parseCidr('10.42.0.0')).toBeUndefined();
  });

  it('overlap is containment either way', () => {
    expect(cidrsOverlap(parseCidr('10.42.0.0/16')!, parseCidr('10.42.7.0/24')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/8')!, parseCidr('10.43.0.0/16')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.42.0.0/16')!, parseCidr('10.43.0.0/16')!)).toBe(false);
  });
});

describe('the cluster ranges at server start', () => {
  const ok = { clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', nodeMaskSize: 24 };

  it('accepts the defaults', () => {
    expect(() => checkClusterRanges(ok)).not.toThrow();
  });

  it('refuses overlapping cluster and service ranges with one line naming both flags', () => {
    expect(thrown(() => checkClusterRanges({ ...ok, serviceCIDR: '10.42.128.0/17' })).message).toBe(
      '--cluster-cidr 10.42.0.0/16 and --service-cidr 10.42.128.0/17 overlap: pod and service addresses must come from separate ranges',
    );
    expect(thrown(() => checkClusterRanges({ ...ok, clusterCIDR: '10.0.0.0/8' })).message).toMatch(/overlap/);
  });

  it('refuses malformed ranges, host bits, and masks that do not fit', () => {
    expect(thrown(() => checkClusterRanges({ ...ok, clusterCIDR: '10.42.0.0' })).message).toBe('--cluster-cidr: "10.42.0.0" is not an IPv4 CIDR such as 10.42.0.0/16');
    expect(thrown(() => checkClusterRanges({ ...ok, serviceCIDR: '10.43.1.0/16' })).message).toBe('--service-cidr: "10.43.1.0/16" has host bits set: did you mean 10.43.0.0/16?');
    expect(thrown(() => checkClusterRanges({ ...ok, nodeMaskSize: 12 })).message).toBe('--node-cidr-mask-size 12 must be from 16 (the --cluster-cidr 10.42.0.0/16 prefix) to 28');
    expect(thrown(() => checkClusterRanges({ ...ok, nodeMaskSize: 30 })).message).toMatch(/must be from 16/);
    expect(thrown(() => checkClusterRanges({ ...ok, clusterCIDR: '10.0.0.0/8', serviceCIDR: '192.168.0.0/16', nodeMaskSize: 28 })).message).toMatch(/more than 65536 node blocks: use a mask of at most 24/);
  });
});

describe('allocatePodCidrs', () => {
  it('gives the lowest free blocks in order, skipping taken ones', () => {
    const got = allocatePodCidrs(s24, ['10.42.0.0/24', '10.42.2.0/24'], ['a', 'b', 'c']);
    expect([...got]).toEqual([
      ['a', '10.42.1.0/24'],
      ['b', '10.42.3.0/24'],
      ['c', '10.42.4.0/24'],
    ]);
  });

  it('leaves out the names no block is left for', () => {
    const got = allocatePodCidrs({ clusterCIDR: '10.42.0.0/23', nodeMaskSize: 24 }, ['10.42.1.0/24'], ['a', 'b']);
    expect([...got]).toEqual([['a', '10.42.0.0/24']]);
  });

  it('ignores taken blocks of another size or outside the range', () => {
    expect([...allocatePodCidrs(s24, ['10.42.0.0/25', '10.99.0.0/24'], ['a'])]).toEqual([['a', '10.42.0.0/24']]);
    expect(fitsSettings('10.42.0.0/25', s24)).toBe(false);
    expect(fitsSettings('10.42.9.0/24', s24)).toBe(true);
  });
});

describe('node IPAM controller', () => {
  it('gives each node its own block, oldest node first, and writes nothing once settled', () => {
    const w = world([created(node('pi-b'), 2), created(node('pi-a'), 1), created(node('server'), 0)]);
    const ipam = nodeIpamController(s24);
    const changes = ipam.reconcile(snapshot(w)).changes;
    expect(changes.map((c) => (c.op === 'put' ? [c.object.metadata.name, (c.object as ReturnType<typeof node>).spec?.podCIDR, (c.object as ReturnType<typeof node>).spec?.podCIDRs] : c.op))).toEqual([
      ['server', '10.42.0.0/24', ['10.42.0.0/24']],
      ['pi-a', '10.42.1.0/24', ['10.42.1.0/24']],
      ['pi-b', '10.42.2.0/24', ['10.42.2.0/24']],
    ]);
    applyChanges(w, changes);
    expect(ipam.reconcile(snapshot(w)).changes).toEqual([]);
  });

  it('a deleted node frees its block for the next node', () => {
    const w = world([created(node('a'), 0), created(node('b'), 1)]);
    const ipam = nodeIpamController(s24);
    applyChanges(w, ipam.reconcile(snapshot(w)).changes);
    applyChanges(w, [{ op: 'delete', ref: { kind: 'Node', name: 'a' } }]);
    w.objects.Node = [...w.objects.Node, created(node('c'), 2)];
    const changes = ipam.reconcile(snapshot(w)).changes;
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ op: 'put', object: { metadata: { name: 'c' }, spec: { podCIDR: '10.42.0.0/24' } } });
  });

  it('replaces a block outside changed settings, and the younger of two nodes holding one block', () => {
    const a = created({ ...node('a'), spec: { podCIDR: '10.42.5.0/24', podCIDRs: ['10.42.5.0/24'] } }, 0);
    const b = created({ ...node('b'), spec: { podCIDR: '10.42.5.0/24', podCIDRs: ['10.42.5.0/24'] } }, 1);
    const c = created({ ...node('c'), spec: { podCIDR: '10.99.0.0/24' } }, 2);
    const changes = podCidrChanges([c, b, a], s24, T0);
    expect(changes.map((ch) => (ch.op === 'put' ? `${ch.object.metadata.name} ${(ch.object as typeof a).spec?.podCIDR}` : ch.op))).toEqual(['b 10.42.0.0/24', 'c 10.42.1.0/24']);
  });

  it('a full range: the node joins without a block, NetworkUnavailable=True once, an event; a block later clears it', () => {
    const small = { clusterCIDR: '10.42.0.0/24', nodeMaskSize: 24 };
    const w = world([created(node('a'), 0), created(node('b'), 1)]);
    const ipam = nodeIpamController(small);
    const first = ipam.reconcile(snapshot(w)).changes;
    expect(first.map((c) => c.op)).toEqual(['put', 'status']);
    const status = first[1] as { op: 'status'; status: { conditions: { type: string; status: string; reason: string; message: string }[] } };
    expect(status.status.conditions.find((x) => x.type === 'NetworkUnavailable')).toMatchObject({
      status: 'True',
      reason: 'CIDRNotAvailable',
      message: 'no free /24 pod CIDR left in --cluster-cidr 10.42.0.0/24 (1 blocks, all taken): node b has no pod network until a node is deleted or the range is widened',
    });
    const events = controllerEvents('node-ipam', snapshot(w), first);
    expect(events.map((e) => `${e.type} ${e.reason} ${e.involved.kind}/${e.involved.name}`)).toEqual(['Warning CIDRNotAvailable Node/b']);
    applyChanges(w, first);
    // Settled while full: no rewrite, no second event.
    expect(ipam.reconcile(snapshot(w)).changes).toEqual([]);
    applyChanges(w, [{ op: 'delete', ref: { kind: 'Node', name: 'a' } }]);
    const later = ipam.reconcile(snapshot(w)).changes;
    expect(later[0]).toMatchObject({ op: 'put', object: { metadata: { name: 'b' }, spec: { podCIDR: '10.42.0.0/24' } } });
    expect(later[1]).toMatchObject({ op: 'status', status: { conditions: expect.arrayContaining([expect.objectContaining({ type: 'NetworkUnavailable', status: 'False', reason: 'CIDRAssigned' })]) } });
    expect(controllerEvents('node-ipam', snapshot(w), later)).toEqual([]);
  });
});
