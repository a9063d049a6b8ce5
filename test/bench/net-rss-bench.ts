/**
 * The agent's idle RSS with cluster DNS and service rules active, against the same agent with
 * them off (issue 15's budget: +3 MiB at most), same run. Two real `grove agent` processes,
 * each in a network namespace of its own (test/support/netns.ts: their iptables rules and DNS
 * address stay inside it), each joined to a server of its own listening on its veth:
 *
 * - "on":  its cluster holds `services` selector-less ClusterIP Services with 3 endpoints each
 *          (EndpointSlices applied as a user would), cluster DNS serving (answers checked);
 * - "off": an empty cluster, `--cluster-dns none`.
 *
 * Both with the flannel backend `none` (the pod network is not what this measures). Rounds
 * restart both agents, the start order alternating, and sample both together every 2 s once
 * they settled, so they share the machine's conditions.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { testClusterDns } from '../support/cluster-dns-address.js';
import { createNetnsLink, type NetnsLink } from '../support/netns.js';
import { cleanUp, makeDataDir, memory, startAgent, startServer, stopChild, stopNode, waitFor, type GroveNode, type ProcSample, type ServerNode } from './cluster-fixture.js';
import { missedNote, type Figure } from './report.js';

const run = promisify(execFile);
const KIB_PER_MIB = 1024;
const BUDGET_MIB = 3;
const SAMPLE_EVERY_MS = 2000;

/** `count` selector-less Services (named port, so SRV records too) and their EndpointSlices, for POST /v1/apply. */
export function serviceObjects(count: number): unknown[] {
  const docs: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = `ns${i % 10}`;
    const name = `svc-${i}`;
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    docs.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-bench`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [0, 1, 2].map((k) => {
        const n = i * 3 + k;
        return { addresses: [`10.42.${n >> 8}.${n & 255}`], conditions: { ready: true }, nodeName: 'elsewhere', targetRef: { kind: 'Pod', namespace, name: `${name}-${k}` } };
      }),
    });
  }
  const namespaces = Array.from({ length: Math.min(count, 10) }, (_, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}` } }));
  return [...namespaces, ...docs];
}

/** Looks `name` up at the agent's DNS address from inside its namespace; the A records, or [] on any failure. */
async function lookup(link: NetnsLink, server: string, name: string): Promise<string[]> {
  const script = `const r = new (require('node:dns').promises.Resolver)({ timeout: 1000, tries: 1 }); r.setServers([process.argv[1]]);
r.resolve4(process.argv[2]).then((a) => process.stdout.write(JSON.stringify(a)), () => process.stdout.write('[]'));`;
  const { stdout } = await run(link.netOnly[0]!, [...link.netOnly.slice(1), process.execPath, '-e', script, server, name], { timeout: 10_000 }).catch(() => ({ stdout: '[]' }));
  return JSON.parse(stdout) as string[];
}

/** Service chains the agent's proxier programmed inside its namespace. */
async function serviceChains(link: NetnsLink, tag: string): Promise<number> {
  const { stdout } = await run(link.netOnly[0]!, [...link.netOnly.slice(1), 'iptables-save', '-t', 'nat']);
  return stdout.split('\n').filter((l) => l.startsWith(`:GRV-${tag}-SVC-`)).length;
}

/** The namespace's interfaces, one per line (`ip -o link`). */
async function interfaces(link: NetnsLink): Promise<string> {
  return (await run(link.netOnly[0]!, [...link.netOnly.slice(1), 'ip', '-o', 'link'])).stdout;
}

