/**
 * The node IPAM controller (Kubernetes' nodeipam range allocator, k3s' default): every Node gets
 * its own pod CIDR — the lowest free --node-cidr-mask-size block of --cluster-cidr — in
 * spec.podCIDR and spec.podCIDRs, which its agent uses for its pods' addresses and the other
 * nodes route to (docs/networking.md "Pod network"). PURE.
 *
 * Why a controller and not the join: one writer of pod CIDRs (the loop runs one pass at a time)
 * can never hand one block out twice, and it also covers Nodes that exist without one (created
 * before this release, through the API, or while the range was full). A Node deleted frees its
 * block: the next Node to need one may get it. A block outside the current settings (the
 * cluster CIDR or mask changed), or one that another, older Node holds too, is replaced.
 *
 * When no block is left the Node still joins; its NetworkUnavailable condition says why (reason
 * CIDRNotAvailable; an event and a log line follow from it), and it gets a block as soon as one
 * is free.
 */
import type { Node } from '../../core/objects/cluster.js';
import type { ObjectChange } from '../../core/objects/changes.js';
import type { Condition } from '../../core/objects/meta.js';
import { allocatePodCidrs, fitsSettings, nodeBlockCount, type PodCidrSettings } from '../../core/network/cluster-ranges.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { conditionOf, oldestFirst, setCondition } from './object-kit.js';

export const NETWORK_UNAVAILABLE = 'NetworkUnavailable';
export const CIDR_NOT_AVAILABLE = 'CIDRNotAvailable';
const CIDR_ASSIGNED = 'CIDRAssigned';

/** The Node with `podCIDR` in spec.podCIDR and spec.podCIDRs. */
function withPodCidr(node: Node, podCIDR: string): Node {
  return { ...node, spec: { ...node.spec, podCIDR, podCIDRs: [podCIDR] } };
}

function unavailable(node: Node, settings: PodCidrSettings): Condition {
  return {
    type: NETWORK_UNAVAILABLE,
    status: 'True',
    reason: CIDR_NOT_AVAILABLE,
    message: `no free /${settings.nodeMaskSize} pod CIDR left in --cluster-cidr ${settings.clusterCIDR} (${nodeBlockCount(settings)} blocks, all taken): node ${node.metadata.name} has no pod network until a node is deleted or the range is widened`,
  };
}

/** The changes that give every Node a valid pod CIDR of its own (oldest Nodes keep theirs first). */
export function podCidrChanges(nodes: readonly Node[], settings: PodCidrSettings, now: number): ObjectChange[] {
  const kept = new Set<string>();
  const wanting: Node[] = [];
  for (const node of [...nodes].sort(oldestFirst)) {
    const cidr = node.spec?.podCIDR;
    if (cidr !== undefined && fitsSettings(cidr, settings) && !kept.has(cidr)) kept.add(cidr);
    else wanting.push(node);
  }
  const given = allocatePodCidrs(settings, kept, wanting.map((n) => n.metadata.name));
  const changes: ObjectChange[] = [];
  for (const node of wanting) {
    const cidr = given.get(node.metadata.name);
    const conditions = node.status?.conditions;
    const was = conditionOf(conditions, NETWORK_UNAVAILABLE);
    if (cidr !== undefined) {
      changes.push({ op: 'put', object: withPodCidr(node, cidr) });
      if (was?.status === 'True' && was.reason === CIDR_NOT_AVAILABLE) {
        const next = setCondition(conditions, { type: NETWORK_UNAVAILABLE, status: 'False', reason: CIDR_ASSIGNED, message: `pod CIDR ${cidr} assigned` }, now);
        changes.push({ op: 'status', ref: { kind: 'Node', name: node.metadata.name }, status: { ...node.status, conditions: next } });
      }
      continue;
    }
    // No block: a stale one is not kept (it would collide with the node now holding it).
    if (node.spec?.podCIDR !== undefined) {
      const { podCIDR: _p, podCIDRs: _ps, ...spec } = node.spec;
      changes.push({ op: 'put', object: { ...node, spec } });
    }
    const next = setCondition(conditions, unavailable(node, settings), now);
    const changed = !conditions || next.length !== conditions.length || next.some((c, i) => c !== conditions[i]);
    if (changed) {
      changes.push({ op: 'status', ref: { kind: 'Node', name: node.metadata.name }, status: { ...node.status, conditions: next } });
    }
  }
  return changes;
}

export function nodeIpamController(settings: PodCidrSettings): Controller {
  return {
    name: 'node-ipam',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      return { changes: podCidrChanges(snapshot.objects.Node, settings, snapshot.now) };
    },
  };
}
