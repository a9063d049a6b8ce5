/**
 * The cluster-wide network settings of `grove server` (issue 15, docs/networking.md): parsed
 * and checked once at start, so a bad range is one clear line before anything listens.
 * Pod-CIDR allocation (--cluster-cidr, --node-cidr-mask-size) is another part's; the service
 * range and node ports are the allocator's (service-allocation.ts); everything here reaches
 * the nodes in the network view (network-publisher.ts).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { checkClusterRanges, DEFAULT_NODE_CIDR_MASK_SIZE } from '../../core/network/cluster-ranges.js';
import { parseCidr, type Ipv4Cidr } from '../../core/network/ipv4.js';
import type { OverlaySettings } from '../../core/network/view.js';
import type { PortRange, ServiceAllocationSettings } from './service-allocation.js';

export interface NetworkSettingsInput {
  clusterCIDR?: string;
  serviceCIDR?: string;
  /** --node-cidr-mask-size: each node's block of the cluster CIDR (default /24). */
  nodeMaskSize?: number;
  /** "30000-32767". */
  serviceNodePortRange?: string;
  clusterDomain?: string;
  overlay?: Partial<OverlaySettings>;
}

export interface NetworkSettings extends ServiceAllocationSettings {
  clusterCIDR: Ipv4Cidr;
  nodeMaskSize: number;
  clusterDomain: string;
  overlay: OverlaySettings;
}

export const NETWORK_DEFAULTS = Object.freeze({
  clusterCIDR: '10.42.0.0/16',
  serviceCIDR: '10.43.0.0/16',
  serviceNodePortRange: '30000-32767',
  clusterDomain: 'cluster.local',
  overlay: Object.freeze({ backend: 'vxlan', vni: 1, port: 8472 } satisfies OverlaySettings),
});

const DOMAIN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

export function parsePortRange(text: string, what = '--service-node-port-range'): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const first = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!(first >= 1 && last <= 65535 && first <= last)) throw new GroveError(ErrorCode.ConfigInvalid, `${what} ${JSON.stringify(text)} is not a port range such as 30000-32767 (1-65535, first ≤ last)`);
  return { first, last };
}

/** Parses and checks the settings; one ConfigInvalid GroveError naming the flag when anything is wrong. */
export function networkSettings(input: NetworkSettingsInput = {}): NetworkSettings {
  const nodeMaskSize = input.nodeMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE;
  // The pod ranges' checks (syntax, overlap with the service range, the node block size) are the allocator's.
  checkClusterRanges({ clusterCIDR: input.clusterCIDR ?? NETWORK_DEFAULTS.clusterCIDR, serviceCIDR: input.serviceCIDR ?? NETWORK_DEFAULTS.serviceCIDR, nodeMaskSize });
  const clusterCIDR = parseCidr(input.clusterCIDR ?? NETWORK_DEFAULTS.clusterCIDR, '--cluster-cidr');
  const serviceCIDR = parseCidr(input.serviceCIDR ?? NETWORK_DEFAULTS.serviceCIDR, '--service-cidr');
  if (serviceCIDR.prefix > 30) throw new GroveError(ErrorCode.ConfigInvalid, `--service-cidr ${serviceCIDR.text} is too small: at most /30`);
  const nodePorts = parsePortRange(input.serviceNodePortRange ?? NETWORK_DEFAULTS.serviceNodePortRange);
  const clusterDomain = (input.clusterDomain ?? NETWORK_DEFAULTS.clusterDomain).replace(/\.$/, '');
  if (clusterDomain.length > 253 || !DOMAIN.test(clusterDomain)) throw new GroveError(ErrorCode.ConfigInvalid, `--cluster-domain ${JSON.stringify(clusterDomain)} is not a DNS name such as cluster.local`);
  return { clusterCIDR, nodeMaskSize, serviceCIDR, nodePorts, clusterDomain, overlay: { ...NETWORK_DEFAULTS.overlay, ...input.overlay } };
}
