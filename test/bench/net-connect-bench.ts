/**
 * Connection setup through a ClusterIP against straight to the pod IP (issue 15, "npm run
 * bench adds"), same run. A node and its pods made of throwaway network namespaces
 * (test/support/service-lab.ts), the rules written by the real ServiceProxier inside the node's
 * namespace, a TCP server in one pod and a client in another making sequential connects to the
 * pod IP and to the ClusterIP, interleaved in rounds so that both series share the machine's
 * conditions. Two views: the bench Service alone, and the same Service behind 1,000 others
 * (sorted last, so its ClusterIP is matched after all of theirs: the worst case of a linear
 * SERVICES chain). `lab.destroy()` removes every namespace, and the rules with them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { runBatch } from '../../agent/src/runtime/net/batch-command.js';
import { readHostRules, runConntrack } from '../../agent/src/runtime/net/proxier-host.js';
import { ServiceProxier } from '../../agent/src/runtime/net/proxier.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView, ServiceView } from '../../src/core/network/view.js';
import { createServiceLab, LAB, type ServiceLab } from '../support/service-lab.js';
import { benchView } from './proxier-bench.js';
import { percentile, type Figure } from './report.js';

const run = promisify(execFile);

const SERVER_IP = '10.42.0.201';
const CLIENT_IP = '10.42.0.202';
const CLUSTER_IP = '10.43.250.1';
const SERVICE_PORT = 80;
const POD_PORT = 8080;

/** A listener that drops every connection it accepts: the bench times the handshake only. */
const SERVER_SCRIPT = `
const server = require('node:net').createServer((s) => { s.on('error', () => {}); s.destroy(); });
server.listen(${POD_PORT}, '0.0.0.0', () => process.stdout.write('listening\\n'));
`;

/**
 * Sequential connects, each timed from net.connect() to 'connect' (SYN out, SYN-ACK in), then
 * closed with a reset so the client's ports never pile up in TIME_WAIT. Round r connects
 * perRound times to each target, the order alternating with r. Prints {a: [...], b: [...]} in ms.
 */
const CLIENT_SCRIPT = `
const net = require('node:net');
const [a, b, aPort, bPort, rounds, perRound] = process.argv.slice(1);
function once(host, port) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const s = net.connect({ host, port: Number(port) });
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('connect to ' + host + ':' + port + ' timed out')); });
    s.once('error', reject);
    s.once('connect', () => { const ms = Number(process.hrtime.bigint() - start) / 1e6; s.resetAndDestroy(); resolve(ms); });
  });
}
(async () => {
  const out = { a: [], b: [] };
  for (let r = 0; r < Number(rounds); r++) {
    const order = r % 2 === 0 ? [['a', a, aPort], ['b', b, bPort]] : [['b', b, bPort], ['a', a, aPort]];
    for (const [key, host, port] of order) for (let i = 0; i < Number(perRound); i++) out[key].push(await once(host, port));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { process.stderr.write(String(err && err.message || err)); process.exit(1); });
`;

/** The bench Service: ClusterIP CLUSTER_IP:80 → the server pod's 8080; sorts after every benchView service. */
function benchService(): ServiceView {
  return {
    namespace: 'zz-bench',
    name: 'connect',
    type: 'ClusterIP',
    clusterIP: CLUSTER_IP,
    ports: [{ name: 'tcp', protocol: 'TCP', port: SERVICE_PORT }],
    endpoints: [{ ip: SERVER_IP, ready: true, ports: { tcp: POD_PORT } }],
  };
}

function viewWith(others: number, revision: number): ClusterNetworkView {
  const base = benchView(others);
  return { ...base, revision, nodes: [{ name: 'n1', internalIP: LAB.nodeIP, podCIDR: '10.42.0.0/24' }], services: [...(others > 0 ? base.services : []), benchService()] };
}

function netnsArgv(ns: string, argv: string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, '--', ...argv]];
}

