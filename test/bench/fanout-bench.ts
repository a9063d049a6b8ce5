/**
 * Fleet fan-out: N hollow nodes (agent/src/hollow: the real agent code over the in-memory
 * runtime) join a real `grove server` all at once, a DaemonSet reaches every one of them, and
 * then a change to it. Measured: join times, how long until every node reports the new template
 * Running (p50/p99/max, from the apply call), and the server's peak RSS and CPU, read from
 * /proc since server, broker and hollow nodes are separate processes.
 *
 * Brokers: the embedded one, an external Mosquitto (whose passwd/acl the server manages), or a
 * three-member NATS cluster with MQTT (one member killed right before the change is applied:
 * every node on it must fail over and still converge).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { runGrove } from '../support/grove-cli.js';
import { hollowDaemonSet } from '../support/hollow.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { freePort, portOpen } from '../support/ports.js';
import { cleanUp, clockTicksPerSecond, cpuTicks, makeDataDir, memory, peakRssKiB, spawnBareNode, startServer, stopChild, type ServerNode } from './cluster-fixture.js';
import { HollowWorker, type Converged, type JoinOutcome } from './hollow-worker.js';
import { percentile, type Figure } from './report.js';

export type FanoutBroker = 'embedded' | 'mosquitto' | 'nats';

export interface FanoutOptions {
  broker: FanoutBroker;
  nodes: number;
  /** Hollow-node processes (default: one per 5,000 nodes; one process holds < 20,000 sockets here). */
  workers?: number;
  /** The target the convergence max is held against, for the table. */
  targetMs?: number;
  targetRssMiB?: number;
  /** Per phase (join, first rollout, change). */
  timeoutMs?: number;
  /** Joins in flight per hollow process; 0 (default) = all at once, a storm. */
  joinConcurrency?: number;
  /** The server's --max-joins-in-flight (default: the server's own default). */
  maxJoinsInFlight?: number;
}

const APP = 'fanout';
const KIB_PER_MIB = 1024;
async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await access(path).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(50);
  }
}

interface BrokerSetup {
  server: ServerNode;
  /** External broker processes (their peak RSS is reported beside the server's). */
  brokerPids: number[];
  nats?: NatsCluster;
  stop(): Promise<void>;
}

export async function startWithBroker(kind: FanoutBroker, dataDir: string, serverArgs: string[] = []): Promise<BrokerSetup> {
  const nodeName = 'bench-server';
  if (kind === 'embedded') {
    const server = await startServer(dataDir, { agent: false, nodeName, extraArgs: serverArgs });
    return { server, brokerPids: [], stop: () => stopChild(server.child) };
  }
  if (kind === 'nats') {
    const nats = await startNatsCluster({ members: 3 });
    try {
      const server = await startServer(dataDir, { agent: false, nodeName, extraArgs: ['--mqtt-url', nats.mqttUrls.join(','), '--broker-credentials', nats.credentialsFile, ...serverArgs] });
      return { server, nats, brokerPids: nats.members.map((m) => m.proc.pid!), stop: () => cleanUp([() => stopChild(server.child), () => nats.stop()]) };
    } catch (err) {
      await nats.stop();
      throw err;
    }
  }
  // Mosquitto: the server writes its config, passwd and acl at start, then waits for the broker.
  const port = await freePort();
  const confDir = join(dataDir, 'server', 'mosquitto');
  const pidFile = join(dataDir, 'mosquitto.pid');
  let mosquitto: ChildProcess | undefined;
  const launch = (async () => {
    await waitForFile(join(confDir, 'mosquitto.conf'), 30_000);
    mosquitto = spawn('mosquitto', ['-c', join(confDir, 'mosquitto.conf')], { stdio: 'ignore' });
    // Mosquitto writes no pid file unless daemonised: the server's reloads read this one.
    await writeFile(pidFile, `${mosquitto.pid}\n`);
    while (!(await portOpen(port))) await sleep(50);
  })();
  const extraArgs = ['--mqtt-url', `mqtt://127.0.0.1:${port}`, '--mosquitto-dir', confDir, '--mosquitto-pid-file', pidFile, ...serverArgs];
  if (process.getuid?.() === 0) extraArgs.push('--mosquitto-user', 'root');
  try {
    const server = await startServer(dataDir, { agent: false, nodeName, extraArgs });
    await launch;
    return { server, brokerPids: [mosquitto!.pid!], stop: () => cleanUp([() => stopChild(server.child), async () => mosquitto && (await stopChild(mosquitto))]) };
  } catch (err) {
    if (mosquitto) await stopChild(mosquitto);
    throw err;
  }
}

