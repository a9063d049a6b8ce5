/**
 * The node's cluster DNS, assembled (issue 15, docs/networking.md "## Cluster DNS"): the
 * `--cluster-dns` address on its dummy interface `grvd-<tag>`, the DNS server bound there, and
 * the forwarder to the host's resolvers. A NetworkViewConsumer: the agent starts it before its
 * pods (with the persisted view, before MQTT is up) and hands it every new view; cleanup()
 * (uninstall) closes it and removes the interface.
 */
import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../../../../src/core/clock.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { dnsInterfaceName, ensureDnsInterface, removeDnsInterface } from '../../runtime/net/dns-interface.js';
import { parseResolvConf, type ClusterDnsSettings } from '../../runtime/resolv-conf.js';
import { DnsForwarder, type Upstream } from './dns-forwarder.js';
import { DnsServer } from './dns-server.js';

const HOST_RESOLV = '/etc/resolv.conf';
/** systemd-resolved's own upstream list, for a host whose resolv.conf names only ourselves. */
const SYSTEMD_UPSTREAM = '/run/systemd/resolve/resolv.conf';
/** How long a read of the host's resolv.conf is used before reading it again (DHCP, VPNs change it). */
const UPSTREAMS_TTL_MS = 5000;
/** A stub resolver asks at most three (glibc MAXNS). */
const MAX_UPSTREAMS = 3;

export interface ClusterDnsOptions {
  /** The address pods' resolv.conf names (IPv4). */
  address: string;
  /** netTag(dataDir): names the interface grvd-<tag>. */
  tag: string;
  logger: Logger;
  /** Default 53; tests use another. */
  port?: number;
  /** Fixed resolvers instead of the host's (tests). */
  upstreams?: readonly Upstream[];
  clock?: Clock;
  /** Per upstream attempt (default 2 s). */
  forwardTimeoutMs?: number;
  ipPath?: string;
}

/** Also what the pod sandboxes write into pods' resolv.conf (openPodSandboxes' clusterDns). */
export interface ClusterDns extends NetworkViewConsumer, ClusterDnsSettings {
  /** Stops answering; the interface stays (the agent's restart takes it over). */
  stop(): Promise<void>;
}

/**
 * The host's resolvers as the DNS server forwards to them: /etc/resolv.conf's (the server runs in
 * the host's network namespace, so a loopback stub such as systemd-resolved's is reachable and
 * keeps the host's split DNS), never our own address; systemd-resolved's upstream list when
 * nothing else is left.
 */
export function hostUpstreams(own: string, clock: Clock, files = { host: HOST_RESOLV, fallback: SYSTEMD_UPSTREAM }): () => Promise<readonly Upstream[]> {
  let cached: { at: number; list: readonly Upstream[] } | undefined;
  const read = async (path: string): Promise<string[]> => parseResolvConf(await readFile(path, 'utf8').catch(() => '')).nameservers.filter((ns) => ns !== own);
  return async () => {
    if (cached && clock.now() - cached.at < UPSTREAMS_TTL_MS) return cached.list;
    let servers = await read(files.host);
    if (servers.length === 0) servers = await read(files.fallback);
    const list = servers.slice(0, MAX_UPSTREAMS).map((host) => ({ host, port: 53 }));
    cached = { at: clock.now(), list };
    return list;
  };
}

/** Puts the address on grvd-<tag>, binds the server; a failure leaves neither behind. */
export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const clock = opts.clock ?? systemClock();
  const iface = dnsInterfaceName(opts.tag);
  const fixed = opts.upstreams;
  const forwarder = new DnsForwarder({
    upstreams: fixed ? async () => fixed : hostUpstreams(opts.address, clock),
    clock,
    ...(opts.forwardTimeoutMs !== undefined ? { timeoutMs: opts.forwardTimeoutMs } : {}),
  });
  const server = new DnsServer({ address: opts.address, forwarder, logger: opts.logger, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  await ensureDnsInterface(iface, opts.address, opts.ipPath);
  try {
    await server.listen();
  } catch (err) {
    await removeDnsInterface(iface, opts.ipPath).catch(() => undefined);
    throw err;
  }
  return {
    nameserver: opts.address,
    clusterDomain: () => server.clusterDomain,
    update: (view: ClusterNetworkView) => server.update(view),
    stop: () => server.close(),
    async cleanup() {
      await server.close();
      await removeDnsInterface(iface, opts.ipPath);
    },
  };
}
