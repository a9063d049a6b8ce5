/**
 * Test-only: a virtual LAN — a host bridge holding the host's address on a /24 of its own (the
 * host, or the server node, is on it), and N network namespaces ("nodes"), each with a veth into
 * the bridge and the next address of the subnet, and a default route via the host (the LAN's
 * router). Nodes reach each other and the host in one hop, as boards on one switch. Names carry
 * a random suffix (tests run side by side); `destroy()` removes the namespaces (their ends and
 * everything inside go with them), the bridge and the host rule that lets bridged traffic
 * through a FORWARD policy of DROP.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LanNode {
  /** Namespace name; /run/netns/<ns>. */
  ns: string;
  /** The node's address on the LAN (its InternalIP). */
  ip: string;
  /** Its LAN interface, inside the namespace. */
  ifname: string;
  /** argv prefix that runs a command in the node's network namespace only (nsenter --net). */
  netOnly: string[];
}

export interface NetnsLan {
  bridge: string;
  /** The host's address on the bridge. */
  hostIp: string;
  /** e.g. 10.150.7.0/24. */
  subnet: string;
  nodes: LanNode[];
  destroy(): Promise<void>;
}

async function sh(argv: string[]): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return (await run(cmd, args)).stdout;
}

/** A 10.x.y.0/24 that no address of the host falls into. */
async function freeLanPrefix(): Promise<string> {
  const addrs = await sh(['ip', '-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 50; i++) {
    const prefix = `10.${randomInt(128, 192)}.${randomInt(0, 256)}.`;
    if (!addrs.includes(` ${prefix}`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 found for a test LAN');
}

export async function createNetnsLan(count: number): Promise<NetnsLan> {
  if (count < 1 || count > 50) throw new Error('a test LAN has 1 to 50 nodes');
  const suffix = randomBytes(3).toString('hex');
  const bridge = `gvlan${suffix}`;
  const prefix = await freeLanPrefix();
  const forwardRule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
  const nodes: LanNode[] = Array.from({ length: count }, (_, i) => ({
    ns: `grove-lan-${suffix}-${i}`,
    ip: `${prefix}${i + 2}`,
    ifname: 'lan0',
    netOnly: ['nsenter', `--net=/run/netns/grove-lan-${suffix}-${i}`, '--'],
  }));
  let ruleAdded = false;
  const lan: NetnsLan = {
    bridge,
    hostIp: `${prefix}1`,
    subnet: `${prefix}0/24`,
    nodes,
    async destroy() {
      // Each step tolerant, so a half-made LAN is torn down too.
      for (const n of nodes) await sh(['ip', 'netns', 'del', n.ns]).catch(() => undefined);
      for (let i = 0; i < nodes.length; i++) await sh(['ip', 'link', 'del', `gvl${suffix}h${i}`]).catch(() => undefined);
      await sh(['ip', 'link', 'del', bridge]).catch(() => undefined);
      if (ruleAdded) await sh(['iptables', '-w', '-D', ...forwardRule]).catch(() => undefined);
    },
  };
  try {
    await sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    await sh(['ip', 'addr', 'add', `${lan.hostIp}/24`, 'dev', bridge]);
    await sh(['ip', 'link', 'set', bridge, 'up']);
    // With br_netfilter, frames between two ports of the bridge pass the host's FORWARD chain.
    await sh(['iptables', '-w', '-I', ...forwardRule]);
    ruleAdded = true;
    for (const [i, n] of nodes.entries()) {
      const hostEnd = `gvl${suffix}h${i}`;
      await sh(['ip', 'netns', 'add', n.ns]);
      await sh(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', n.ifname, 'netns', n.ns]);
      await sh(['ip', 'link', 'set', hostEnd, 'master', bridge, 'up']);
      await sh([...n.netOnly, 'ip', 'addr', 'add', `${n.ip}/24`, 'dev', n.ifname]);
      await sh([...n.netOnly, 'ip', 'link', 'set', n.ifname, 'up']);
      await sh([...n.netOnly, 'ip', 'link', 'set', 'lo', 'up']);
      // The host is the LAN's router, as a real LAN has one: a node's own processes reach
      // ClusterIPs only with a route that covers them (the route lookup comes before the nat
      // OUTPUT DNAT: without one, connect() fails with ENETUNREACH; docs/networking.md).
      await sh([...n.netOnly, 'ip', 'route', 'add', 'default', 'via', lan.hostIp, 'dev', n.ifname]);
    }
  } catch (err) {
    await lan.destroy();
    throw err;
  }
  return lan;
}
