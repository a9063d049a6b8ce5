/**
 * resolv.conf, read and written: the host's (its resolvers are the cluster DNS's upstreams, its
 * search domains follow the cluster's in pods) and the one each pod gets by its dnsPolicy, as
 * kubelet writes it (docs/networking.md "## Cluster DNS"):
 *
 *   ClusterFirst (the default)  nameserver <cluster DNS>, search <ns>.svc.<domain> svc.<domain>
 *                               <domain> + the host's, options ndots:5 — on the host's network
 *                               it means Default, as in Kubernetes
 *   ClusterFirstWithHostNet     the cluster's, on the host's network too
 *   Default                     the node's own (its upstream servers when it names only a
 *                               loopback stub, which a pod cannot reach)
 *   None                        only what dnsConfig says
 *
 * dnsConfig's nameservers, searches and options are merged in after, as kubelet does (options
 * by name, the pod's win). Kubelet's limits: 3 nameservers, 32 search domains of 2048 characters
 * in all; more are cut.
 */
import { isIP } from 'node:net';
import type { DnsPolicy, PodDnsConfig } from '../../../src/core/objects/pod.js';

/** The node's cluster DNS as pods' resolv.conf names it: the agent's --cluster-dns, the cluster domain of the last view. */
export interface ClusterDnsSettings {
  nameserver: string;
  /** undefined before the first view: cluster.local then. */
  clusterDomain(): string | undefined;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  /** "name" or "name:value". */
  options: string[];
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;
/** What may stand in a search domain or an option: no whitespace, nothing that starts a new line. */
const TOKEN = /^[^\s#;]{1,253}$/;

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [keyword, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (keyword === 'nameserver' && rest[0] && isIP(rest[0])) out.nameservers.push(rest[0]);
    // The last search (or domain) line wins, as in glibc.
    else if (keyword === 'search' || keyword === 'domain') out.search = rest.filter((s) => TOKEN.test(s));
    else if (keyword === 'options') out.options.push(...rest.filter((s) => TOKEN.test(s)));
  }
  return out;
}

export function formatResolvConf(conf: ResolvConf): string {
  const lines = conf.nameservers.map((ns) => `nameserver ${ns}`);
  if (conf.search.length > 0) lines.push(`search ${conf.search.join(' ')}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The node's resolv.conf as a pod on the bridge can use it: a loopback-only stub's upstream list instead. */
export function nodeResolvConf(hostResolv: string, upstream: string | undefined): string {
  const loopbackOnly = /^\s*nameserver\s+127\./m.test(hostResolv) && !/^\s*nameserver\s+(?!127\.)/m.test(hostResolv);
  return loopbackOnly && upstream ? upstream : hostResolv;
}

export interface PodDnsInput {
  policy: DnsPolicy;
  hostNetwork: boolean;
  namespace: string;
  config?: PodDnsConfig;
  /** The node's cluster DNS; absent when the agent runs without one (ClusterFirst then means Default, as kubelet's). */
  cluster?: { nameserver: string; domain: string };
  /** The node's resolv.conf for pods (nodeResolvConf). */
  node: string;
}

/** The pod's resolv.conf; undefined = the node's own file as the runtime binds it (host network, Default). */
export function podResolvConf(input: PodDnsInput): string | undefined {
  const node = parseResolvConf(input.node);
  const clusterWanted = input.policy === 'ClusterFirstWithHostNet' || (input.policy === 'ClusterFirst' && !input.hostNetwork);
  let base: ResolvConf;
  if (input.policy === 'None') base = { nameservers: [], search: [], options: [] };
  else if (clusterWanted && input.cluster) {
    const d = input.cluster.domain;
    base = { nameservers: [input.cluster.nameserver], search: [`${input.namespace}.svc.${d}`, `svc.${d}`, d, ...node.search], options: ['ndots:5'] };
  } else if (input.hostNetwork && !input.config) return undefined;
  else if (!input.config) return input.node;
  else base = node;
  return formatResolvConf(limit(merge(base, input.config)));
}

function merge(base: ResolvConf, config: PodDnsConfig | undefined): ResolvConf {
  if (!config) return base;
  const nameservers = [...base.nameservers, ...(config.nameservers ?? []).filter((ns) => isIP(ns))];
  const search = [...base.search, ...(config.searches ?? []).filter((s) => TOKEN.test(s))];
  const options = new Map(base.options.map((o) => [o.split(':')[0]!, o]));
  for (const o of config.options ?? []) {
    if (!TOKEN.test(o.name) || (o.value !== undefined && o.value !== '' && !TOKEN.test(o.value))) continue;
    options.set(o.name, o.value ? `${o.name}:${o.value}` : o.name);
  }
  return { nameservers, search, options: [...options.values()] };
}

function limit(conf: ResolvConf): ResolvConf {
  const nameservers = [...new Set(conf.nameservers)].slice(0, MAX_NAMESERVERS);
  const search: string[] = [];
  let chars = 0;
  for (const s of new Set(conf.search)) {
    if (search.length === MAX_SEARCHES || chars + s.length + 1 > MAX_SEARCH_CHARS) break;
    search.push(s);
    chars += s.length + 1;
  }
  return { nameservers, search, options: conf.options };
}
