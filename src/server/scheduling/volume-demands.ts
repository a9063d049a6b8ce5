/**
 * PURE: where a pod's persistent volumes let it go (docs/manifests.md "Persistent volumes"):
 * a bound volume's nodeAffinity (a local-path volume: its one node), the node already chosen
 * for a claim waiting for its first pod, or a reason no node can take the pod at all.
 */
import type { VolumeNodeAffinity } from '../../core/objects/storage.js';
import { claimKey, podClaimNames, type ClaimIndex } from '../controllers/claim-index.js';
import { namespaceOf, type Pod } from '../controllers/object-kit.js';

export interface VolumeDemands {
  /** The bound volumes' nodeAffinity: the node must match each. */
  affinities: VolumeNodeAffinity[];
  /** The node a waiting claim was given (volume.kubernetes.io/selected-node): only that one. */
  node?: string;
  /** Claims ("ns/name") that wait for this pod's node: the binding annotates them with it. */
  waiting: string[];
  /** Why no node can take the pod (a missing class, a shared mode local-path cannot give, …). */
  problem?: string;
}

/** The pod's volume demands, or undefined when it has no claim object (named node volumes bind nothing). */
export function volumeDemandsOf(pod: Pod, claims: ClaimIndex): VolumeDemands | undefined {
  const ns = namespaceOf(pod);
  const out: VolumeDemands = { affinities: [], waiting: [] };
  let any = false;
  for (const name of new Set(podClaimNames(pod))) {
    const state = claims.state(ns, name, `${ns}/${pod.metadata.name}`);
    if (state.kind === 'named') continue;
    any = true;
    if (state.kind === 'unbindable') out.problem ??= state.reason;
    else if (state.kind === 'bound') {
      if (state.volume.spec.nodeAffinity) out.affinities.push(state.volume.spec.nodeAffinity);
    } else if (state.node !== undefined) {
      if (out.node !== undefined && out.node !== state.node) out.problem ??= `its claims were given different nodes (${out.node}, ${state.node})`;
      out.node = state.node;
    } else out.waiting.push(claimKey(ns, name));
  }
  return any ? out : undefined;
}
