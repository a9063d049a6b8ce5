/**
 * PURE: the cluster's DNS records, indexed once per ClusterNetworkView (not per query), and the
 * answer to one question — the records, NXDOMAIN (with the zone's SOA, so resolvers cache the
 * miss), or "forward" for names the cluster does not own. The names follow Kubernetes' DNS
 * specification as CoreDNS serves it (docs/networking.md "## Cluster DNS"):
 *
 *   <svc>.<ns>.svc.<domain>                A ClusterIP; headless: A of each published endpoint;
 *                                          ExternalName: CNAME
 *   <host>.<svc>.<ns>.svc.<domain>         headless: A of one endpoint (its hostname, else its
 *                                          IP with dashes, as CoreDNS names them)
 *   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV of a named port (targets: the service name, or
 *                                          each endpoint's name for headless), with their A records
 *   <a-b-c-d>.<ns>.pod.<domain>            A a.b.c.d (CoreDNS "pods insecure", k3s' default)
 *   <d.c.b.a>.in-addr.arpa                 PTR of ClusterIPs and endpoint IPs; other addresses of
 *                                          the cluster and service CIDRs are NXDOMAIN, the rest forwarded
 *
 * A known name asked for a type it lacks (AAAA of a service) is NOERROR without answers, never
 * NXDOMAIN: an NXDOMAIN would make a resolver drop the A it got for the same name. Names are
 * case-insensitive; answers carry the question's spelling.
 */
import type { Answer, SoaAnswer, SrvData } from 'dns-packet';
import type { ClusterNetworkView, EndpointView, ServiceView } from '../../../../src/core/network/view.js';

/** Seconds: short, so a moved endpoint is seen by clients within a few seconds (CoreDNS: 5). */
export const CLUSTER_TTL = 5;

export type ClusterAnswer =
  | { kind: 'forward' }
  | {
      kind: 'answer';
      rcode: 'NOERROR' | 'NXDOMAIN';
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      /** An ExternalName's target outside the cluster: its records come from upstream, after the CNAME. */
      chase?: string;
    };

interface Host {
  /** IPv4 addresses, deduplicated, in view order. */
  a: string[];
}

interface ServiceSrv {
  data: SrvData;
  /** The target's address, for the additional section. */
  targetIPs: string[];
}

const LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
/** A compose service name as the view carries it (lowercase; `_` allowed, no dot: one DNS label). */
const COMPOSE_NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/;
const DASHED_IPV4 = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/;

/** The canonical form of a name: lower case, no trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

interface Cidr {
  base: number;
  bits: number;
}

function parseCidr(cidr: string): Cidr | undefined {
  const [ip, bits] = cidr.split('/');
  const base = ipv4ToInt(ip ?? '');
  const n = Number(bits);
  if (base === undefined || !Number.isInteger(n) || n < 0 || n > 32) return undefined;
  return { base, bits: n };
}

function inCidr(ip: number, c: Cidr): boolean {
  const size = 2 ** (32 - c.bits);
  return Math.floor(ip / size) === Math.floor(c.base / size);
}

/** The in-addr.arpa zone covering a CIDR, cut at the octet at or above its prefix (10.42.0.0/16 → 42.10.in-addr.arpa). */
function reverseZone(c: Cidr): string {
  const octets = Math.floor(c.bits / 8);
  const bytes = [c.base >>> 24, (c.base >>> 16) & 255, (c.base >>> 8) & 255, c.base & 255].slice(0, octets);
  return [...bytes.reverse(), 'in-addr', 'arpa'].join('.');
}

export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** The IPv4 address a full in-addr.arpa name stands for; undefined for anything else. */
function addressOfReverse(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return ipv4ToInt(ip) === undefined ? undefined : ip;
}

/** The endpoints DNS names: ready and not terminating, or all with publishNotReadyAddresses. */
export function publishedEndpoints(s: ServiceView): EndpointView[] {
  return s.publishNotReadyAddresses ? s.endpoints : s.endpoints.filter((e) => e.ready && e.terminating !== true);
}

/** An endpoint's own label under a headless service: its hostname, else its IP with dashes. */
function endpointLabel(e: EndpointView): string {
  const hostname = e.hostname?.toLowerCase();
  return hostname && LABEL.test(hostname) ? hostname : e.ip.replaceAll('.', '-');
}

