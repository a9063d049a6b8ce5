/**
 * PURE: an IPv4 CIDR setting parsed once with its size and text (the service range, node
 * ports' allocator and the network view); the arithmetic is cidr.ts'.
 */
import { cidrSetting, cidrSize, type Cidr } from './cidr.js';

export { cidrContains, cidrsOverlap, ipv4ToNumber, numberToIpv4 } from './cidr.js';

export interface Ipv4Cidr extends Cidr {
  /** Addresses in the range (2^(32 - prefix)). */
  size: number;
  text: string;
}

/** Parses "10.43.0.0/16"; a host part that is not zero is refused (as Kubernetes refuses it for --service-cluster-ip-range). */
export function parseCidr(text: string, what: string): Ipv4Cidr {
  const cidr = cidrSetting(text, what);
  return { ...cidr, size: cidrSize(cidr), text };
}
