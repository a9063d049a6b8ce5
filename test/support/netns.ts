/**
 * Test-only: a network namespace joined to the host by a veth pair on its own /30, for running a
 * `grove agent` behind a link the test controls: iptables rules inside the namespace cut it off
 * from the server or drop a share of its packets, tc netem makes it lossy and slow. Everything
 * lives in the namespace or on the host-side veth, so `destroy()` (deleting both) removes rules
 * and qdiscs with it.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetnsLink {
  /** Namespace name (`ip netns exec <ns> …`). */
  ns: string;
  hostIf: string;
  nsIf: string;
  /** The host end's address: what the agent inside uses to reach the server. */
  hostIp: string;
  nsIp: string;
  /** argv prefix that runs a command inside the namespace (ip netns exec: own mount namespace too). */
  prefix: string[];
  /**
   * argv prefix that switches only the network namespace. For the agent: `ip netns exec` would
   * also give it a private mount namespace, hiding the container rootfs mounts it makes from the
   * host and from the next agent process, which a real node never does.
   */
  netOnly: string[];
  /** Drops the namespace's outgoing TCP to these host ports (the broker and the API). */
  block(ports: number[]): Promise<void>;
  unblock(): Promise<void>;
  /** `tc qdisc add dev <if> root netem <args>` on both ends of the link. */
  netem(args: string[]): Promise<void>;
  /** Whether the kernel has sch_netem (some minimal VM kernels are built without it). */
  netemAvailable(): Promise<boolean>;
  /** Drops this share of the packets in each direction between the namespace and the host (iptables statistic). */
  dropRandom(percent: number): Promise<void>;
  destroy(): Promise<void>;
}

async function sh(argv: string[]): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return (await run(cmd, args)).stdout;
}

/** A random 10.x.y.z/30 that no address on the host falls into. */
async function freeSubnet(): Promise<{ hostIp: string; nsIp: string }> {
  const addrs = await sh(['ip', '-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 50; i++) {
    const prefix = `10.${randomInt(64, 128)}.${randomInt(0, 256)}.`;
    const base = randomInt(0, 64) * 4;
    if (!addrs.includes(` ${prefix}`)) return { hostIp: `${prefix}${base + 1}`, nsIp: `${prefix}${base + 2}` };
  }
  throw new Error('no free 10.x /30 found');
}

export async function createNetnsLink(tag: string): Promise<NetnsLink> {
  const suffix = randomBytes(3).toString('hex');
  // Interface names are limited to 15 characters.
  const ns = `grove-${tag}-${suffix}`;
  const hostIf = `gvh${tag.slice(0, 4)}${suffix}`;
  const nsIf = `gvn${tag.slice(0, 4)}${suffix}`;
  const { hostIp, nsIp } = await freeSubnet();
  const prefix = ['ip', 'netns', 'exec', ns];
  let blocked: number[] = [];
  const link: NetnsLink = {
    ns,
    hostIf,
    nsIf,
    hostIp,
    nsIp,
    prefix,
    netOnly: ['nsenter', `--net=/run/netns/${ns}`, '--'],
    async block(ports) {
      for (const port of ports) {
        await sh([...prefix, 'iptables', '-A', 'OUTPUT', '-p', 'tcp', '-d', hostIp, '--dport', String(port), '-j', 'DROP']);
        blocked.push(port);
      }
    },
    async unblock() {
      for (const port of blocked) {
        await sh([...prefix, 'iptables', '-D', 'OUTPUT', '-p', 'tcp', '-d', hostIp, '--dport', String(port), '-j', 'DROP']);
      }
      blocked = [];
    },
    async netem(args) {
      await sh(['tc', 'qdisc', 'add', 'dev', hostIf, 'root', 'netem', ...args]);
      await sh([...prefix, 'tc', 'qdisc', 'add', 'dev', nsIf, 'root', 'netem', ...args]);
    },
    async netemAvailable() {
      try {
        await sh(['tc', 'qdisc', 'add', 'dev', hostIf, 'root', 'netem', 'delay', '0ms']);
        await sh(['tc', 'qdisc', 'del', 'dev', hostIf, 'root']);
        return true;
      } catch {
        return false;
      }
    },
    async dropRandom(percent) {
      const p = String(percent / 100);
      await sh([...prefix, 'iptables', '-A', 'OUTPUT', '-d', hostIp, '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP']);
      await sh([...prefix, 'iptables', '-A', 'INPUT', '-s', hostIp, '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP']);
    },
    async destroy() {
      // The namespace's end (and its rules and qdisc) goes with the namespace; the host end with
      // its peer. Each step is tolerant so a half-made link is still torn down.
      await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
      await sh(['ip', 'link', 'del', hostIf]).catch(() => undefined);
    },
  };
  try {
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await sh(['ip', 'link', 'set', nsIf, 'netns', ns]);
    await sh(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    await sh(['ip', 'link', 'set', hostIf, 'up']);
    await sh([...prefix, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
    await sh([...prefix, 'ip', 'link', 'set', nsIf, 'up']);
    await sh([...prefix, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await link.destroy();
    throw err;
  }
  return link;
}

/** Sequential HTTP GETs (each on a new connection) from inside the namespace; round-trip times in ms. */
const ROUND_TRIP_SCRIPT = `
const http = require('node:http');
const [host, port, n] = process.argv.slice(1);
(async () => {
  const times = [];
  let failed = 0;
  for (let i = 0; i < Number(n); i++) {
    const t = process.hrtime.bigint();
    const ok = await new Promise((resolve) => {
      const req = http.get({ host, port: Number(port), path: '/v1/ca', agent: false, timeout: 10000 }, (res) => { res.resume(); res.on('end', () => resolve(true)); });
      req.on('timeout', () => { req.destroy(); resolve(false); });
      req.on('error', () => resolve(false));
    });
    if (ok) times.push(Number(process.hrtime.bigint() - t) / 1e6); else failed++;
  }
  console.log(JSON.stringify({ times, failed }));
})();
`;

export async function httpRoundTrips(link: NetnsLink, port: number, count: number): Promise<{ median: number; max: number; failed: number }> {
  const out = await sh([...link.netOnly, process.execPath, '-e', ROUND_TRIP_SCRIPT, link.hostIp, String(port), String(count)]);
  const { times, failed } = JSON.parse(out) as { times: number[]; failed: number };
  times.sort((a, b) => a - b);
  return { median: Math.round(times[Math.floor(times.length / 2)] ?? NaN), max: Math.round(times[times.length - 1] ?? NaN), failed };
}
