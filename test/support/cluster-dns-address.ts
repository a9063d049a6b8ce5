/**
 * Test-only: the cluster DNS address of a test agent, one per data dir instead of everyone's
 * default 169.254.20.10, so agents of test files running side by side on one host never bind
 * the same address (each puts its own on its own grvd-<tag> interface). Derived from the data
 * dir, so a restarted agent keeps the address its pods' resolv.conf already names.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export function testClusterDns(dataDir: string): string {
  const h = createHash('sha256').update(resolve(dataDir)).digest();
  // 169.254.21.1 – 169.254.250.254: clear of the default (.20.10) and cloud metadata (.169.254).
  let third = 21 + (h.readUInt16BE(0) % 230);
  if (third === 169) third = 170;
  return `169.254.${third}.${1 + (h[2]! % 254)}`;
}

/** GROVE_CLUSTER_DNS for a spawned `grove … --data-dir DIR …` (the caller's env and flags still win). */
export function clusterDnsEnv(args: readonly string[]): Record<string, string> {
  const i = args.indexOf('--data-dir');
  const dir = i >= 0 ? args[i + 1] : undefined;
  return dir ? { GROVE_CLUSTER_DNS: testClusterDns(dir) } : {};
}
