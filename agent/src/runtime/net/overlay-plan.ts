/**
 * PURE: how this node reaches the other nodes' pods (docs/networking.md "Pod network"), as
 * flannel does, from the whole network view:
 *
 *   vxlan    one VXLAN device grvx-<tag> (the view's VNI and UDP port, `local` = this node's
 *            InternalIP, nolearning) holding <own podCIDR .0>/32; per peer node
 *              route <peer podCIDR> via <peer .0> dev grvx-<tag> onlink
 *              neigh <peer .0> lladdr <peer MAC> (permanent)
 *              fdb   <peer MAC> dst <peer InternalIP>
 *            The MACs derive from the pod CIDRs, so no node needs to tell another anything.
 *   host-gw  route <peer podCIDR> via <peer InternalIP> (peers on one LAN).
 *   none     nothing.
 *
 * `planOverlay(observed, desired)` gives the `ip -batch` and `bridge -batch` lines that take
 * the host from what it has to what it should have; nothing when they agree. Every route Grove
 * adds carries its own protocol number (`proto`), so it finds its routes again without a record.
 * The device exists only while there is a peer: a one-node cluster never gets one.
 */
import { cidrContains, ipv4ToNumber, numberToIpv4, parseCidr } from '../../../../src/core/network/cidr.js';
import type { ClusterNetworkView, OverlayBackend } from '../../../../src/core/network/view.js';

/** VXLAN's own headers: the pods' MTU is the underlying link's minus this. */
export const VXLAN_OVERHEAD = 50;

export interface OverlayNames {
  /** grvx-<tag>. */
  device: string;
  /** Route protocol number marking this agent's routes (ip route … proto N). */
  routeProto: number;
}

export function overlayNames(tag: string): OverlayNames {
  // 100–249: above the numbers iproute2 names (kernel, boot, static, …, 99 and below are taken by
  // routing daemons' well-known ones), a different one per data dir in most cases.
  return { device: `grvx-${tag}`, routeProto: 100 + (Number.parseInt(tag.slice(0, 4), 16) % 150) };
}

export interface OverlayPeer {
  name: string;
  internalIP: string;
  podCIDR: string;
  /** The .0 of the peer's pod CIDR: its VXLAN device's address, the next hop of its route. */
  gateway: string;
  mac: string;
}

export interface UnderlyingLink {
  /** The interface holding this node's InternalIP. */
  name: string;
  mtu: number;
}

export interface DesiredOverlay {
  backend: OverlayBackend;
  names: OverlayNames;
  peers: OverlayPeer[];
  /** vxlan only: what the device should be; absent when there is no peer (no device). */
  device?: { vni: number; port: number; local: string; underlying: string; mtu: number; mac: string; address: string };
}

export interface ObservedRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  onlink: boolean;
}

export interface ObservedOverlay {
  /** The VXLAN device, when it exists. */
  device?: { vni?: number; port?: number; local?: string; underlying?: string; mtu: number; mac: string; addresses: string[]; up: boolean };
  /** Routes carrying this agent's protocol number. */
  routes: ObservedRoute[];
  /** Permanent neighbours on the device. */
  neighbours: { ip: string; mac: string }[];
  /** Forwarding entries with a destination on the device. */
  fdb: { mac: string; dst: string }[];
}

export interface OverlayPlan {
  ip: string[];
  bridge: string[];
}

/**
 * A locally administered unicast MAC from a pod CIDR's network address (0e:6b:<4 bytes>): the
 * same on every node, different for every block.
 */
