/**
 * PURE: the node's pod network settings and egress rules from the network view, as flannel does:
 * pods get addresses from this node's own pod CIDR; what they send to the cluster CIDR (pods on
 * any node) keeps their address, what leaves it is masqueraded; the host forwards cluster
 * traffic even under a FORWARD policy of DROP (Docker's). The rules live in two chains of this
 * agent's own (GRV-<tag>-PODEGRESS in nat, GRV-<tag>-PODFWD in filter), jumped to from
 * POSTROUTING and FORWARD, written with iptables-restore --noflush in one transaction.
 */
import type { ClusterNetworkView } from '../../../../src/core/network/view.js';
import type { PodNetworkSettings } from '../cni/cni-config.js';

export interface EgressNames {
  nat: string;
  filter: string;
}

export function egressNames(tag: string): EgressNames {
  return { nat: `GRV-${tag}-PODEGRESS`, filter: `GRV-${tag}-PODFWD` };
}

/** What the node has of its own: the bridge, where leases live, and config.json's podSubnet. */
export interface LocalPodNetwork {
  bridge: string;
  ipamDataDir: string;
  /** config.json's podSubnet: used only when the cluster has no pod network (backend none). */
  podSubnet: string;
}

export interface PodNetworkDecision {
  /** Absent: pods wait (`pending` says why). */
  settings?: PodNetworkSettings;
  pending?: string;
  /** The egress rules' ranges; absent: no rules (backend none: the bridge plugin masquerades, as before). */
  egress?: { podCIDR: string; clusterCIDR: string };
}

/** No cluster pod network (backend none, or a server without one): pods on the node's local subnet, NAT by the bridge plugin. */
export function localPodNetwork(local: LocalPodNetwork): PodNetworkDecision {
  return { settings: { bridge: local.bridge, subnet: local.podSubnet, ipamDataDir: local.ipamDataDir } };
}

/** The pod network this node runs with `view` (`mtu`: the overlay's, when known). */
export function podNetworkFor(view: ClusterNetworkView, self: string, local: LocalPodNetwork, mtu: number | undefined): PodNetworkDecision {
  if (view.overlay.backend === 'none') return localPodNetwork(local);
  const own = view.nodes.find((n) => n.name === self);
  if (!own?.podCIDR) return { pending: `node ${self} has no pod CIDR yet: the server assigns one (grove describe node ${self})` };
  return {
    settings: { bridge: local.bridge, subnet: own.podCIDR, ipamDataDir: local.ipamDataDir, ipMasq: false, forceAddress: true, ...(mtu !== undefined ? { mtu } : {}) },
    egress: { podCIDR: own.podCIDR, clusterCIDR: view.clusterCIDR },
  };
}

/** The two chains' contents (chains declared in a --noflush restore are flushed and refilled). */
export function egressRules(names: EgressNames, egress: { podCIDR: string; clusterCIDR: string }): string {
  const c = (text: string) => `-m comment --comment "${text}"`;
  return [
    '*nat',
    `:${names.nat} - [0:0]`,
    `-A ${names.nat} -s ${egress.podCIDR} -d ${egress.clusterCIDR} ${c('grove: pod to pod keeps its address')} -j RETURN`,
    `-A ${names.nat} -s ${egress.podCIDR} -d 224.0.0.0/4 ${c('grove: no NAT for multicast')} -j RETURN`,
    `-A ${names.nat} -s ${egress.podCIDR} ${c('grove: pods leaving the cluster network')} -j MASQUERADE --random-fully`,
    'COMMIT',
    '*filter',
    `:${names.filter} - [0:0]`,
    `-A ${names.filter} -s ${egress.clusterCIDR} ${c('grove: pod network forwarding')} -j ACCEPT`,
    `-A ${names.filter} -d ${egress.clusterCIDR} ${c('grove: pod network forwarding')} -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
}

const jumpNat = (names: EgressNames) => `-A POSTROUTING -j ${names.nat}`;
const jumpFilter = (names: EgressNames) => `-A FORWARD -j ${names.filter}`;

/**
 * The jumps to add, given `iptables-save` output: inserted first in POSTROUTING and FORWARD when
 * missing (a --noflush restore appends whatever it is given, so present ones are left alone).
 */
export function missingJumps(saved: string, names: EgressNames): string {
  const lines = new Set(saved.split('\n').map((l) => l.trim()));
  const out: string[] = [];
  if (!lines.has(jumpNat(names))) out.push('*nat', `-I POSTROUTING 1 -j ${names.nat}`, 'COMMIT');
  if (!lines.has(jumpFilter(names))) out.push('*filter', `-I FORWARD 1 -j ${names.filter}`, 'COMMIT');
  return out.length ? out.join('\n') + '\n' : '';
}

/** Removes the jumps and the chains that `iptables-save` shows (nothing when there are none). */
export function egressRemoval(saved: string, names: EgressNames): string {
  const lines = new Set(saved.split('\n').map((l) => l.trim()));
  const out: string[] = [];
  const nat: string[] = [];
  const filter: string[] = [];
  if (lines.has(jumpNat(names))) nat.push(`-D POSTROUTING -j ${names.nat}`);
  if (lines.has(`:${names.nat} - [0:0]`) || [...lines].some((l) => l.startsWith(`:${names.nat} `))) nat.push(`-F ${names.nat}`, `-X ${names.nat}`);
  if (lines.has(jumpFilter(names))) filter.push(`-D FORWARD -j ${names.filter}`);
  if ([...lines].some((l) => l.startsWith(`:${names.filter} `))) filter.push(`-F ${names.filter}`, `-X ${names.filter}`);
  if (nat.length) out.push('*nat', ...nat, 'COMMIT');
  if (filter.length) out.push('*filter', ...filter, 'COMMIT');
  return out.length ? out.join('\n') + '\n' : '';
}
