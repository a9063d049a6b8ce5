/**
 * PURE: the node's service proxy rules (issue 15, docs/networking.md "Service proxy"), built
 * from the whole cluster network view as kube-proxy's iptables mode does (our own code):
 *
 *   nat    PREROUTING, OUTPUT ─▶ GRV-<tag>-SERVICES ─▶ per service port SVC chain (random spread
 *          with `statistic`, 1/n, 1/(n-1)… last unconditional) ─▶ per endpoint SEP chain (DNAT,
 *          `recent` for sessionAffinity ClientIP); local addresses ─▶ NODEPORTS ─▶ EXT chain
 *          (masquerade mark, then the SVC chain); LoadBalancer ports on this node's addresses.
 *          POSTROUTING ─▶ GRV-<tag>-POSTROUTING: masquerade what carries our mark.
 *   filter OUTPUT, FORWARD (new) ─▶ GRV-<tag>-SERVICES: REJECT ClusterIP ports without endpoints;
 *          INPUT, FORWARD (new) ─▶ GRV-<tag>-EXTERNAL: REJECT NodePort / LB ports without endpoints;
 *          FORWARD ─▶ GRV-<tag>-FORWARD: accept marked and DNAT-ed traffic (a DROP policy left by
 *          Docker must not eat service traffic).
 *
 * Output is deterministic (services, ports and endpoints sorted) so an unchanged view gives the
 * same text and the proxier can skip the transaction. IPv4 only: other addresses are skipped.
 */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { ClusterNetworkView, EndpointView, ServicePortView, ServiceProtocol, ServiceView } from '../../../../src/core/network/view.js';

export interface ProxySelf {
  nodeName: string;
  /** This node's addresses: where its LoadBalancer ports open (empty: its InternalIP from the view). */
  addresses: readonly string[];
  /** netTag(dataDir): keeps several agents sharing one host's tables apart. */
  tag: string;
}

export type ProxyTable = 'filter' | 'nat';
export const PROXY_TABLES: readonly ProxyTable[] = ['filter', 'nat'];

export interface TableRules {
  /** Our chains, in declaration order (declaring one in the restore input flushes it). */
  chains: string[];
  /** `-A <chain> …` lines. */
  rules: string[];
}

export type ProxyRuleSet = Record<ProxyTable, TableRules>;

/** A jump from a built-in chain into one of ours. */
export interface ProxyJump {
  table: ProxyTable;
  chain: string;
  /** The arguments after `-A <chain>`, as iptables-save prints them. */
  spec: string;
  target: string;
}

/** kube-proxy's bit: the traffic to masquerade in POSTROUTING (the meaning is the same, so sharing it is harmless). */
export const MASQ_MARK = '0x4000';

/** Kubernetes' default sessionAffinity timeout, and its maximum (one day). */
const DEFAULT_AFFINITY_SECONDS = 10_800;
const MAX_AFFINITY_SECONDS = 86_400;

export function chainPrefix(tag: string): string {
  return `GRV-${tag}-`;
}

/**
 * Whether a chain is the proxier's: GRV-<tag>- is shared with the node's other consumers (pod
 * egress' PODEGRESS/PODFWD, compose isolation's CNET), whose chains the proxier must never take
 * for its own stale ones and delete.
 */
export function isProxyChain(chain: string, tag: string): boolean {
  const p = chainPrefix(tag);
  if (!chain.startsWith(p)) return false;
  const rest = chain.slice(p.length);
  return (Object.values(names('')) as string[]).some((n) => n.slice('GRV--'.length) === rest) || /^(SVC|EXT|SEP)-[0-9A-Z]{1,16}$/.test(rest);
}

function names(tag: string) {
  const p = chainPrefix(tag);
  return {
    services: `${p}SERVICES`,
    nodePorts: `${p}NODEPORTS`,
    postrouting: `${p}POSTROUTING`,
    markMasq: `${p}MARK-MASQ`,
    external: `${p}EXTERNAL`,
    forward: `${p}FORWARD`,
  };
}

/** The jumps into our chains, in the order they should sit at the head of each built-in chain. */
export function proxyJumps(tag: string): ProxyJump[] {
  const n = names(tag);
  const jump = (table: ProxyTable, chain: string, match: string, what: string, target: string): ProxyJump => ({
    table,
    chain,
    spec: `${match}-m comment --comment "grove ${tag} ${what}" -j ${target}`,
    target,
  });
  const isNew = '-m conntrack --ctstate NEW ';
  return [
    jump('filter', 'INPUT', isNew, 'external services', n.external),
    jump('filter', 'FORWARD', '', 'forward', n.forward),
    jump('filter', 'FORWARD', isNew, 'services', n.services),
    jump('filter', 'FORWARD', isNew, 'external services', n.external),
    jump('filter', 'OUTPUT', isNew, 'services', n.services),
    jump('nat', 'PREROUTING', '', 'services', n.services),
    jump('nat', 'OUTPUT', '', 'services', n.services),
    jump('nat', 'POSTROUTING', '', 'postrouting', n.postrouting),
  ];
}

