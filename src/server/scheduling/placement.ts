/**
 * PURE: which nodes can take a new pod, which one is best, and — when none can — why, in the
 * words of Kubernetes' FailedScheduling ("0/3 nodes are available: 3 node(s) didn't match Pod's
 * node affinity/selector"). Holds the pods on each node during one pass, so memory and
 * hostPorts are judged on the pass's own bindings too.
 */
import { isSelfLabel } from '../../core/self-labels.js';
import { tolerates, UNSCHEDULABLE_TAINT_KEY, untolerated, type Taint } from '../../core/objects/taint-rules.js';
import { ARCH_LABEL, OS_LABEL } from '../node-labels.js';
import { acceptsNewPods, type NodeView } from './node-view.js';
import type { PodDemands } from './pod-demands.js';
import type { VolumeDemands } from './volume-demands.js';
import { volumeAffinityMatches } from '../controllers/claim-index.js';

/** A pod on a node, as placement counts it. */
export interface PlacedPod {
  /** "namespace/name". */
  key: string;
  node: string;
  /** Pods of one group spread over nodes: the controller's uid (or the pod's key for a bare pod). */
  group: string;
  demands: PodDemands;
}

/**
 * Why a node cannot take a new pod, checked in this order (Kubernetes' filter order): each
 * node is counted once, under the first check it fails.
 */
export const REJECTIONS = ['notReady', 'cordoned', 'taint', 'selector', 'volume', 'arch', 'ports', 'memory'] as const;
export type Rejection = (typeof REJECTIONS)[number];

const REJECTION_TEXT: Record<Rejection, string> = {
  notReady: 'node(s) were not ready',
  cordoned: 'node(s) were cordoned',
  taint: 'node(s) had untolerated taint(s)',
  selector: "node(s) didn't match Pod's node affinity/selector",
  volume: 'node(s) had volume node affinity conflict',
  arch: "node(s) didn't match the app's grove.io/arch",
  ports: "node(s) didn't have free ports for the requested pod ports",
  memory: 'Insufficient memory',
};

/** "3 node(s) didn't match …, 1 node(s) were cordoned": groups in REJECTIONS order. */
export function rejectionsText(counts: ReadonlyMap<Rejection, number>): string {
  return REJECTIONS.filter((r) => (counts.get(r) ?? 0) > 0)
    .map((r) => `${counts.get(r)} ${REJECTION_TEXT[r]}`)
    .join(', ');
}

/** The FailedScheduling message for `total` nodes that each failed a check. */
export function failedSchedulingMessage(total: number, counts: ReadonlyMap<Rejection, number>): string {
  if (total === 0) return '0/0 nodes are available: no node has joined the cluster';
  return `0/${total} nodes are available: ${rejectionsText(counts) || 'no node could take the pod'}`;
}

export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** Labels a node reports about itself (its own prefix) or the server derives from its report. */
function reportedByNode(key: string): boolean {
  return isSelfLabel(key) || key === OS_LABEL || key === ARCH_LABEL;
}

/**
 * Whether a node with pods keeps matching `selector`. Before its first report (a Node migrated
 * from 0.1, whose self-reported labels 0.1 never stored, at the server's first start) a missing
 * label of those it reports itself does not count against it: its pods stay until it says
 * otherwise, as unknown facts never make a node ineligible. New pods still wait for the labels.
 */
export function keepsSelector(selector: Readonly<Record<string, string>>, node: NodeView): boolean {
  for (const [k, v] of Object.entries(selector)) {
    if (node.labels[k] === v) continue;
    if (!node.factsKnown && node.labels[k] === undefined && reportedByNode(k)) continue;
    return false;
  }
  return true;
}

/** Cordon (spec.unschedulable) keeps the pod off unless it tolerates node.kubernetes.io/unschedulable (DaemonSet pods do). */
export function cordonKeepsOff(d: PodDemands, node: NodeView): boolean {
  return node.cordoned && !d.tolerations.some((t) => tolerates(t, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }));
}

/** Taints that keep a new pod off (NoSchedule, NoExecute), cordon's own left to cordonKeepsOff. */
export function taintsKeepingOff(d: PodDemands, node: NodeView): Taint[] {
  return untolerated(node.taints.filter((t) => t.key !== UNSCHEDULABLE_TAINT_KEY), d.tolerations, ['NoSchedule', 'NoExecute']);
}

/** A NoExecute taint the pod does not tolerate: it may not even stay (Kubernetes' taint eviction). */
export function taintsEvicting(d: PodDemands, node: NodeView): Taint[] {
  return untolerated(node.taints, d.tolerations, ['NoExecute']);
}

