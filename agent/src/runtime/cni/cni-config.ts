/**
 * PURE: Grove's CNI network (a conflist run plugin by plugin, as libcni does) and what the
 * plugins answer. The network is Debian's containernetworking-plugins: `bridge` (node bridge,
 * the pod's veth, outbound NAT through ipMasq) with `host-local` addresses, then `portmap`
 * (hostPort DNAT) and `firewall` (lets pod traffic through a host FORWARD policy of DROP).
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';

export const CNI_VERSION = '1.0.0';
export const DEFAULT_BRIDGE = 'grove0';
export const DEFAULT_POD_SUBNET = '10.42.0.0/16';

export interface PodNetworkSettings {
  /** Linux interface name of the node bridge (≤ 15 characters). */
  bridge: string;
  /** IPv4 CIDR the pods' addresses come from. */
  subnet: string;
  /** Where host-local keeps its leases (under the data dir, so they survive reboots as the containers' records do). */
  ipamDataDir: string;
  /**
   * Outbound NAT by the bridge plugin (default on: `grove ctr`, and pods of a node without a
   * cluster pod network). Off for a node's pods in the cluster pod network: the node's own egress
   * rules masquerade only what leaves the cluster CIDR, so pod-to-pod traffic across nodes keeps
   * the pod's address (runtime/net/pod-egress.ts).
   */
  ipMasq?: boolean;
  /** Bridge and veth MTU (the overlay's: the underlying link's minus VXLAN's 50 bytes); absent: the kernel's default. */
  mtu?: number;
  /**
   * The bridge's gateway address follows `subnet` when it changed (the node got another pod
   * CIDR), instead of failing the attach; only where the bridge is the agent's own.
   */
  forceAddress?: boolean;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** Host address to bind; absent = every address. */
  hostIP?: string;
}

export type PluginConfig = Record<string, unknown> & { type: string };

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
}

const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function checkSettings(s: PodNetworkSettings): void {
  if (!IFNAME.test(s.bridge)) throw new GroveError(ErrorCode.ConfigInvalid, `podBridge "${s.bridge}" is not an interface name (1-15 letters, digits, _ . -)`);
  const m = CIDR.exec(s.subnet);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 8 || Number(m[5]) > 30) {
    throw new GroveError(ErrorCode.ConfigInvalid, `podSubnet "${s.subnet}" must be an IPv4 CIDR from /8 to /30, e.g. ${DEFAULT_POD_SUBNET}`);
  }
  if (s.mtu !== undefined && (!Number.isInteger(s.mtu) || s.mtu < 576 || s.mtu > 65535)) throw new GroveError(ErrorCode.ConfigInvalid, `pod network MTU ${s.mtu} must be from 576 to 65535`);
}

export function networkConfig(s: PodNetworkSettings): NetworkConfigList {
  checkSettings(s);
  return {
    cniVersion: CNI_VERSION,
    name: 'grove',
    plugins: [
      {
        type: 'bridge',
        bridge: s.bridge,
        isGateway: true,
        ipMasq: s.ipMasq ?? true,
        hairpinMode: true,
        ...(s.mtu !== undefined ? { mtu: s.mtu } : {}),
        ...(s.forceAddress ? { forceAddress: true } : {}),
        ipam: { type: 'host-local', ranges: [[{ subnet: s.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: s.ipamDataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

/** The loopback plugin's own one-plugin network: `lo` up in the pod's namespace. */
export function loopbackConfig(): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: 'grove-lo', plugins: [{ type: 'loopback' }] };
}

/**
 * One plugin's stdin, built the way libcni builds it: the network's name and version, the
 * plugin's own keys, runtimeConfig for the capabilities it declares, and the previous plugin's
 * result (DEL and CHECK get the ADD result chain too).
 */
export function pluginInput(list: NetworkConfigList, plugin: PluginConfig, ports: readonly PortMapping[], prevResult?: unknown): Record<string, unknown> {
  const { capabilities, ...rest } = plugin;
  const input: Record<string, unknown> = { cniVersion: list.cniVersion, name: list.name, ...rest };
  const caps = capabilities as Record<string, boolean> | undefined;
  if (caps?.portMappings) input.runtimeConfig = { portMappings: ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) })) };
  if (prevResult !== undefined) input.prevResult = prevResult;
  return input;
}

export interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
}

/** The pod's IPv4 address and gateway from a bridge ADD result. */
export function podAddress(result: CniResult): { ip: string; gateway?: string } {
  const first = result.ips?.find((i) => /^\d+\.\d+\.\d+\.\d+\//.test(i.address));
  if (!first) throw new GroveError(ErrorCode.RuntimeFailed, 'CNI bridge returned no IPv4 address');
  return { ip: first.address.split('/')[0]!, ...(first.gateway ? { gateway: first.gateway } : {}) };
}

export interface CniError {
  code: number;
  msg: string;
  details?: string;
}

/** A plugin's failure as one line: its CNI error when it printed one, else its output. */
export function pluginFailure(plugin: string, command: string, output: string, exitCode: number | null): GroveError {
  let text = output.trim();
  try {
    const err = JSON.parse(text) as CniError;
    if (typeof err.msg === 'string') text = err.details ? `${err.msg}: ${err.details}` : err.msg;
  } catch {
    // not JSON: keep the raw output
  }
  return new GroveError(ErrorCode.RuntimeFailed, `CNI ${plugin} ${command} failed (exit ${exitCode ?? 'signal'}): ${text.split('\n')[0] || 'no output'}`);
}

/**
 * /etc/hosts of a pod: localhost, the pod's own name on its address, and other names on the
 * node (apps by name) when given, then the pod's hostAliases under the kubelet's heading.
 */
export function hostsFile(
  podName: string,
  ip: string | undefined,
  others: readonly { name: string; ip: string }[] = [],
  aliases: readonly { ip: string; hostnames: readonly string[] }[] = [],
): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  lines.push(`${ip ?? '127.0.1.1'}\t${podName}`);
  for (const o of others) lines.push(`${o.ip}\t${o.name}`);
  const named = aliases.filter((a) => a.hostnames.length > 0);
  if (named.length > 0) lines.push('# Entries added by HostAliases.', ...named.map((a) => `${a.ip}\t${a.hostnames.join('\t')}`));
  return lines.join('\n') + '\n';
}

