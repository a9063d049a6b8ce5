/**
 * PURE: the cluster's address ranges (docs/networking.md "Pod network"): each node gets the
 * lowest free /mask block of the cluster CIDR as its pod CIDR (as Kubernetes' range allocator
 * and k3s do), and the ranges are checked once at server start — a cluster CIDR that overlaps the
 * service CIDR, or a mask that leaves no room, stops the start with one line naming the flags.
 */
import { ErrorCode, GroveError } from '../errors.js';
import type { OverlayBackend, OverlaySettings } from './view.js';
import { cidrSetting, cidrsOverlap, cidrWithin, formatCidr, parseCidr, subBlock, type Cidr } from './cidr.js';

export const OVERLAY_BACKENDS = ['vxlan', 'host-gw', 'none'] as const satisfies readonly OverlayBackend[];
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;
/** Largest node block prefix: a /28 still holds 13 pods (network, gateway and broadcast taken). */
export const MAX_NODE_CIDR_MASK_SIZE = 28;
/** At most 2^16 node blocks, Kubernetes' limit too: the allocator scans them. */
const MAX_NODE_BLOCK_BITS = 16;

export interface PodCidrSettings {
  /** --cluster-cidr, e.g. 10.42.0.0/16. */
  clusterCIDR: string;
  /** --node-cidr-mask-size, e.g. 24. */
  nodeMaskSize: number;
}

export interface ClusterRanges extends PodCidrSettings {
  /** --service-cidr, e.g. 10.43.0.0/16. */
  serviceCIDR: string;
}

/** The server's network settings, checked: what the network view carries to every node. */
export interface ClusterNetworkSettings extends ClusterRanges {
  overlay: OverlaySettings;
}

/** Checks the ranges the server starts with; throws ConfigInvalid with one line naming the flags. */
export function checkClusterRanges(r: ClusterRanges): void {
  const cluster = cidrSetting(r.clusterCIDR, '--cluster-cidr');
  const service = cidrSetting(r.serviceCIDR, '--service-cidr');
  if (cidrsOverlap(cluster, service)) {
    throw new GroveError(ErrorCode.ConfigInvalid, `--cluster-cidr ${r.clusterCIDR} and --service-cidr ${r.serviceCIDR} overlap: pod and service addresses must come from separate ranges`);
  }
  const mask = r.nodeMaskSize;
  if (!Number.isInteger(mask) || mask < cluster.prefix || mask > MAX_NODE_CIDR_MASK_SIZE) {
    throw new GroveError(ErrorCode.ConfigInvalid, `--node-cidr-mask-size ${mask} must be from ${cluster.prefix} (the --cluster-cidr ${r.clusterCIDR} prefix) to ${MAX_NODE_CIDR_MASK_SIZE}`);
  }
  if (mask - cluster.prefix > MAX_NODE_BLOCK_BITS) {
    throw new GroveError(ErrorCode.ConfigInvalid, `--node-cidr-mask-size ${mask} splits --cluster-cidr ${r.clusterCIDR} into more than ${2 ** MAX_NODE_BLOCK_BITS} node blocks: use a mask of at most ${cluster.prefix + MAX_NODE_BLOCK_BITS}`);
  }
}

/** How many node blocks the settings give (the most nodes with a pod network). */
export function nodeBlockCount(s: PodCidrSettings): number {
  const cluster = parseCidr(s.clusterCIDR);
  return cluster ? 2 ** (s.nodeMaskSize - cluster.prefix) : 0;
}

/**
 * Whether a node's recorded pod CIDR is one the settings could have given: a block of the mask
 * size inside the cluster CIDR. One that is not (the cluster CIDR or mask was changed) is
 * allocated again.
 */
export function fitsSettings(podCIDR: string | undefined, s: PodCidrSettings): boolean {
  if (podCIDR === undefined) return false;
  const block = parseCidr(podCIDR);
  const cluster = parseCidr(s.clusterCIDR);
  return !!block && !!cluster && block.prefix === s.nodeMaskSize && cidrWithin(block, cluster);
}

/**
 * Pod CIDRs for `wanting` (node names, in the order they get one), the lowest free block each,
 * given the blocks `taken` by other nodes. A name with no block left is absent from the answer.
 */
export function allocatePodCidrs(s: PodCidrSettings, taken: Iterable<string>, wanting: readonly string[]): Map<string, string> {
  const cluster = parseCidr(s.clusterCIDR);
  const out = new Map<string, string>();
  if (!cluster || wanting.length === 0) return out;
  const used = new Set<number>();
  for (const t of taken) {
    const block = parseCidr(t);
    if (block && block.prefix === s.nodeMaskSize && cidrWithin(block, cluster)) used.add(block.base);
  }
  const count = 2 ** (s.nodeMaskSize - cluster.prefix);
  let index = 0;
  for (const name of wanting) {
    let block: Cidr | undefined;
    for (; index < count; index++) {
      const candidate = subBlock(cluster, s.nodeMaskSize, index);
      if (!used.has(candidate.base)) {
        block = candidate;
        index++;
        break;
      }
    }
    if (!block) break;
    used.add(block.base);
    out.set(name, formatCidr(block));
  }
  return out;
}