export class ClusterRecords {
  private readonly hosts = new Map<string, Host>();
  private readonly cnames = new Map<string, string>();
  private readonly srv = new Map<string, ServiceSrv[]>();
  private readonly ptr = new Map<string, string[]>();
  /** Every name that exists (records and the names above them, up to the zone apex): NODATA, not NXDOMAIN. */
  private readonly existing = new Set<string>();
  private readonly domain: string;
  private readonly podZoneSuffix: string;
  private readonly reverseCidrs: { cidr: Cidr; zone: string }[];
  private readonly revision: number;

  private constructor(view: ClusterNetworkView) {
    this.domain = canonicalName(view.clusterDomain);
    this.podZoneSuffix = `.pod.${this.domain}`;
    this.revision = view.revision;
    this.reverseCidrs = [view.clusterCIDR, view.serviceCIDR].flatMap((text) => {
      const cidr = parseCidr(text);
      return cidr ? [{ cidr, zone: reverseZone(cidr) }] : [];
    });
    this.mark(this.domain);
    this.mark(`svc.${this.domain}`);
    for (const s of view.services) this.addService(s);
  }

  /** The index of a view: built once per update, read by every query until the next. */
  static build(view: ClusterNetworkView): ClusterRecords {
    return new ClusterRecords(view);
  }

  get clusterDomain(): string {
    return this.domain;
  }

  /** The answer to one question; `name` as asked (any case, with or without the trailing dot), `type` as dns-packet names it ('A', 'SRV', 'ANY', …). */
  resolve(name: string, type: string): ClusterAnswer {
    const asked = name.replace(/\.$/, '');
    const key = canonicalName(name);
    if (key.endsWith('.in-addr.arpa')) return this.resolveReverse(asked, key, type);
    if (key !== this.domain && !key.endsWith(`.${this.domain}`)) return { kind: 'forward' };

    const cname = this.cnames.get(key);
    if (cname !== undefined) return this.resolveCname(asked, cname, type);
    const host = this.hosts.get(key) ?? this.podHost(key);
    if (host && (type === 'A' || type === 'ANY')) return this.found(host.a.map((ip) => aRecord(asked, ip)));
    const srv = this.srv.get(key);
    if (srv && (type === 'SRV' || type === 'ANY')) {
      return this.found(
        srv.map((r) => ({ name: asked, type: 'SRV', ttl: CLUSTER_TTL, data: r.data })),
        srv.flatMap((r) => r.targetIPs.map((ip) => aRecord(r.data.target, ip))),
      );
    }
    if (key === this.domain && type === 'SOA') return this.found([this.soa()]);
    if (host || srv || this.existing.has(key)) return this.noData();
    return this.nxdomain(this.soa());
  }

  private resolveCname(asked: string, target: string, type: string): ClusterAnswer {
    const record: Answer = { name: asked, type: 'CNAME', ttl: CLUSTER_TTL, data: target };
    if (type === 'CNAME') return this.found([record]);
    if (target === this.domain || target.endsWith(`.${this.domain}`)) {
      // A target inside the cluster (one service aliasing another): answered here, one level deep.
      const inner = this.cnames.has(target) ? undefined : this.resolve(target, type);
      const rest = inner?.kind === 'answer' ? inner.answers : [];
      return this.found([record, ...rest]);
    }
    return { kind: 'answer', rcode: 'NOERROR', answers: [record], authorities: [], additionals: [], chase: target };
  }

  private resolveReverse(asked: string, key: string, type: string): ClusterAnswer {
    const ip = addressOfReverse(key);
    const n = ip === undefined ? undefined : ipv4ToInt(ip);
    const owner = n === undefined ? undefined : this.reverseCidrs.find((r) => inCidr(n, r.cidr));
    if (!owner) return { kind: 'forward' };
    const names = this.ptr.get(ip!);
    const soa = this.soa(owner.zone);
    if (!names) return this.nxdomain(soa);
    if (type !== 'PTR' && type !== 'ANY') return this.noData(soa);
    return this.found(names.map((target) => ({ name: asked, type: 'PTR', ttl: CLUSTER_TTL, data: target })));
  }

  /** `a-b-c-d.<ns>.pod.<domain>`: the address the name spells, unchecked (CoreDNS "pods insecure"). */
  private podHost(key: string): Host | undefined {
    if (!key.endsWith(this.podZoneSuffix)) return undefined;
    const labels = key.slice(0, -this.podZoneSuffix.length).split('.');
    if (labels.length !== 2 || !LABEL.test(labels[1]!)) return undefined;
    const m = DASHED_IPV4.exec(labels[0]!);
    const ip = m ? m.slice(1).join('.') : undefined;
    return ip !== undefined && ipv4ToInt(ip) !== undefined ? { a: [ip] } : undefined;
  }

