/**
 * PURE: IPv4 addresses and CIDR blocks as numbers — what the pod CIDR allocator, the start-up
 * checks of the cluster's ranges and the node's overlay need (containment, overlap, the n-th
 * block of a size). IPv4 only, as the rest of Grove's networking.
 */
import { ErrorCode, GroveError } from '../errors.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  /** Prefix length 0–32. */
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "10.42.3.7" → number; undefined when not a dotted IPv4 address. */
export function ipv4ToNumber(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (const part of m.slice(1, 5)) {
    if (part.length > 1 && part.startsWith('0')) return undefined; // 010: octal in some tools, ambiguous
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Number of addresses in a block. */
export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/**
 * "10.42.0.0/16" → Cidr; undefined when malformed. `strict`: host bits must be zero (a setting
 * such as --cluster-cidr), else they are cleared (an address with its prefix).
 */
export function parseCidr(text: string, strict = true): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const base = ipv4ToNumber(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (base === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const network = (base & maskOf(prefix)) >>> 0;
  if (strict && network !== base) return undefined;
  return { base: network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${numberToIpv4(c.base)}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

/** Whether `inner` lies wholly within `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.base);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrWithin(a, b) || cidrWithin(b, a);
}

/** The `index`-th block of `/prefix` inside `outer` (0 = the first). */
export function subBlock(outer: Cidr, prefix: number, index: number): Cidr {
  return { base: (outer.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

/** Reads a setting that must be a network address with its prefix; one clear line when not. */
export function cidrSetting(text: string, where: string): Cidr {
  const loose = parseCidr(text, false);
  if (!loose) throw new GroveError(ErrorCode.ConfigInvalid, `${where}: "${text}" is not an IPv4 CIDR such as 10.42.0.0/16`);
  if (!parseCidr(text, true)) throw new GroveError(ErrorCode.ConfigInvalid, `${where}: "${text}" has host bits set: did you mean ${formatCidr(loose)}?`);
  return loose;
}
