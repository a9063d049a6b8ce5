/**
 * PURE: which nodes can take a new pod, which one is best, and — when none can — why, in the
 * words of Kubernetes' FailedScheduling ("0/3 nodes are available: 3 node(s) didn't match Pod's
 * node affinity/selector"). Holds the pods on each node during one pass, so memory, hostPorts,
 * pod (anti-)affinity and topology spread are judged on the pass's own bindings too.
 */
import { isSelfLabel } from '../../core/self-labels.js';
import { tolerates, tolerationDeadline, UNSCHEDULABLE_TAINT_KEY, untolerated, type Taint } from '../../core/objects/taint-rules.js';
import { parseTime } from '../controllers/object-kit.js';
import { ARCH_LABEL, OS_LABEL } from '../node-labels.js';
import { acceptsNewPods, type NodeView } from './node-view.js';
import type { PodDemands } from './pod-demands.js';
import type { VolumeDemands } from './volume-demands.js';
import { volumeAffinityMatches } from '../controllers/claim-index.js';
import { hasRequiredAntiAffinity, interPodRejection, nodeAffinityMatches, nodePreferenceScore, podPreferenceScore, type AffinityPod, type NamespaceLabels, type PodsByNode } from './affinity.js';
import { spreadPenalty, spreadRejection, type NodeFilters } from './spread.js';
import { totalScores, type RawScores } from './scoring.js';

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
export const REJECTIONS = ['notReady', 'cordoned', 'taint', 'selector', 'volume', 'arch', 'ports', 'memory', 'spreadLabel', 'spread', 'existingAntiAffinity', 'podAntiAffinity', 'podAffinity'] as const;
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
  spreadLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  spread: "node(s) didn't match pod topology spread constraints",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  podAntiAffinity: "node(s) didn't match pod anti-affinity rules",
  podAffinity: "node(s) didn't match pod affinity rules",
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

/** When a pod tolerating the node's NoExecute taints for a while must leave (ms); undefined = never. */
export function tolerationEvictionAt(d: PodDemands, node: NodeView): number | undefined {
  return tolerationDeadline(node.taints, d.tolerations, (t) => (typeof t.timeAdded === 'string' ? parseTime(t.timeAdded) : undefined));
}

/** grove.io/arch restricts only when the pod says so and the node has reported its arch. */
export function archMatches(d: PodDemands, node: NodeView): boolean {
  return d.arch === undefined || node.arch === undefined || d.arch.includes(node.arch);
}

/** A pod's persistent volumes allow the node: the node chosen for its waiting claims, its bound volumes' nodeAffinity. */
export function volumesAllow(v: VolumeDemands, node: NodeView): boolean {
  if (v.node !== undefined && v.node !== node.name) return false;
  return v.affinities.every((a) => volumeAffinityMatches(a, node));
}

/** nodeSelector and required node affinity: what "didn't match Pod's node affinity/selector" means. */
export function nodeSelectionMatches(d: PodDemands, node: NodeView): boolean {
  return selectorMatches(d.nodeSelector, node.labels) && nodeAffinityMatches(d.affinity, node);
}

/** Whether the pod asks anything of its neighbours or has preferences to score. */
function needsPods(d: PodDemands): boolean {
  const a = d.affinity;
  return (d.spread?.length ?? 0) > 0 || a?.podAffinity !== undefined || a?.podAntiAffinity !== undefined;
}

export class Placement implements PodsByNode {
  private readonly onNode = new Map<string, Map<string, PlacedPod>>();
  /** Placed pods with required anti-affinity: every new pod is checked against them. */
  private readonly antiAffinity = new Map<string, PlacedPod>();
  private readonly byName: ReadonlyMap<string, NodeView>;

  /** `nodes` sorted by name; `namespaces`: namespace labels, for namespaceSelector. */
  constructor(
    readonly nodes: readonly NodeView[],
    private readonly namespaces: NamespaceLabels = new Map(),
  ) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
  }

  add(p: PlacedPod): void {
    let here = this.onNode.get(p.node);
    if (!here) this.onNode.set(p.node, (here = new Map()));
    here.set(p.key, p);
    if (hasRequiredAntiAffinity(p.demands) && p.demands.labels) this.antiAffinity.set(p.key, p);
  }

  delete(p: PlacedPod): void {
    this.onNode.get(p.node)?.delete(p.key);
    this.antiAffinity.delete(p.key);
  }

  /** PodsByNode: the pods on a node as affinity and spread read them. */
  podsAt(node: string): AffinityPod[] {
    return [...(this.onNode.get(node)?.values() ?? [])].map((p) => p.demands);
  }

  withAntiAffinity(): { node: NodeView; pod: AffinityPod }[] {
    const out: { node: NodeView; pod: AffinityPod }[] = [];
    for (const p of this.antiAffinity.values()) {
      const node = this.byName.get(p.node);
      if (node) out.push({ node, pod: p.demands });
    }
    return out;
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
    if (!nodeSelectionMatches(d, node)) return 'selector';
    if (d.volumes && !volumesAllow(d.volumes, node)) return 'volume';
    if (!archMatches(d, node)) return 'arch';
    if (this.hostPortTaken(d, node)) return 'ports';
    if (!this.fits(d, node)) return 'memory';
    if (!needsPods(d) && this.antiAffinity.size === 0) return undefined;
    return spreadRejection(d, node, this, this.nodeFilters(d)) ?? interPodRejection(d, node, this, this.namespaces);
  }

  private nodeFilters(d: PodDemands): NodeFilters {
    return {
      matchesNodeAffinity: (n) => nodeSelectionMatches(d, n),
      toleratesTaints: (n) => untolerated(n.taints, d.tolerations, ['NoSchedule', 'NoExecute']).length === 0,
    };
  }

  /** The raw figures the scores are made of (scoring.ts). */
  private rawScores(d: PodDemands, node: NodeView): RawScores {
    const filters = this.nodeFilters(d);
    return {
      nodePreference: nodePreferenceScore(d.affinity, node),
      podPreference: d.affinity?.podAffinity || d.affinity?.podAntiAffinity ? podPreferenceScore(d, node, this, this.namespaces) : 0,
      spreadPenalty: d.spread ? spreadPenalty(d, node, this, filters) : 0,
      preferNoSchedule: untolerated(node.taints, d.tolerations, ['PreferNoSchedule']).length,
    };
  }

  /**
   * The best-scoring node that can take the pod (scoring.ts: preferred affinity, ScheduleAnyway
   * spread, PreferNoSchedule taints); ties go to the fewest pods of the group, then fewest pods
   * in total, then name: spreads and is stable.
   */
  bestNodeFor(d: PodDemands, group: string): NodeView | undefined {
    const feasible = this.nodes.filter((node) => this.rejection(d, node) === undefined);
    const scores = totalScores(feasible.map((node) => this.rawScores(d, node)));
    let best: NodeView | undefined;
    let bestKey: [number, number, number] = [Infinity, Infinity, Infinity];
    feasible.forEach((node, i) => {
      const here = this.podsOn(node.name);
      const key: [number, number, number] = [-scores[i]!, here.filter((p) => p.group === group).length, here.length];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = node;
        bestKey = key;
      }
    });
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
