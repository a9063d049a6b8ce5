/**
 * PURE: the node's compose network isolation rules (docs/networking.md#compose-networking), in
 * one chain of this agent's own, GRV-<tag>-CNET in the mangle table, jumped to from FORWARD.
 * Mangle, not filter: its FORWARD runs before filter's, where the pod network's and Docker's
 * ACCEPTs sit, so the order of jumps between agents and programs does not matter; and FORWARD
 * sees service traffic after DNAT (with br_netfilter, pod to pod on one bridge too), so one
 * check at the receiving pod's node covers direct and ClusterIP connections from any node.
 *
 * For each compose pod on this node: traffic from the endpoints of its project's services that
 * share no network with it is dropped; a pod whose networks are all `internal` opens no
 * connection outside the cluster CIDR. Endpoints come from the cluster network view (every
 * compose service has a Service named after it); a pod's networks and its project's topology
 * from its own labels and annotation (compose-topology.ts). A node none of whose pods needs
 * isolation has neither the chain nor its jump.
 */
import type { ClusterNetworkView } from '../../../../src/core/network/view.js';
import { COMPOSE_NETWORKS_ANNOTATION, NETWORK_LABEL_PREFIX, parseTopology, servicesApart } from '../../../../src/core/network/compose-topology.js';
import { COMPOSE_SERVICE_LABEL } from '../../../../src/core/objects/annotations.js';
import { composeObjectName } from '../../../../src/core/objects/names.js';

export const isolationChain = (tag: string): string => `GRV-${tag}-CNET`;

/** A pod running on this node, as the node knows it. */
export interface LocalPod {
  namespace: string;
  name: string;
  /** Its address; pods without one yet (or on the host's network) are skipped. */
  ip?: string;
  hostNetwork?: boolean;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

const comment = (text: string) => `-m comment --comment "${text.replaceAll('"', "'").slice(0, 200)}"`;

/**
 * Where a pod on internal networks only may still open connections: the cluster CIDR, or on a
 * cluster without a pod network (backend none) the node's own pod subnet, where its pods are.
 */
export function internalReach(view: ClusterNetworkView, localPodSubnet: string | undefined): string {
  return view.overlay.backend === 'none' && localPodSubnet ? localPodSubnet : view.clusterCIDR;
}

/** The chain's rules for `pods` (none when no pod needs isolation), sorted, as iptables-restore lines. */
export function isolationRules(tag: string, view: ClusterNetworkView, pods: readonly LocalPod[], reach = view.clusterCIDR): string[] {
  const chain = isolationChain(tag);
  const rules: string[] = [];
  for (const pod of [...pods].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
    if (!pod.ip || pod.hostNetwork) continue;
    // The label keeps the compose name (home_assistant); the topology and Services use the objects' name.
    const label = pod.labels[COMPOSE_SERVICE_LABEL];
    const service = label === undefined ? undefined : composeObjectName(label);
    const topology = parseTopology(pod.annotations[COMPOSE_NETWORKS_ANNOTATION]);
    if (service && topology) {
      for (const other of servicesApart(topology, service)) {
        const sources = view.services.find((s) => s.namespace === pod.namespace && s.name === other)?.endpoints.map((e) => e.ip) ?? [];
        for (const ip of [...new Set(sources)].sort()) {
          rules.push(`-A ${chain} -s ${ip}/32 -d ${pod.ip}/32 ${comment(`grove: ${pod.namespace}: ${other} shares no network with ${service}`)} -j DROP`);
        }
      }
    }
    const networks = Object.entries(pod.labels).filter(([k]) => k.startsWith(NETWORK_LABEL_PREFIX));
    if (networks.length > 0 && networks.every(([, v]) => v === 'internal')) {
      rules.push(`-A ${chain} -s ${pod.ip}/32 ! -d ${reach} -m conntrack --ctstate NEW ${comment(`grove: ${pod.namespace}/${pod.name} is on internal networks only`)} -j DROP`);
    }
  }
  return rules;
}

const jump = (tag: string) => `-A FORWARD -j ${isolationChain(tag)}`;

/**
 * One mangle transaction (for iptables-restore --noflush) that sets the chain to `rules` (a
 * declared chain is flushed and refilled) and, given `iptables-save -t mangle` output, inserts
 * the jump from FORWARD when it is missing (saved undefined: the jump is known to be there).
 */
export function isolationProgram(tag: string, rules: readonly string[], saved: string | undefined): string {
  const chain = isolationChain(tag);
  const present = saved === undefined || saved.split('\n').some((l) => l.trim() === jump(tag));
  return ['*mangle', `:${chain} - [0:0]`, ...rules, ...(present ? [] : [`-I FORWARD 1 -j ${chain}`]), 'COMMIT', ''].join('\n');
}

/** A rule as iptables-save prints it back: quotes and spacing differ from what was restored. */
const normalRule = (line: string) => line.replaceAll('"', '').trim().replace(/\s+/g, ' ');

/**
 * What of the last transaction `iptables-save -t mangle` no longer shows (undefined: all of it
 * is there): the chain, its jump from FORWARD, or its rules as they were written — a firewall
 * reload or `iptables -t mangle -F` takes them, and so may a hand edit. The chain is small (a
 * few rules per compose pod), so unlike the proxier's thousands it is compared rule by rule.
 */
export function isolationDrift(saved: string, tag: string, rules: readonly string[]): string | undefined {
  const chain = isolationChain(tag);
  const lines = saved.split('\n').map((l) => l.trim());
  if (!lines.some((l) => l.startsWith(`:${chain} `))) return `chain ${chain} is gone`;
  if (!lines.includes(jump(tag))) return `the jump from FORWARD to ${chain} is gone`;
  const present = lines.filter((l) => l.startsWith(`-A ${chain} `)).map(normalRule);
  const wanted = rules.map(normalRule);
  if (present.length !== wanted.length || present.some((l, i) => l !== wanted[i])) return `the rules of ${chain} were changed (${present.length} there, ${wanted.length} programmed)`;
  return undefined;
}

/** Removes the jump and the chain that `iptables-save -t mangle` shows ('' when there are none). */
export function isolationRemoval(saved: string, tag: string): string {
  const lines = saved.split('\n').map((l) => l.trim());
  const chain = isolationChain(tag);
  const out: string[] = [];
  if (lines.includes(jump(tag))) out.push(`-D FORWARD -j ${chain}`);
  if (lines.some((l) => l.startsWith(`:${chain} `))) out.push(`-F ${chain}`, `-X ${chain}`);
  return out.length ? ['*mangle', ...out, 'COMMIT', ''].join('\n') : '';
}