/** grove.io/arch restricts only when the pod says so and the node has reported its arch. */
export function archMatches(d: PodDemands, node: NodeView): boolean {
  return d.arch === undefined || node.arch === undefined || d.arch.includes(node.arch);
}

/** A pod's persistent volumes allow the node: the node chosen for its waiting claims, its bound volumes' nodeAffinity. */
export function volumesAllow(v: VolumeDemands, node: NodeView): boolean {
  if (v.node !== undefined && v.node !== node.name) return false;
  return v.affinities.every((a) => volumeAffinityMatches(a, node.labels));
}

export class Placement {
  private readonly onNode = new Map<string, Map<string, PlacedPod>>();

  /** `nodes` sorted by name. */
  constructor(readonly nodes: readonly NodeView[]) {}

  add(p: PlacedPod): void {
    let here = this.onNode.get(p.node);
    if (!here) this.onNode.set(p.node, (here = new Map()));
    here.set(p.key, p);
  }

  delete(p: PlacedPod): void {
    this.onNode.get(p.node)?.delete(p.key);
  }

  podsOn(node: string): PlacedPod[] {
    return [...(this.onNode.get(node)?.values() ?? [])];
  }

  /**
   * Selector, arch and NoExecute taints: what a node must keep matching to keep the pods it has.
   * A label the node reports about itself is unknown, not different, until it has reported
   * (keepsSelector).
   */
  canKeep(d: PodDemands, node: NodeView): boolean {
    return keepsSelector(d.nodeSelector, node) && archMatches(d, node) && taintsEvicting(d, node).length === 0;
  }

  /** The first check a node fails for a new pod; undefined when it can take one. */
  rejection(d: PodDemands, node: NodeView, opts: { ignoreCordon?: boolean; ignoreReadiness?: boolean } = {}): Rejection | undefined {
    if (!opts.ignoreReadiness && !acceptsNewPods(node)) return 'notReady';
    if (!opts.ignoreCordon && cordonKeepsOff(d, node)) return 'cordoned';
    if (taintsKeepingOff(d, node).length > 0) return 'taint';
    if (!selectorMatches(d.nodeSelector, node.labels)) return 'selector';
    if (d.volumes && !volumesAllow(d.volumes, node)) return 'volume';
    if (!archMatches(d, node)) return 'arch';
    if (this.hostPortTaken(d, node)) return 'ports';
    if (!this.fits(d, node)) return 'memory';
    return undefined;
  }

  /** Fewest pods of the group, then fewest pods in total, then name: spreads and is stable. */
  bestNodeFor(d: PodDemands, group: string): NodeView | undefined {
    let best: NodeView | undefined;
    let bestKey: [number, number] = [Infinity, Infinity];
    for (const node of this.nodes) {
      if (this.rejection(d, node) !== undefined) continue;
      const here = this.podsOn(node.name);
      const key: [number, number] = [here.filter((p) => p.group === group).length, here.length];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = node;
        bestKey = key;
      }
    }
    return best;
  }

  /** Why no node can take the pod: every node, counted under its first failed check. */
  explain(d: PodDemands): string {
    return failedSchedulingMessage(this.nodes.length, this.countRejections(d, this.nodes));
  }

  countRejections(d: PodDemands, nodes: readonly NodeView[], opts: { ignoreCordon?: boolean; ignoreReadiness?: boolean } = {}): Map<Rejection, number> {
    const counts = new Map<Rejection, number>();
    for (const node of nodes) {
      const r = this.rejection(d, node, opts);
      if (r) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Requested memory must fit in what the node reported available minus what pods bound there
   * reserve. Conservative on purpose: a running pod's usage shows in the node's figure and its
   * reservation is counted again, which errs towards not packing a 512 MB board to OOM kills.
   */
  fits(d: PodDemands, node: NodeView, releasing?: string): boolean {
    const available = node.memoryAvailableBytes;
    if (d.memoryBytes === 0 || available === undefined) return true;
    let reserved = 0;
    for (const p of this.onNode.get(node.name)?.values() ?? []) if (p.key !== releasing) reserved += p.demands.memoryBytes;
    return d.memoryBytes <= available - reserved;
  }

  /** Kubernetes' NodePorts filter: a second claimant of a hostPort could never start there. */
  private hostPortTaken(d: PodDemands, node: NodeView): boolean {
    if (d.hostPorts.length === 0) return false;
    for (const p of this.onNode.get(node.name)?.values() ?? []) if (p.demands.hostPorts.some((k) => d.hostPorts.includes(k))) return true;
    return false;
  }
}
