/**
 * PURE: IPv4 addresses and CIDRs as 32-bit numbers, for the service and pod address ranges
 * (issue 15). Only what allocation and range checks need; nothing touches the host.
 */
import { ErrorCode, GroveError } from '../errors.js';

export interface Ipv4Cidr {
  /** The network address, as a number. */
  base: number;
  prefix: number;
  /** Addresses in the range (2^(32 - prefix)). */
  size: number;
  text: string;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1?\\d?\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The address as a number, or undefined when `text` is not a dotted IPv4 address. */
export function ipv4ToNumber(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.43.0.0/16"; a host part that is not zero is refused (as Kubernetes refuses it for --service-cluster-ip-range). */
export function parseCidr(text: string, what: string): Ipv4Cidr {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? undefined : ipv4ToNumber(text.slice(0, slash));
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  const prefix = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new GroveError(ErrorCode.ConfigInvalid, `${what} ${JSON.stringify(text)} is not an IPv4 CIDR such as 10.43.0.0/16`);
  const size = 2 ** (32 - prefix);
  const base = prefix === 0 ? 0 : ((ip >>> (32 - prefix)) << (32 - prefix)) >>> 0;
  if (base !== ip) throw new GroveError(ErrorCode.ConfigInvalid, `${what} ${JSON.stringify(text)} has host bits set: did you mean ${numberToIpv4(base)}/${prefix}?`);
  return { base, prefix, size, text };
}

export function cidrContains(cidr: Ipv4Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + cidr.size;
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