export function vtepMac(podCIDR: string): string {
  const base = parseCidr(podCIDR, false)!.base;
  return ['0e', '6b', ...[base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** What this node should program, from the view; `self` is this node's name. */
export function desiredOverlay(view: ClusterNetworkView, self: string, names: OverlayNames, underlying: UnderlyingLink | undefined): DesiredOverlay {
  const backend = view.overlay.backend;
  const own = view.nodes.find((n) => n.name === self);
  const cluster = parseCidr(view.clusterCIDR);
  const empty: DesiredOverlay = { backend, names, peers: [] };
  if (backend === 'none' || !own?.podCIDR || !cluster || ipv4ToNumber(own.internalIP) === undefined) return empty;
  const peers: OverlayPeer[] = [];
  for (const n of view.nodes) {
    if (n.name === self || !n.podCIDR || n.internalIP === own.internalIP || ipv4ToNumber(n.internalIP) === undefined) continue;
    const block = parseCidr(n.podCIDR);
    if (!block || !cidrContains(cluster, block.base) || n.podCIDR === own.podCIDR) continue;
    peers.push({ name: n.name, internalIP: n.internalIP, podCIDR: n.podCIDR, gateway: numberToIpv4(block.base), mac: vtepMac(n.podCIDR) });
  }
  peers.sort((a, b) => (a.podCIDR < b.podCIDR ? -1 : a.podCIDR > b.podCIDR ? 1 : 0));
  if (backend === 'host-gw') return { backend, names, peers };
  // vxlan without a peer, or without knowing the link its packets leave by: no device.
  if (peers.length === 0 || !underlying) return { backend, names, peers: underlying ? peers : [] };
  const ownBase = parseCidr(own.podCIDR, false)!.base;
  return {
    backend,
    names,
    peers,
    device: { vni: view.overlay.vni, port: view.overlay.port, local: own.internalIP, underlying: underlying.name, mtu: underlying.mtu - VXLAN_OVERHEAD, mac: vtepMac(own.podCIDR), address: `${numberToIpv4(ownBase)}/32` },
  };
}

/** The pods' MTU for a view: the underlying link's, less VXLAN's overhead on the vxlan backend. */
export function podMtu(backend: OverlayBackend, underlying: UnderlyingLink | undefined): number | undefined {
  if (!underlying) return undefined;
  return backend === 'vxlan' ? underlying.mtu - VXLAN_OVERHEAD : underlying.mtu;
}

interface WantedRoute {
  dst: string;
  gateway: string;
  dev?: string;
  onlink: boolean;
}

function wantedRoutes(d: DesiredOverlay): WantedRoute[] {
  if (d.backend === 'host-gw') return d.peers.map((p) => ({ dst: p.podCIDR, gateway: p.internalIP, onlink: false }));
  if (d.backend === 'vxlan' && d.device) return d.peers.map((p) => ({ dst: p.podCIDR, gateway: p.gateway, dev: d.names.device, onlink: true }));
  return [];
}

function sameDevice(o: NonNullable<ObservedOverlay['device']>, w: NonNullable<DesiredOverlay['device']>): boolean {
  return o.vni === w.vni && o.port === w.port && o.local === w.local && o.mac === w.mac && (o.underlying === undefined || o.underlying === w.underlying);
}

/** The lines that take `observed` to `desired` (both empty when nothing is to change). */
export function planOverlay(observed: ObservedOverlay, desired: DesiredOverlay): OverlayPlan {
  const ip: string[] = [];
  const bridge: string[] = [];
  const dev = desired.names.device;
  const proto = desired.names.routeProto;
  const want = desired.device;
  let current = observed;
  // The device: made, remade when its identity changed (the kernel cannot change a VXLAN's id or
  // port in place), or removed (its routes, neighbours and fdb entries go with it).
  if (observed.device && (!want || !sameDevice(observed.device, want))) {
    ip.push(`link del ${dev}`);
    current = { ...observed, device: undefined, neighbours: [], fdb: [], routes: observed.routes.filter((r) => r.dev !== dev) };
  }
  if (want && !current.device) {
    ip.push(`link add ${dev} address ${want.mac} mtu ${want.mtu} type vxlan id ${want.vni} local ${want.local} dev ${want.underlying} dstport ${want.port} nolearning`);
    ip.push(`addr add ${want.address} dev ${dev}`);
    ip.push(`link set ${dev} up`);
  } else if (want && current.device) {
    if (current.device.mtu !== want.mtu) ip.push(`link set ${dev} mtu ${want.mtu}`);
    if (!current.device.addresses.includes(want.address)) ip.push(`addr add ${want.address} dev ${dev}`);
    for (const a of current.device.addresses) if (a !== want.address) ip.push(`addr del ${a} dev ${dev}`);
    if (!current.device.up) ip.push(`link set ${dev} up`);
  }
  // Routes: stale ones first (a block that moved to another node), then the wanted ones.
  const routes = wantedRoutes(desired);
  const key = (r: { dst: string; gateway?: string; dev?: string; onlink: boolean }) => `${r.dst} ${r.gateway ?? ''} ${r.onlink}`;
  const have = new Map(current.routes.map((r) => [r.dst, r]));
  const wanted = new Set(routes.map((r) => r.dst));
  for (const r of current.routes) if (!wanted.has(r.dst)) ip.push(`route del ${r.dst} proto ${proto}${r.dev ? ` dev ${r.dev}` : ''}`);
  for (const r of routes) {
    const old = have.get(r.dst);
    if (old && key(old) === key(r) && (r.dev === undefined || old.dev === r.dev)) continue;
    ip.push(`route replace ${r.dst} via ${r.gateway}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''} proto ${proto}`);
  }
  if (want) {
    const neigh = new Map(current.neighbours.map((n) => [n.ip, n.mac]));
    const fdb = new Map(current.fdb.map((f) => [f.mac, f.dst]));
    const peerGateways = new Set(desired.peers.map((p) => p.gateway));
    const peerMacs = new Set(desired.peers.map((p) => p.mac));
    for (const n of current.neighbours) if (!peerGateways.has(n.ip)) ip.push(`neigh del ${n.ip} dev ${dev}`);
    for (const p of desired.peers) if (neigh.get(p.gateway) !== p.mac) ip.push(`neigh replace ${p.gateway} lladdr ${p.mac} dev ${dev} nud permanent`);
    for (const f of current.fdb) if (!peerMacs.has(f.mac)) bridge.push(`fdb del ${f.mac} dev ${dev} dst ${f.dst} self`);
    for (const p of desired.peers) if (fdb.get(p.mac) !== p.internalIP) bridge.push(`fdb replace ${p.mac} dev ${dev} dst ${p.internalIP} self permanent`);
  }
  return { ip, bridge };
}