async function nodeReady(server: ServerNode, name: string): Promise<boolean> {
  const node = await server.api<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${name}`);
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

interface Side {
  label: 'on' | 'off';
  link: NetnsLink;
  server: ServerNode;
  node: { dataDir: string; child?: ChildProcess };
  agent?: GroveNode;
  samples: ProcSample[];
  /** Average RSS of each round, MiB. */
  rounds: number[];
}

export interface NetRssOptions {
  services?: number;
  rounds?: number;
  /** Sampling window per round. */
  windowSeconds?: number;
  /** From "view applied" to the window. */
  settleSeconds?: number;
}

export async function netRssBench(options: NetRssOptions = {}): Promise<Figure[]> {
  const services = options.services ?? 100;
  const rounds = options.rounds ?? 2;
  const windowSeconds = options.windowSeconds ?? 20;
  const settleSeconds = options.settleSeconds ?? 10;
  const links: NetnsLink[] = [];
  // Every data dir made, with the process running in it once there is one: all stopped and removed.
  const nodes: { dataDir: string; child?: ChildProcess }[] = [];
  const sides: Side[] = [];
  try {
    for (const label of ['on', 'off'] as const) {
      const link = await createNetnsLink(`nr${label}`);
      links.push(link);
      const serverNode: { dataDir: string; child?: ChildProcess } = { dataDir: await makeDataDir(`net-rss-${label}-server`) };
      nodes.push(serverNode);
      const server = await startServer(serverNode.dataDir, { agent: false, nodeName: `net-${label}-server`, host: link.hostIp, extraArgs: ['--advertise-addr', link.hostIp] });
      serverNode.child = server.child;
      const side: Side = { label, link, server, node: { dataDir: await makeDataDir(`net-rss-${label}-agent`) }, samples: [], rounds: [] };
      // The agents first at cleanup: they would spend the servers' shutdown reconnecting.
      nodes.unshift(side.node);
      sides.push(side);
    }
    const [on, off] = sides as [Side, Side];
    await on.server.api('POST', '/v1/apply', { objects: serviceObjects(services) });
    const dns = testClusterDns(on.node.dataDir);
    const tag = netTag(on.node.dataDir);
    const lastName = `svc-${services - 1}.ns${(services - 1) % 10}.svc.cluster.local`;
    const start = async (side: Side, round: number): Promise<void> => {
      side.agent = await startAgent(side.server, side.node.dataDir, `net-${side.label}`, {
        prefix: side.link.netOnly,
        join: round === 0,
        // GROVE_CLUSTER_DNS is the data dir's test address (spawnGrove): "on" keeps it.
        extraArgs: side.label === 'off' ? ['--cluster-dns', 'none'] : [],
      });
      side.node.child = side.agent.child;
    };
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? [on, off] : [off, on]) await start(side, round);
      const agents = `\non: ${on.agent?.log()}\noff: ${off.agent?.log()}`;
      await waitFor(async () => (await nodeReady(on.server, 'net-on')) && nodeReady(off.server, 'net-off'), 30_000, `both agents Ready${agents}`);
      // The view applied: every Service programmed and the last one answered by the node's DNS.
      await waitFor(async () => (await serviceChains(on.link, tag)) >= services, 30_000, `${services} service chains in the "on" agent's namespace${agents}`);
      await waitFor(async () => (await lookup(on.link, dns, lastName)).length > 0, 30_000, `${lastName} answered by ${dns}${agents}`);
      if ((await serviceChains(off.link, netTag(off.node.dataDir))) > 0 || (await interfaces(off.link)).includes('grvd-')) throw new Error('the "off" agent programs Services or DNS: it is no baseline');
      await sleep(settleSeconds * 1000);
      const before = sides.map((s) => s.samples.length);
      const t0 = Date.now();
      for (let i = 0; i * SAMPLE_EVERY_MS <= windowSeconds * 1000; i++) {
        await sleep(Math.max(0, t0 + i * SAMPLE_EVERY_MS - Date.now()));
        for (const side of sides) side.samples.push(await memory(side.agent!.pid));
      }
      sides.forEach((side, k) => side.rounds.push(meanOf(side.samples.slice(before[k]), 'rssKiB') / KIB_PER_MIB));
      if (process.env.GROVE_BENCH_HEAP_SNAPSHOT && round === 0) {
        // Diagnostics, as in api-scale-bench.ts: heap snapshots of both agents at rest, to compare.
        for (const side of sides) process.kill(side.agent!.pid, 'SIGUSR2');
        await sleep(15_000);
      }
      for (const side of sides) await stopChild(side.agent!.child);
    }
    const mib = (side: Side, key: keyof ProcSample): number => round1(meanOf(side.samples, key) / KIB_PER_MIB);
    const delta = round1(mib(on, 'rssKiB') - mib(off, 'rssKiB'));
    const perRound = on.rounds.map((v, i) => `${round1(v)} vs ${round1(off.rounds[i]!)}`).join(', ');
    const baseline = (key: keyof ProcSample) => ({ name: 'same agent, DNS off and no Services', value: mib(off, key) });
    const how = `${rounds} rounds (agents restarted, start order alternating), ${on.samples.length / rounds} samples each, 2 s apart, ${settleSeconds} s after the view was applied`;
    return [
      {
        bench: 'net-rss',
        metric: `agent RSS, idle, cluster DNS + ${services} Services × 3 endpoints programmed`,
        value: mib(on, 'rssKiB'),
        unit: 'MiB',
        baseline: baseline('rssKiB'),
        target: `<= +${BUDGET_MIB} MiB`,
        note: `difference ${delta >= 0 ? '+' : ''}${delta} MiB; per round ${perRound} MiB; ${how}${missedNote(delta, BUDGET_MIB)}`,
      },
      {
        bench: 'net-rss',
        metric: `agent anonymous RSS (heap), idle, cluster DNS + ${services} Services`,
        value: mib(on, 'rssAnonKiB'),
        unit: 'MiB',
        baseline: baseline('rssAnonKiB'),
        note: `file-backed ${mib(on, 'rssFileKiB')} vs ${mib(off, 'rssFileKiB')} MiB; PSS ${mib(on, 'pssKiB')} vs ${mib(off, 'pssKiB')} MiB`,
      },
    ];
  } finally {
    await cleanUp([...nodes.map((node) => () => stopNode(node)), ...links.map((link) => () => link.destroy())]);
  }
}

function meanOf(samples: ProcSample[], key: keyof ProcSample): number {
  return samples.reduce((sum, s) => sum + s[key], 0) / samples.length;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
