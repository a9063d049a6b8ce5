/**
 * PURE scheduler: binds Pending pods to nodes and says why the rest cannot be bound, keeping
 * 0.1's rules (docs/architecture.md "Controllers"):
 *
 * - Stability first: a bound pod stays where it is while its node exists and still matches its
 *   nodeSelector and grove.io/arch. Nothing moves to rebalance; edge links are slow and metered.
 *   Cordon, memory and hostPorts only gate new bindings, as `kubectl cordon` does.
 * - A new pod goes to the node with fewest pods of its group (same controller), then fewest
 *   pods, then by name; one no node can take stays Pending with `PodScheduled=False, reason
 *   Unschedulable` and Kubernetes' FailedScheduling text, rewritten only when it changes.
 * - Eviction: a pod of a ReplicaSet whose node has been NotReady longer than the eviction
 *   timeout is deleted (its ReplicaSet makes a replacement) only when a node can take the
 *   replacement right now, and never while more than 55 % of the nodes are NotReady at once:
 *   then the server is more likely the one cut off (the partition guard).
 */
import { byName, type NodeView } from './node-view.js';
import { Placement, tolerationEvictionAt, type PlacedPod } from './placement.js';
import type { PodDemands } from './pod-demands.js';
import type { NamespaceLabels } from './affinity.js';

export const DEFAULT_EVICTION_TIMEOUT_MS = 5 * 60_000;
/** More than this share of nodes NotReady at once pauses evictions (likely a partition). */
export const PARTITION_THRESHOLD = 0.55;

export interface SchedulingPod {
  /** "namespace/name". */
  key: string;
  /** spec.nodeName; absent = Pending. */
  node?: string;
  group: string;
  demands: PodDemands;
  /** creationTimestamp in ms (absent sorts last): oldest are bound first. */
  createdAt?: number;
  /** The scheduler may delete it when its node no longer matches (not DaemonSet pods: their controller decides). */
  movable: boolean;
  /** Evicted from a long-NotReady node (ReplicaSet pods only); its timeout. */
  evictionTimeoutMs?: number;
  /** The PodScheduled=False message it carries now, if any. */
  unschedulableMessage?: string;
}

export interface ScheduleInput {
  pods: readonly SchedulingPod[];
  nodes: readonly NodeView[];
  now: number;
  /** Namespace labels, for pod affinity's namespaceSelector (affinity.ts). */
  namespaces?: NamespaceLabels;
}

export interface ScheduleResult {
  /** `claims`: the pod's claims waiting for their first pod ("ns/name"), to be given this node. */
  bindings: { key: string; node: string; claims?: string[] }[];
  /** Pending pods whose FailedScheduling message is new or changed. */
  unschedulable: { key: string; message: string }[];
  deletions: { key: string; reason: 'NodeGone' | 'NodeMismatch' | 'Evicted' | 'TaintManagerEviction' }[];
  /** Set when the partition guard holds evictions back. */
  evictionsPaused?: { notReady: number; total: number };
  /** When the next eviction falls due if nothing changes (ms). */
  nextEvictionAt?: number;
}

