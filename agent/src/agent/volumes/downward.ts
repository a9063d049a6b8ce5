/**
 * The downward API on the node: a pod's own fields (fieldRef) and its containers' limits and
 * requests (resourceFieldRef) as env values and as the files of downwardAPI volumes and
 * projections, resolved when a container is created (the pod's address is known once its
 * sandbox is). PURE: the pod, its address and the node's capacity come in as a context.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { formatMap, parseFieldPath } from '../../../../src/core/downward-api.js';
import { parseK8sMemory } from '../../../../src/core/manifests/k8s-quantity.js';
import { parseCpus } from '../../../../src/core/quantity.js';
import type { DownwardFile, ResourceFieldRef } from '../../../../src/core/resolved-pod.js';
import { containerResources } from '../../../../src/core/objects/resources.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { ProjectedFile } from './atomic-writer.js';

/** What the node knows of itself: limits a container does not set read as the node's capacity, as the kubelet's allocatable. */
export interface NodeCapacity {
  cpus: number;
  memoryBytes: number;
  /** The node's InternalIP (status.hostIP); absent when it has none. */
  hostIP?: string;
}

export interface DownwardContext {
  pod: WirePodTarget;
  /** The pod's address on the node bridge (its sandbox's); absent before it has one. */
  podIP?: string;
  node: NodeCapacity;
}

/** The value of one fieldPath (the schema admitted only known paths). */
export function fieldValue(ctx: DownwardContext, fieldPath: string): string {
  const f = parseFieldPath(fieldPath);
  if (!f) throw new GroveError(ErrorCode.InvalidArgument, `fieldRef: unsupported fieldPath "${fieldPath}"`);
  const { pod } = ctx;
  if ('key' in f) return (f.field === 'metadata.labels' ? pod.labels : pod.annotations)?.[f.key] ?? '';
  switch (f.field) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'metadata.labels':
      return formatMap(pod.labels);
    case 'metadata.annotations':
      return formatMap(pod.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      // Kubernetes' admission fills in "default"; Grove keeps the stored spec as written.
      return pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.node.hostIP ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      // On the host's network the pod's address is the node's.
      return pod.spec.hostNetwork ? (ctx.node.hostIP ?? '') : (ctx.podIP ?? '');
  }
}

/**
 * A limit or request in units of `divisor`, rounded up (Kubernetes' convertResourceCPUToString /
 * convertResourceMemoryToString). A limit the container does not set is the node's capacity; a
 * request it does not set is its limit when that is set (Kubernetes' defaulting), else 0.
 */
export function resourceValue(ctx: DownwardContext, ref: ResourceFieldRef, ownContainer?: string): string {
  const name = ref.containerName ?? ownContainer;
  const container = [...ctx.pod.spec.containers, ...(ctx.pod.spec.initContainers ?? [])].find((c) => c.name === name);
  if (!container) throw new GroveError(ErrorCode.InvalidArgument, `resourceFieldRef: the pod has no container "${name ?? ''}"`);
  const r = containerResources(container.resources);
  const divisor = ref.divisor ?? 1;
  if (ref.resource === 'limits.cpu' || ref.resource === 'requests.cpu') {
    const cores = ref.resource === 'limits.cpu' ? (r.cpus ?? ctx.node.cpus) : (r.requestCpus ?? r.cpus ?? 0);
    const unit = parseCpus(divisor, 'resourceFieldRef.divisor');
    if (!(unit > 0)) throw new GroveError(ErrorCode.InvalidArgument, `resourceFieldRef.divisor: "${divisor}" must be more than 0`);
    // In millicores, as Kubernetes divides: no float noise for 0.5 / 1m.
    return String(Math.ceil(Math.round(cores * 1000) / Math.round(unit * 1000)));
  }
  const bytes = ref.resource === 'limits.memory' ? (r.memoryBytes ?? ctx.node.memoryBytes) : (r.requestMemoryBytes ?? r.memoryBytes ?? 0);
  const unit = parseK8sMemory(divisor, 'resourceFieldRef.divisor');
  if (!(unit > 0)) throw new GroveError(ErrorCode.InvalidArgument, `resourceFieldRef.divisor: "${divisor}" must be more than 0`);
  return String(Math.ceil(bytes / unit));
}

/** The files of a downwardAPI volume or projection, each with its mode (else `defaultMode`). */
export function downwardFiles(items: readonly DownwardFile[], ctx: DownwardContext, defaultMode: number): ProjectedFile[] {
  return items.map((item) => ({
    path: item.path,
    content: item.fieldRef ? fieldValue(ctx, item.fieldRef.fieldPath) : resourceValue(ctx, item.resourceFieldRef!),
    mode: item.mode ?? defaultMode,
  }));
}
