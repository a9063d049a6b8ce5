/**
 * PURE: Linux capability names, as the kernel numbers them and as Kubernetes and compose write
 * them (`NET_ADMIN`, also `CAP_NET_ADMIN`, and `ALL`). The runtime grants them by their CAP_
 * names (OCI config); manifests are checked against this list, so a typo is an apply error, not
 * a container that fails to start on a node.
 */

/** Every capability Linux 5.9+ knows, in bit order (CAP_CHECKPOINT_RESTORE is 40): what `privileged` grants. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof ALL_CAPABILITIES)[number];

/** `ALL` in a capabilities list: every capability (add) or none of the defaults (drop). */
export const ALL = 'ALL';

/** What a manifest may write: a capability without or with its CAP_ prefix, or ALL. */
export const CAPABILITY_PATTERN = `^(ALL|(CAP_)?(${ALL_CAPABILITIES.map((c) => c.slice(4)).join('|')}))$`;
export const CAPABILITY_MESSAGE = 'must be a Linux capability such as NET_ADMIN or SYS_TIME (CAP_ prefix optional), or ALL';

/** `NET_ADMIN` / `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `ALL` stays; anything unknown → undefined. */
export function capabilityName(written: string): CapabilityName | typeof ALL | undefined {
  if (written === ALL) return ALL;
  const name = written.startsWith('CAP_') ? written : `CAP_${written}`;
  return (ALL_CAPABILITIES as readonly string[]).includes(name) ? (name as CapabilityName) : undefined;
}
