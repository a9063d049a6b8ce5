/**
 * PURE: topologySpreadConstraints as Kubernetes' PodTopologySpread plugin judges them. The
 * pods counted are those of the pod's namespace that the constraint's labelSelector (with the
 * pod's values of matchLabelKeys) selects; the domains are the values of the topology key on
 * the nodes that count (nodeAffinityPolicy Honor: those matching the pod's nodeSelector and
 * required node affinity; nodeTaintsPolicy Honor: those whose taints it tolerates).
 * DoNotSchedule filters: placing the pod must not make its domain exceed the smallest domain
 * by more than maxSkew (the smallest counts 0 while fewer than minDomains domains exist).
 * ScheduleAnyway only scores: fewer selected pods in the node's domain score higher.
 */
import { selectorMatches, type SelectorObject } from '../../core/label-selector.js';
import type { TopologySpreadConstraint } from '../../core/objects/affinity.js';
import { domainOf, type AffinityPod, type PodsByNode } from './affinity.js';
import type { NodeView } from './node-view.js';

export interface SpreadPod extends AffinityPod {
  spread?: readonly TopologySpreadConstraint[];
}

/** Whether a node counts for a constraint (its policies), given the pod's node filters. */
export interface NodeFilters {
  matchesNodeAffinity(node: NodeView): boolean;
  toleratesTaints(node: NodeView): boolean;
}

/** The constraint's selector with the pod's values of matchLabelKeys added. */
function selectorFor(c: TopologySpreadConstraint, pod: SpreadPod): SelectorObject | undefined {
  if (!c.labelSelector) return undefined;
  const keys = (c.matchLabelKeys ?? []).filter((k) => pod.labels?.[k] !== undefined);
  if (keys.length === 0) return c.labelSelector;
  return { ...c.labelSelector, matchLabels: { ...c.labelSelector.matchLabels, ...Object.fromEntries(keys.map((k) => [k, pod.labels![k]!])) } };
}

/** Selected pods per domain over the nodes that count (every counted domain present, 0 or more). */
function domainCounts(c: TopologySpreadConstraint, pod: SpreadPod, world: PodsByNode, filters: NodeFilters): Map<string, number> {
  const selector = selectorFor(c, pod);
  const counts = new Map<string, number>();
  for (const node of world.nodes) {
    const domain = domainOf(node, c.topologyKey);
    if (domain === undefined) continue;
    if ((c.nodeAffinityPolicy ?? 'Honor') === 'Honor' && !filters.matchesNodeAffinity(node)) continue;
    if (c.nodeTaintsPolicy === 'Honor' && !filters.toleratesTaints(node)) continue;
    const here = world.podsAt(node.name).filter((q) => q.namespace === pod.namespace && selectorMatches(selector, q.labels)).length;
    counts.set(domain, (counts.get(domain) ?? 0) + here);
  }
  return counts;
}

export type SpreadRejection = 'spread' | 'spreadLabel';

/** The first DoNotSchedule constraint the node breaks for the pod; undefined when it keeps them all. */
export function spreadRejection(pod: SpreadPod, node: NodeView, world: PodsByNode, filters: NodeFilters): SpreadRejection | undefined {
  for (const c of pod.spread ?? []) {
    if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const domain = domainOf(node, c.topologyKey);
    if (domain === undefined) return 'spreadLabel';
    const counts = domainCounts(c, pod, world, filters);
    const fewest = counts.size < (c.minDomains ?? 1) ? 0 : Math.min(...counts.values(), Infinity);
    const self = selectorMatches(selectorFor(c, pod), pod.labels) ? 1 : 0;
    const min = fewest === Infinity ? 0 : fewest;
    if ((counts.get(domain) ?? 0) + self - min > c.maxSkew) return 'spread';
  }
  return undefined;
}

/** ScheduleAnyway's penalty: selected pods in the node's domain, summed over the soft constraints. */
export function spreadPenalty(pod: SpreadPod, node: NodeView, world: PodsByNode, filters: NodeFilters): number {
  let penalty = 0;
  for (const c of pod.spread ?? []) {
    if (c.whenUnsatisfiable !== 'ScheduleAnyway') continue;
    const domain = domainOf(node, c.topologyKey);
    // A node outside every domain is the worst place to spread to.
    penalty += domain === undefined ? Number.MAX_SAFE_INTEGER / 1024 : domainCounts(c, pod, world, filters).get(domain) ?? 0;
  }
  return penalty;
}