function oldestFirst(a: SchedulingPod, b: SchedulingPod): number {
  const ca = a.createdAt ?? Infinity;
  const cb = b.createdAt ?? Infinity;
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export function schedule(input: ScheduleInput): ScheduleResult {
  const nodes = [...input.nodes].sort(byName);
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const placement = new Placement(nodes, input.namespaces);
  const result: ScheduleResult = { bindings: [], unschedulable: [], deletions: [] };
  const pods = [...input.pods].sort(oldestFirst);
  const placed = (p: SchedulingPod, node: string): PlacedPod => ({ key: p.key, node, group: p.group, demands: p.demands });

  const bound: SchedulingPod[] = [];
  for (const p of pods) {
    if (p.node === undefined) continue;
    const node = nodeByName.get(p.node);
    // Pods on a node that left go first, so they free nothing they never held.
    if (!node) result.deletions.push({ key: p.key, reason: 'NodeGone' });
    else bound.push(p);
  }
  for (const p of bound) placement.add(placed(p, p.node!));
  for (const p of bound) {
    const node = nodeByName.get(p.node!)!;
    if (!p.movable) continue;
    if (!placement.canKeep(p.demands, node)) {
      placement.delete(placed(p, node.name));
      result.deletions.push({ key: p.key, reason: 'NodeMismatch' });
      continue;
    }
    // A NoExecute taint tolerated for tolerationSeconds: the pod leaves when they run out.
    const due = tolerationEvictionAt(p.demands, node);
    if (due === undefined) continue;
    if (input.now >= due) {
      placement.delete(placed(p, node.name));
      result.deletions.push({ key: p.key, reason: 'TaintManagerEviction' });
    } else if (result.nextEvictionAt === undefined || due < result.nextEvictionAt) result.nextEvictionAt = due;
  }

  evict(input, nodes, bound, placement, result);

  // Claims given a node in this pass: later pods sharing one go to the same node.
  const claimNodes = new Map<string, string>();
  for (const p of pods) {
    if (p.node !== undefined) continue;
    const problem = p.demands.volumes?.problem;
    if (problem !== undefined) {
      const message = `0/${nodes.length} nodes are available: ${problem}`;
      if (message !== p.unschedulableMessage) result.unschedulable.push({ key: p.key, message });
      continue;
    }
    const demands = withClaimNodes(p.demands, claimNodes);
    const node = placement.bestNodeFor(demands, p.group);
    if (node) {
      placement.add(placed(p, node.name));
      const claims = demands.volumes?.waiting ?? [];
      for (const c of claims) claimNodes.set(c, node.name);
      result.bindings.push({ key: p.key, node: node.name, ...(claims.length > 0 ? { claims } : {}) });
      continue;
    }
    const message = placement.explain(demands);
    if (message !== p.unschedulableMessage) result.unschedulable.push({ key: p.key, message });
  }
  return result;
}

/** The demands with the node chosen earlier in the pass for one of its waiting claims. */
function withClaimNodes(d: PodDemands, claimNodes: ReadonlyMap<string, string>): PodDemands {
  const v = d.volumes;
  const chosen = v?.waiting.map((c) => claimNodes.get(c)).find((n) => n !== undefined);
  if (!v || chosen === undefined) return d;
  return { ...d, volumes: { ...v, node: chosen, waiting: v.waiting.filter((c) => !claimNodes.has(c)) } };
}

function evict(input: ScheduleInput, nodes: readonly NodeView[], bound: readonly SchedulingPod[], placement: Placement, result: ScheduleResult): void {
  const notReady = nodes.filter((n) => !n.ready).length;
  if (notReady > PARTITION_THRESHOLD * nodes.length) {
    result.evictionsPaused = { notReady, total: nodes.length };
    return;
  }
  const deleted = new Set(result.deletions.map((d) => d.key));
  const byNode = new Map(nodes.map((n) => [n.name, n]));
  for (const p of bound) {
    if (p.evictionTimeoutMs === undefined || deleted.has(p.key)) continue;
    const node = byNode.get(p.node!)!;
    if (node.ready || node.notReadySince === undefined) continue;
    const due = node.notReadySince + p.evictionTimeoutMs;
    if (input.now < due) {
      if (result.nextEvictionAt === undefined || due < result.nextEvictionAt) result.nextEvictionAt = due;
      continue;
    }
    // Moved, never just dropped: with nowhere to go it stays, and runs on if its node returns.
    const target = placement.bestNodeFor(p.demands, p.group);
    if (!target) continue;
    placement.delete({ key: p.key, node: node.name, group: p.group, demands: p.demands });
    // Its replacement comes from the ReplicaSet in the next pass: hold its room meanwhile, so
    // two evictions in one pass do not both count on the same free memory.
    placement.add({ key: `${p.key}#replacement`, node: target.name, group: p.group, demands: p.demands });
    result.deletions.push({ key: p.key, reason: 'Evicted' });
  }
}