  private addService(s: ServiceView): void {
    const ns = s.namespace.toLowerCase();
    const svc = s.name.toLowerCase();
    if (!LABEL.test(ns) || !LABEL.test(svc)) return;
    this.addServiceAs(s, `${svc}.${ns}.svc.${this.domain}`, true);
    // A compose service's own name (`my_db`, its Service `my-db`): the same records under it, as
    // docker compose answers the service name; reverse lookups name the Service.
    const compose = s.composeName?.toLowerCase();
    if (compose !== undefined && compose !== svc && COMPOSE_NAME.test(compose)) this.addServiceAs(s, `${compose}.${ns}.svc.${this.domain}`, false);
  }

  private addServiceAs(s: ServiceView, fqdn: string, withPtr: boolean): void {
    this.mark(fqdn);
    if (s.type === 'ExternalName') {
      if (s.externalName) this.cnames.set(fqdn, canonicalName(s.externalName));
      return;
    }
    const named = s.ports.filter((p) => p.name !== '' && LABEL.test(p.name.toLowerCase()));
    const srvOf = (port: (typeof named)[number]): string => `_${port.name.toLowerCase()}._${port.protocol.toLowerCase()}.${fqdn}`;

    if (s.clusterIP && ipv4ToInt(s.clusterIP) !== undefined) {
      this.addHost(fqdn, s.clusterIP);
      if (withPtr) this.addPtr(s.clusterIP, fqdn);
      for (const port of named) {
        this.addSrv([srvOf(port), fqdn], { data: { priority: 0, weight: 100, port: port.port, target: fqdn }, targetIPs: [s.clusterIP] });
      }
      return;
    }
    // Headless: the endpoints themselves, each also under a name of its own.
    const endpoints = publishedEndpoints(s).filter((e) => ipv4ToInt(e.ip) !== undefined);
    const weight = endpoints.length > 0 ? Math.max(1, Math.floor(100 / endpoints.length)) : 100;
    for (const e of endpoints) {
      const own = `${endpointLabel(e)}.${fqdn}`;
      this.addHost(fqdn, e.ip);
      this.addHost(own, e.ip);
      if (withPtr) this.addPtr(e.ip, own);
      for (const port of named) {
        const target = e.ports[port.name] ?? port.port;
        this.addSrv([srvOf(port), fqdn], { data: { priority: 0, weight, port: target, target: own }, targetIPs: [e.ip] });
      }
    }
  }

  private addHost(name: string, ip: string): void {
    this.mark(name);
    const host = this.hosts.get(name);
    if (!host) this.hosts.set(name, { a: [ip] });
    else if (!host.a.includes(ip)) host.a.push(ip);
  }

  private addSrv(names: readonly string[], record: ServiceSrv): void {
    for (const name of names) {
      this.mark(name);
      const list = this.srv.get(name);
      const same = (r: ServiceSrv): boolean => r.data.target === record.data.target && r.data.port === record.data.port;
      if (!list) this.srv.set(name, [record]);
      else if (!list.some(same)) list.push(record);
    }
  }

  private addPtr(ip: string, name: string): void {
    const list = this.ptr.get(ip);
    if (!list) this.ptr.set(ip, [name]);
    else if (!list.includes(name)) list.push(name);
  }

  /** Records `name` and every name above it up to the zone apex as existing. */
  private mark(name: string): void {
    for (let n = name; n.length >= this.domain.length && !this.existing.has(n); ) {
      this.existing.add(n);
      if (n === this.domain) break;
      n = n.slice(n.indexOf('.') + 1);
    }
  }

  private soa(zone = this.domain): SoaAnswer {
    return {
      name: zone,
      type: 'SOA',
      ttl: CLUSTER_TTL,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: this.revision % 2 ** 32, refresh: 7200, retry: 1800, expire: 86400, minimum: CLUSTER_TTL },
    };
  }

  private found(answers: Answer[], additionals: Answer[] = []): ClusterAnswer {
    return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals };
  }

  private noData(soa: SoaAnswer = this.soa()): ClusterAnswer {
    return { kind: 'answer', rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] };
  }

  private nxdomain(soa: SoaAnswer): ClusterAnswer {
    return { kind: 'answer', rcode: 'NXDOMAIN', answers: [], authorities: [soa], additionals: [] };
  }
}

function aRecord(name: string, ip: string): Answer {
  return { name, type: 'A', ttl: CLUSTER_TTL, data: ip };
}