function stats(values: number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}

export async function fanoutBench(options: FanoutOptions): Promise<Figure[]> {
  const bench = `fanout-${options.broker}`;
  const n = options.nodes;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const workerCount = options.workers ?? Math.max(1, Math.ceil(n / 5000));
  const hz = await clockTicksPerSecond();
  const dataDir = await makeDataDir('fanout');
  const bare = spawnBareNode();
  let setup: BrokerSetup | undefined;
  const workers: HollowWorker[] = [];
  try {
    await sleep(1000);
    const bareRss = (await memory(bare.pid!)).rssKiB;
    setup = await startWithBroker(options.broker, dataDir, options.maxJoinsInFlight ? ['--max-joins-in-flight', String(options.maxJoinsInFlight)] : []);
    const { server } = setup;
    const created = await runGrove(['--data-dir', dataDir, 'token', 'create', '--ttl', '2h']);
    if (created.code !== 0) throw new Error(`grove token create: ${created.stderr.trim()}`);
    const token = created.stdout.trim();
    const idleRss = (await memory(server.pid)).rssKiB;

    const per = Math.ceil(n / workerCount);
    for (let w = 0; w < workerCount; w++) {
      const count = Math.min(per, n - w * per);
      if (count <= 0) break;
      workers.push(await HollowWorker.start({ serverUrl: server.apiUrl, token, count, namePrefix: `hollow-w${w}`, heartbeatSeconds: 15, reconnectSeconds: 2, joinConcurrency: options.joinConcurrency ?? 0 }));
    }

    // The storm: every node of every worker asks to join at the same moment.
    const ticksBeforeJoin = await cpuTicks(server.pid);
    const joinStart = Date.now();
    const joined: JoinOutcome[] = (await Promise.all(workers.map((w) => w.join(timeoutMs)))).flat();
    const joinWallS = (Date.now() - joinStart) / 1000;
    const joinCpu = ((await cpuTicks(server.pid)) - ticksBeforeJoin) / hz / joinWallS * 100;
    const failed = joined.filter((j) => j.error);
    if (failed.length) process.stderr.write(`  ${failed.length} joins failed, e.g. ${failed[0]!.node}: ${failed[0]!.error}\n`);
    const joinMs = stats(joined.filter((j) => !j.error).map((j) => j.joinMs));
    const busyAnswers = joined.reduce((a, j) => a + j.busy, 0);
    const droppedTries = joined.reduce((a, j) => a + j.dropped, 0);
    const retriedNodes = joined.filter((j) => j.busy + j.dropped > 0).length;
    const maxRetries = Math.max(0, ...joined.map((j) => j.busy + j.dropped));

    const apply = (version: string): Promise<unknown> =>
      server.api('POST', '/v1/apply', { objects: manifestsToObjects([{ path: 'fanout.yaml', text: hollowDaemonSet(APP, version) }]).objects });
    const converge = (notHash?: string): Promise<Converged[]> => Promise.all(workers.map((w) => w.waitForApp(APP, timeoutMs, notHash)));

    // First rollout: every node gets its first pod (also warms the JIT of server and agents).
    const firstStart = Date.now();
    await apply('v1');
    const first = await converge();
    const firstMissing = first.reduce((a, c) => a + c.missing, 0);
    const firstMax = Math.max(...first.flatMap((c) => c.times)) - firstStart;
    const v1 = first.find((c) => c.hash)?.hash;
    if (!v1) throw new Error(`first rollout reached no hollow process completely: ${first.map((c) => c.error).join('; ')}`);

    // NATS: a member dies right before the change; its nodes must fail over and converge anyway.
    if (setup.nats) await setup.nats.kill(1);

    const ticksBefore = await cpuTicks(server.pid);
    const changeStart = Date.now();
    await apply('v2');
    const second = await converge(v1);
    const wallS = (Date.now() - changeStart) / 1000;
    const changeCpu = ((await cpuTicks(server.pid)) - ticksBefore) / hz / wallS * 100;
    const latencies = second.flatMap((c) => c.times.map((t) => t - changeStart));
    const missing = second.reduce((a, c) => a + c.missing, 0);
    for (const c of [...first, ...second]) if (c.error) process.stderr.write(`  ${c.error}\n`);
    const conv = stats(latencies);
    if (process.env.GROVE_BENCH_HEAP_SNAPSHOT) {
      // Diagnostics: a heap snapshot of the server at rest with the whole fleet (needs
      // GROVE_TEST_NODE_ARGS=--heapsnapshot-signal=SIGUSR2; written to the bench's directory).
      process.kill(server.pid, 'SIGUSR2');
      await sleep(20_000);
    }
    const serverPeak = await peakRssKiB(server.pid);
    const serverNow = (await memory(server.pid)).rssKiB;
    const brokerPeaks = await Promise.all(setup.brokerPids.map((pid) => peakRssKiB(pid).catch(() => NaN)));
    const hollowRss = second.reduce((a, c) => a + c.rssBytes, 0);

    const mib = (kib: number): number => Math.round((kib / KIB_PER_MIB) * 10) / 10;
    const bareMiB = { name: 'bare node -e', value: mib(bareRss) };
    const where = options.broker === 'nats' ? ' (a member killed before the change)' : '';
    const figures: Figure[] = [
      { bench, metric: options.joinConcurrency ? `nodes joined (${n}, ${options.joinConcurrency} at a time per process)` : `nodes joined (storm of ${n})`, value: n - failed.length, unit: 'nodes', target: 'all, no join times out', note: failed.length ? `${failed.length} failed` : `${workers.length} hollow process(es)` },
      { bench, metric: 'join time p50', value: joinMs.p50, unit: 'ms' },
      { bench, metric: 'join time p99', value: joinMs.p99, unit: 'ms' },
      { bench, metric: 'join time max (every node joined)', value: joinMs.max, unit: 'ms', note: 'from the start of the storm to the last join answer, retries included' },
      {
        bench,
        metric: 'join retries',
        value: busyAnswers + droppedTries,
        unit: 'retries',
        note: `${busyAnswers} busy answers (503 + Retry-After), ${droppedTries} dropped or timed-out attempts; ${retriedNodes} nodes retried, at most ${maxRetries} times`,
      },
      { bench, metric: 'first rollout, all nodes Running', value: firstMax, unit: 'ms', note: firstMissing ? `new DaemonSet; ${firstMissing} joined nodes never ran it within ${timeoutMs / 1000} s` : 'new DaemonSet' },
      { bench, metric: `change → node Running new template p50${where}`, value: conv.p50, unit: 'ms' },
      { bench, metric: 'change → node Running new template p99', value: conv.p99, unit: 'ms' },
      {
        bench,
        metric: 'change → every node Running new template (max)',
        value: conv.max,
        unit: 'ms',
        ...(options.targetMs ? { target: `≤ ${options.targetMs} ms` } : {}),
        ...(missing ? { note: `over the nodes that converged: ${missing} joined nodes did not within ${timeoutMs / 1000} s` } : {}),
      },
      { bench, metric: 'server peak RSS (VmHWM)', value: mib(serverPeak), unit: 'MiB', baseline: bareMiB, ...(options.targetRssMiB ? { target: `≤ ${options.targetRssMiB} MB` } : {}), note: options.broker === 'embedded' ? 'broker included' : 'broker not included' },
      { bench, metric: 'server RSS after the change', value: mib(serverNow), unit: 'MiB', baseline: { name: 'same server, no nodes', value: mib(idleRss) } },
      { bench, metric: 'server CPU during the join storm', value: Math.round(joinCpu), unit: '% of a core', note: `${joinWallS.toFixed(1)} s window` },
      { bench, metric: 'server CPU during the change', value: Math.round(changeCpu), unit: '% of a core', note: `${wallS.toFixed(1)} s window` },
      { bench, metric: 'hollow node RSS per node', value: Math.round(hollowRss / n / 1024), unit: 'KiB', note: 'test harness, not a real agent' },
    ];
    if (brokerPeaks.length) {
      figures.push({ bench, metric: `broker peak RSS (${options.broker}${brokerPeaks.length > 1 ? `, ${brokerPeaks.length} members summed` : ''})`, value: mib(brokerPeaks.filter(Number.isFinite).reduce((a, b) => a + b, 0)), unit: 'MiB' });
    }
    return figures;
  } finally {
    await cleanUp([
      ...workers.map((w) => () => w.stop()),
      async () => setup && (await setup.stop()),
      async () => bare.kill('SIGKILL'),
      () => import('node:fs/promises').then((fs) => fs.rm(dataDir, { recursive: true, force: true })),
    ]);
  }
}