/** 12 hex digits of sha256: chain names stay within iptables' 28 characters (`GRV-` + 6 + `-SVC-` + 12 = 27). */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12).toUpperCase();
}

/** Comments carry names only: anything but name characters is replaced, so quoting can never break. */
function comment(text: string): string {
  return `-m comment --comment "${text.replace(/[^A-Za-z0-9._:/, -]/g, '_').slice(0, 200)}"`;
}

/** `-p tcp -m tcp`, and the destination port when given. */
function proto(protocol: ServiceProtocol, port?: number): string {
  const p = protocol.toLowerCase();
  return `-p ${p} -m ${p}${port === undefined ? '' : ` --dport ${port}`}`;
}

const validPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65_536;
const PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

function validCidr(cidr: string): boolean {
  const [ip, bits, extra] = cidr.split('/');
  return extra === undefined && ip !== undefined && isIPv4(ip) && /^\d{1,2}$/.test(bits ?? '') && Number(bits) <= 32;
}

interface Backend {
  ip: string;
  port: number;
}

/** Endpoints that get new connections for one service port: ready, not terminating, IPv4, deduplicated, sorted. */
export function servingBackends(service: ServiceView, port: ServicePortView): Backend[] {
  const seen = new Map<string, Backend>();
  for (const ep of service.endpoints) if (serves(service, ep)) addBackend(seen, ep, port);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
}

function serves(service: ServiceView, ep: EndpointView): boolean {
  return (ep.ready || service.publishNotReadyAddresses === true) && ep.terminating !== true && isIPv4(ep.ip);
}

function addBackend(seen: Map<string, Backend>, ep: EndpointView, port: ServicePortView): void {
  const target = ep.ports[port.name];
  if (validPort(target)) seen.set(`${ep.ip}:${target}`, { ip: ep.ip, port: target });
}

/** Addresses where this node opens LoadBalancer ports. */
export function localAddresses(view: ClusterNetworkView, self: ProxySelf): string[] {
  const own = self.addresses.length > 0 ? self.addresses : [view.nodes.find((n) => n.name === self.nodeName)?.internalIP ?? ''];
  return [...new Set(own.filter((a) => isIPv4(a)))].sort();
}

function servesLoadBalancer(service: ServiceView, nodeName: string): boolean {
  return service.type === 'LoadBalancer' && (service.loadBalancerNodes === undefined || service.loadBalancerNodes.includes(nodeName));
}

