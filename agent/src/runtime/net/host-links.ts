/**
 * What the host's network has now, read with iproute2's JSON output (`ip -j`, `bridge -j`): the
 * link holding an address, and the overlay's device, routes, neighbours and fdb entries. The
 * parsers are pure (tested on captured output); `readOverlay` runs the tools.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { runCommand } from '../run-command.js';
import type { ObservedOverlay, ObservedRoute, OverlayNames, UnderlyingLink } from './overlay-plan.js';

/** Big enough for the routes of a few thousand nodes. */
const MAX_JSON = 4 * 1024 * 1024;

type Json = Record<string, unknown>;

function array(text: string, what: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    throw new GroveError(ErrorCode.RuntimeFailed, `${what} printed no JSON`, { cause: err });
  }
  return Array.isArray(parsed) ? (parsed.filter((e) => typeof e === 'object' && e !== null) as Json[]) : [];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `ip -j -4 addr show`: the link that holds `ip`, with its MTU. */
export function parseLinkOf(addrJson: string, ip: string): UnderlyingLink | undefined {
  for (const link of array(addrJson, 'ip addr')) {
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as Json[]) : [];
    if (infos.some((a) => a.local === ip)) {
      const name = str(link.ifname);
      const mtu = num(link.mtu);
      if (name && mtu) return { name, mtu };
    }
  }
  return undefined;
}

/** `ip -j -d link show dev X` and `ip -j -4 addr show dev X`: the VXLAN device. */
export function parseDevice(linkJson: string, addrJson: string): ObservedOverlay['device'] {
  const link = array(linkJson, 'ip link')[0];
  if (!link) return undefined;
  const data = ((link.linkinfo as Json | undefined)?.info_data ?? {}) as Json;
  const addrs = array(addrJson, 'ip addr')[0];
  const infos = Array.isArray(addrs?.addr_info) ? (addrs.addr_info as Json[]) : [];
  const flags = Array.isArray(link.flags) ? (link.flags as unknown[]) : [];
  const vni = num(data.id);
  const port = num(data.port);
  const local = str(data.local);
  const underlying = str(data.link);
  return {
    ...(vni !== undefined ? { vni } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(local !== undefined ? { local } : {}),
    ...(underlying !== undefined ? { underlying } : {}),
    mtu: num(link.mtu) ?? 0,
    mac: str(link.address) ?? '',
    addresses: infos.filter((a) => typeof a.local === 'string' && typeof a.prefixlen === 'number').map((a) => `${a.local as string}/${a.prefixlen as number}`),
    up: flags.includes('UP'),
  };
}

/** `ip -j -4 route show proto N`. */
export function parseRoutes(json: string): ObservedRoute[] {
  return array(json, 'ip route').flatMap((r) => {
    const dst = str(r.dst);
    if (!dst) return [];
    const gateway = str(r.gateway);
    const dev = str(r.dev);
    const flags = Array.isArray(r.flags) ? (r.flags as unknown[]) : [];
    return [{ dst: dst.includes('/') ? dst : `${dst}/32`, ...(gateway ? { gateway } : {}), ...(dev ? { dev } : {}), onlink: flags.includes('onlink') }];
  });
}

/** `ip -j -4 neigh show dev X nud permanent`. */
export function parseNeighbours(json: string): ObservedOverlay['neighbours'] {
  return array(json, 'ip neigh').flatMap((n) => (str(n.dst) && str(n.lladdr) ? [{ ip: n.dst as string, mac: n.lladdr as string }] : []));
}

/** `bridge -j fdb show dev X`: the entries with a remote destination. */
export function parseFdb(json: string): ObservedOverlay['fdb'] {
  return array(json, 'bridge fdb').flatMap((f) => (str(f.mac) && str(f.dst) ? [{ mac: f.mac as string, dst: f.dst as string }] : []));
}

export interface HostToolPaths {
  ip?: string;
  bridge?: string;
}

async function tool(path: string, args: string[], missingOk = false): Promise<string> {
  const r = await runCommand(path, args, { timeoutMs: 10_000, maxOutput: MAX_JSON });
  if (r.exitCode === 0) return r.output;
  if (missingOk && /does not exist|Cannot find device/.test(r.output)) return '';
  throw new GroveError(ErrorCode.RuntimeFailed, `${path} ${args.join(' ')} failed: ${r.output.trim().split('\n')[0] ?? ''}`);
}

/** The link holding `ip` on this host (undefined when no link has it). */
export async function linkOf(ip: string, paths: HostToolPaths = {}): Promise<UnderlyingLink | undefined> {
  return parseLinkOf(await tool(paths.ip ?? 'ip', ['-j', '-4', 'addr', 'show']), ip);
}

/** Everything of the overlay this agent's names mark, as the host has it now. */
export async function readOverlay(names: OverlayNames, paths: HostToolPaths = {}): Promise<ObservedOverlay> {
  const ip = paths.ip ?? 'ip';
  const linkJson = await tool(ip, ['-j', '-d', 'link', 'show', 'dev', names.device], true);
  const routes = parseRoutes(await tool(ip, ['-j', '-4', 'route', 'show', 'proto', String(names.routeProto)]));
  if (linkJson.trim() === '') return { routes, neighbours: [], fdb: [] };
  const addrJson = await tool(ip, ['-j', '-4', 'addr', 'show', 'dev', names.device], true);
  return {
    device: parseDevice(linkJson, addrJson),
    routes,
    neighbours: parseNeighbours(await tool(ip, ['-j', '-4', 'neigh', 'show', 'dev', names.device, 'nud', 'permanent'], true)),
    fdb: parseFdb(await tool(paths.bridge ?? 'bridge', ['-j', 'fdb', 'show', 'dev', names.device], true)),
  };
}
