/**
 * PURE: what a pod asks of a node, in numbers and keys: memory to reserve (requests, else
 * limits), hostPorts it claims, the node labels it selects, the taints it tolerates, the
 * architectures it accepts, its affinity and spread constraints.
 */
import { ARCH_ANNOTATION, readGroveAnnotations } from '../../core/objects/annotations.js';
import { containerResources } from '../../core/objects/resources.js';
import type { PodSpec } from '../../core/objects/pod.js';
import type { Toleration } from '../../core/objects/taints.js';
import { hostPortKey } from '../../core/wire-ports.js';
import { normArch } from './node-view.js';
import type { OwnerIndex } from '../controllers/owner-index.js';
import { isPodTerminal, namespaceOf, type Pod } from '../controllers/object-kit.js';
import type { Affinity, TopologySpreadConstraint } from '../../core/objects/affinity.js';
import type { VolumeDemands } from './volume-demands.js';

export interface PodDemands {
  memoryBytes: number;
  /** "8080/TCP" keys. */
  hostPorts: string[];
  nodeSelector: Readonly<Record<string, string>>;
  /** spec.tolerations (taints.ts); DaemonSet pods also Kubernetes' implicit ones. */
  tolerations: readonly Toleration[];
  /** grove.io/arch; absent = any. */
  arch?: string[];
  /** Where its persistent volumes let it go (volume-demands.ts); absent = no claim object. */
  volumes?: VolumeDemands;
  /** The pod's namespace and labels (absent once it has ended), for pod affinity and spread. */
  namespace: string;
  labels?: Readonly<Record<string, string>>;
  /** spec.affinity, spec.topologySpreadConstraints (affinity.ts, spread.ts). */
  affinity?: Affinity;
  spread?: readonly TopologySpreadConstraint[];
}

/**
 * `annotations`: the pod's own first, then its top-level workload's (the first that sets a key
 * wins). A value that does not parse counts as absent (the API refused bad ones at apply).
 */
export function podDemands(spec: PodSpec, ...annotations: (Readonly<Record<string, string>> | undefined)[]): PodDemands {
  let memoryBytes = 0;
  for (const c of spec.containers) {
    try {
      const r = containerResources(c.resources);
      memoryBytes += r.requestMemoryBytes ?? 0;
    } catch {
      // Refused at apply; a bad value from an older store reserves nothing rather than fail the pass.
    }
  }
  const ports = new Set<string>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const p of c.ports ?? []) if (p.hostPort !== undefined) ports.add(hostPortKey({ hostPort: p.hostPort, protocol: p.protocol ?? 'TCP' }));
  }
  const out: PodDemands = { memoryBytes, hostPorts: [...ports], nodeSelector: spec.nodeSelector ?? {}, tolerations: spec.tolerations ?? [], namespace: 'default' };
  if (spec.affinity) out.affinity = spec.affinity;
  if (spec.topologySpreadConstraints?.length) out.spread = spec.topologySpreadConstraints;
  // Reading every grove.io/ annotation is costly over a fleet's pods; most say nothing of arch.
  const arch = annotations.some((a) => a?.[ARCH_ANNOTATION] !== undefined) ? readGroveAnnotations(...annotations).arch : undefined;
  if (arch) out.arch = arch.map(normArch);
  return out;
}

/**
 * What a stored pod asks of its node, its top-level workload's annotations included. A pod that
 * has ended (Succeeded, Failed: a finished Job's) holds no memory and no port any more, as
 * Kubernetes counts it; its selectors still say where it may stay.
 */
export function podDemandsOf(pod: Pod, owners: OwnerIndex): PodDemands {
  const top = owners.topLevel(pod);
  const d = { ...podDemands(pod.spec, pod.metadata.annotations, top === pod ? undefined : top.metadata.annotations), namespace: namespaceOf(pod) };
  // An ended pod is nobody's neighbour: no affinity term selects it.
  return isPodTerminal(pod) ? { ...d, memoryBytes: 0, hostPorts: [] } : { ...d, labels: pod.metadata.labels ?? {} };
}