/** The TCP server in the pod's namespace; resolves once it listens. */
async function startServer(ns: string): Promise<ChildProcess> {
  const child = spawn(...netnsArgv(ns, [process.execPath, '-e', SERVER_SCRIPT]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench TCP server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench TCP server exited with ${code}: ${output}`));
    });
  });
  return child;
}

interface Series {
  pod: number[];
  cluster: number[];
}

async function connectRounds(ns: string, rounds: number, perRound: number): Promise<Series> {
  const [cmd, args] = netnsArgv(ns, [process.execPath, '-e', CLIENT_SCRIPT, SERVER_IP, CLUSTER_IP, String(POD_PORT), String(SERVICE_PORT), String(rounds), String(perRound)]);
  const { stdout } = await run(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20 });
  const out = JSON.parse(stdout) as { a: number[]; b: number[] };
  return { pod: out.a, cluster: out.b };
}

export interface NetConnectOptions {
  /** Connects per target and view (default 2,000). */
  connects?: number;
  /** Interleaving rounds (default 20). */
  rounds?: number;
  /** Services programmed in front of the bench Service for the second view (default 1,000). */
  others?: number;
}

export async function netConnectBench(options: NetConnectOptions = {}): Promise<Figure[]> {
  const rounds = options.rounds ?? 20;
  const perRound = Math.max(1, Math.round((options.connects ?? 2000) / rounds));
  const others = options.others ?? 1000;
  const tag = randomBytes(3).toString('hex');
  let lab: ServiceLab | undefined;
  let server: ChildProcess | undefined;
  try {
    lab = await createServiceLab();
    const l = lab;
    const serverNs = await l.addPod('srv', SERVER_IP);
    const clientNs = await l.addPod('cli', CLIENT_IP);
    server = await startServer(serverNs);
    const proxier = new ServiceProxier({
      nodeName: 'n1',
      addresses: [LAB.nodeIP],
      tag,
      logger: silentLogger(),
      host: {
        restore: (input) => runBatch('iptables-restore', input, { path: l.tool('iptables-restore'), timeoutMs: 300_000 }),
        readRules: (t) => readHostRules(t, { path: l.tool('iptables-save') }),
        conntrack: (args) => runConntrack(args, { path: l.tool('conntrack') }),
        // service-lab set ip_forward and bridge-nf-call-iptables inside the node's namespace.
        sysctls: async () => undefined,
      },
    });
    await proxier.update(viewWith(0, 1));
    // Warm-up: the first connects pay for ARP, route and JIT; they are not measured.
    await connectRounds(clientNs, 2, 50);
    const alone = await connectRounds(clientNs, rounds, perRound);
    await proxier.update(viewWith(others, 2));
    const behind = await connectRounds(clientNs, rounds, perRound);
    const n = alone.pod.length;
    const us = (values: number[], p: number): number => Math.round(percentile(values, p) * 1000);
    const figure = (metric: string, series: Series, p: number, note: string): Figure => ({
      bench: 'net-connect',
      metric: `TCP connect through a ClusterIP, p${p}${metric}`,
      value: us(series.cluster, p),
      unit: 'µs',
      baseline: { name: 'straight to the pod IP', value: us(series.pod, p) },
      note,
    });
    const how = `${n} sequential connects to each, ${rounds} interleaved rounds, pod to pod on one node's bridge; ClusterIP: routed via the node, DNAT by the proxier's rules`;
    const behindNote = `the bench Service's ClusterIP matched after ${others.toLocaleString('en')} others in the SERVICES chain (as programmed by the proxier bench's view)`;
    return [
      figure('', alone, 50, how),
      figure('', alone, 99, `p90 ${us(alone.cluster, 90)} vs ${us(alone.pod, 90)} µs`),
      figure(`, behind ${others.toLocaleString('en')} Services`, behind, 50, behindNote),
      figure(`, behind ${others.toLocaleString('en')} Services`, behind, 99, `p90 ${us(behind.cluster, 90)} vs ${us(behind.pod, 90)} µs`),
    ];
  } finally {
    server?.kill('SIGKILL');
    await lab?.destroy();
  }
}
