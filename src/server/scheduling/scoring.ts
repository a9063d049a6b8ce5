/**
 * PURE: how the scheduler ranks the nodes that can take a pod, as Kubernetes' score plugins do:
 * each plugin's raw figures over the feasible nodes are normalised to 0..100, then added with
 * Kubernetes' default plugin weights (TaintToleration 3, NodeAffinity 2, InterPodAffinity 2,
 * PodTopologySpread 2). Nodes that tie keep the old order (fewest pods of the group, fewest
 * pods, name), so a pod without preferences lands where it always did.
 */

/** Raw figures of one node: higher is better for affinity, lower for the others. */
export interface RawScores {
  /** Preferred node affinity: weights of the terms the node matches. */
  nodePreference: number;
  /** Preferred pod affinity minus anti-affinity. */
  podPreference: number;
  /** ScheduleAnyway spread: selected pods in the node's domain. */
  spreadPenalty: number;
  /** PreferNoSchedule taints the pod does not tolerate. */
  preferNoSchedule: number;
}

export const SCORE_WEIGHTS = { nodePreference: 2, podPreference: 2, spreadPenalty: 2, preferNoSchedule: 3 } as const;

const MAX_SCORE = 100;

/** Higher raw = better: scaled so the best node scores 100 (all 100 when every node ties). */
function higherBetter(values: readonly number[]): number[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((v) => (max === min ? MAX_SCORE : ((v - min) * MAX_SCORE) / (max - min)));
}

/** Lower raw = better. */
function lowerBetter(values: readonly number[]): number[] {
  return higherBetter(values.map((v) => -v));
}

/** One total per node, in the order given. */
export function totalScores(raw: readonly RawScores[]): number[] {
  if (raw.length === 0) return [];
  const parts = [
    higherBetter(raw.map((r) => r.nodePreference)).map((s) => s * SCORE_WEIGHTS.nodePreference),
    higherBetter(raw.map((r) => r.podPreference)).map((s) => s * SCORE_WEIGHTS.podPreference),
    lowerBetter(raw.map((r) => r.spreadPenalty)).map((s) => s * SCORE_WEIGHTS.spreadPenalty),
    lowerBetter(raw.map((r) => r.preferNoSchedule)).map((s) => s * SCORE_WEIGHTS.preferNoSchedule),
  ];
  return raw.map((_, i) => parts.reduce((sum, p) => sum + p[i]!, 0));
}