/** Whether the proxier programs this service at all: headless and ExternalName services get no rules. */
function proxied(service: ServiceView): service is ServiceView & { clusterIP: string } {
  return service.type !== 'ExternalName' && service.clusterIP !== undefined && isIPv4(service.clusterIP);
}

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The whole rule set for this node. */
export function buildProxyRules(view: ClusterNetworkView, self: ProxySelf): ProxyRuleSet {
  const n = names(self.tag);
  const nat: TableRules = { chains: [n.services, n.nodePorts, n.postrouting, n.markMasq], rules: [] };
  const filter: TableRules = { chains: [n.services, n.external, n.forward], rules: [] };
  const addresses = localAddresses(view, self);
  const clusterCIDR = validCidr(view.clusterCIDR) ? view.clusterCIDR : undefined;
  const services = view.services.filter(proxied).sort(byKey((s) => `${s.namespace}/${s.name}`));
  for (const service of services) {
    const ports = service.ports.filter((p) => PROTOCOLS.has(p.protocol) && validPort(p.port)).sort(byKey((p) => `${p.name}/${p.protocol}/${p.port}`));
    for (const port of ports) {
      const lb = servesLoadBalancer(service, self.nodeName) ? addresses : [];
      servicePortRules({ tag: self.tag, service, port, clusterCIDR, lbAddresses: lb, nat, filter });
    }
  }
  nat.rules.push(
    `-A ${n.services} ${comment('grove service nodeports, the last rule')} -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j ${n.nodePorts}`,
    `-A ${n.postrouting} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    // Cleared so the packet is not masqueraded again if it is re-routed (IPsec, a second pass).
    `-A ${n.postrouting} -j MARK --xor-mark ${MASQ_MARK}`,
    `-A ${n.postrouting} ${comment('grove service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
    `-A ${n.markMasq} -j MARK --or-mark ${MASQ_MARK}`,
  );
  filter.rules.push(
    `-A ${n.forward} ${comment('grove marked service traffic')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `-A ${n.forward} ${comment('grove service traffic after DNAT')} -m conntrack --ctstate DNAT -j ACCEPT`,
  );
  return { nat, filter };
}

interface PortContext {
  tag: string;
  service: ServiceView & { clusterIP: string };
  port: ServicePortView;
  clusterCIDR: string | undefined;
  lbAddresses: string[];
  nat: TableRules;
  filter: TableRules;
}

function servicePortRules(c: PortContext): void {
  const { service, port } = c;
  const n = names(c.tag);
  const id = `${service.namespace}/${service.name}:${port.name}/${port.protocol}`;
  const label = `${service.namespace}/${service.name}${port.name ? `:${port.name}` : ''}`;
  const match = proto(port.protocol, port.port);
  const nodePort = (service.type === 'NodePort' || service.type === 'LoadBalancer') && validPort(port.nodePort) ? port.nodePort : undefined;
  const backends = servingBackends(service, port);
  const reject = '-j REJECT --reject-with icmp-port-unreachable';
  if (backends.length === 0) {
    c.filter.rules.push(`-A ${n.services} -d ${service.clusterIP}/32 ${comment(`${label} has no endpoints`)} ${match} ${reject}`);
    if (nodePort !== undefined) c.filter.rules.push(`-A ${n.external} -m addrtype --dst-type LOCAL ${comment(`${label} has no endpoints`)} ${proto(port.protocol, nodePort)} ${reject}`);
    for (const addr of c.lbAddresses) c.filter.rules.push(`-A ${n.external} -d ${addr}/32 ${comment(`${label} has no endpoints`)} ${match} ${reject}`);
    return;
  }
  const svc = `${chainPrefix(c.tag)}SVC-${hash(id)}`;
  c.nat.chains.push(svc);
  c.nat.rules.push(`-A ${n.services} -d ${service.clusterIP}/32 ${comment(`${label} cluster IP`)} ${match} -j ${svc}`);
  if (nodePort !== undefined || c.lbAddresses.length > 0) {
    // Traffic from outside always leaves masqueraded, so the reply comes back through this node.
    const ext = `${chainPrefix(c.tag)}EXT-${hash(id)}`;
    c.nat.chains.push(ext);
    c.nat.rules.push(`-A ${ext} ${comment(`masquerade traffic for ${label} external destinations`)} -j ${n.markMasq}`, `-A ${ext} -j ${svc}`);
    if (nodePort !== undefined) c.nat.rules.push(`-A ${n.nodePorts} ${comment(label)} ${proto(port.protocol, nodePort)} -j ${ext}`);
    for (const addr of c.lbAddresses) c.nat.rules.push(`-A ${n.services} -d ${addr}/32 ${comment(`${label} loadbalancer IP`)} ${match} -j ${ext}`);
  }
  // A client outside the pod network (the node itself, a host-network pod) must see replies come back through here.
  if (c.clusterCIDR !== undefined) c.nat.rules.push(`-A ${svc} ! -s ${c.clusterCIDR} -d ${service.clusterIP}/32 ${comment(`${label} cluster IP`)} ${match} -j ${n.markMasq}`);
  const seps = backends.map((b) => ({ ...b, chain: `${chainPrefix(c.tag)}SEP-${hash(`${id}>${b.ip}:${b.port}`)}` }));
  const affinity = service.sessionAffinitySeconds !== undefined ? Math.min(MAX_AFFINITY_SECONDS, Math.max(1, Math.floor(service.sessionAffinitySeconds) || DEFAULT_AFFINITY_SECONDS)) : undefined;
  if (affinity !== undefined) {
    for (const sep of seps) c.nat.rules.push(`-A ${svc} ${comment(`${label} to ${sep.ip}:${sep.port}`)} -m recent --name ${sep.chain} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinity} --reap -j ${sep.chain}`);
  }
  seps.forEach((sep, i) => {
    const left = seps.length - i;
    const spread = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
    c.nat.rules.push(`-A ${svc} ${comment(`${label} to ${sep.ip}:${sep.port}`)}${spread} -j ${sep.chain}`);
  });
  for (const sep of seps) {
    c.nat.chains.push(sep.chain);
    const remember = affinity !== undefined ? ` -m recent --name ${sep.chain} --mask 255.255.255.255 --rsource --set` : '';
    c.nat.rules.push(
      // Hairpin: an endpoint reaching its own service must not see its own address as the source.
      `-A ${sep.chain} -s ${sep.ip}/32 ${comment(label)} -j ${n.markMasq}`,
      `-A ${sep.chain} ${comment(label)}${remember} ${proto(port.protocol)} -j DNAT --to-destination ${sep.ip}:${sep.port}`,
    );
  }
}
