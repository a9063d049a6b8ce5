/**
 * The Kubernetes API at fleet scale: a real `grove server --tls` (LevelDB in a temp dir), N
 * hollow nodes joined (agent/src/hollow), and DaemonSets spread over a few namespaces giving
 * every node P pods, all bound and Running (N × P pods: 1,000 × 10 by default). Measured:
 *   - the server's RSS at rest at that scale;
 *   - its peak RSS (VmHWM, reset first) while W watches of pods across all namespaces
 *     (`?watch=1`: each starts with an ADDED event per pod) are open and a full list is read;
 *   - `kubectl get pods -A` (real kubectl, paging 500 at a time as it does by default) and
 *     `grove get pods -A` (the real CLI), interleaved round by round beside `node -e 0`, the
 *     start-up cost of any Node program, as the baseline.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, runGrove } from '../support/grove-cli.js';
import { applyYaml, hollowDaemonSet } from '../support/hollow.js';
import { kubectlWith, writeKubeconfig } from '../support/kubectl.js';
import { benchApi, type BenchApi, type OpenStream } from './api-client.js';
import { cleanUp, clockTicksPerSecond, cpuTicks, makeDataDir, memory, peakRssKiB, resetPeakRss, spawnBareNode, startServer, stopChild, waitFor, type ServerNode, type ServerStart } from './cluster-fixture.js';
import { HollowWorker, type JoinOutcome } from './hollow-worker.js';
import { readSmaps } from './smaps.js';
import { missedNote, percentile, type Figure } from './report.js';
import { freePort } from '../support/ports.js';
import { unitEnvironment } from '../support/unit-env.js';

export interface ApiScaleOptions {
  nodes: number;
  podsPerNode: number;
  /** Watches of all pods open at once during the peak measurement. */
  watches: number;
  /** Rounds of (node -e 0, kubectl get pods -A, grove get pods -A). */
  rounds: number;
  /** The server RSS budget in MiB (the table's target). */
  targetRssMiB?: number;
  /** Per phase: join, all pods Running, each watch's initial events. */
  timeoutMs?: number;
  /**
   * Server configurations compared after the main figures, interleaved (each round restarts the
   * server in every variant, in rotating order, on the same data and ports, so the same fleet
   * reconnects): its RSS at rest and its watched peak per variant. Diagnostics for changes.
   */
  variants?: Record<string, ServerVariant>;
  variantRounds?: number;
}

export interface ServerVariant {
  /** Another build's dist/ (its src/cli/grove.js runs); this checkout's by default. */
  dist?: string;
  /** The whole environment added to the server's (not merged with the unit's: say it). */
  env?: Record<string, string>;
}

const BENCH = 'api-scale';
const KIB_PER_MIB = 1024;
const NAMESPACES = 5;

const mib = (kib: number): number => Math.round((kib / KIB_PER_MIB) * 10) / 10;

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The manifest: the namespaces, then `apps` DaemonSets on every hollow node, round-robin over them. */
function fleetManifest(apps: string[], namespaceOf: (i: number) => string): string {
  const namespaces = [...new Set(apps.map((_, i) => namespaceOf(i)))].map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
  return [...namespaces, ...apps.map((app, i) => hollowDaemonSet(app, 'v1', namespaceOf(i)))].join('---\n');
}

/**
 * Pods the API does not report Running yet, from one page of one (remainingItemCount says the
 * rest). Asked this way round so that the answer, once converged, is empty and the server keeps
 * no paging snapshot of all the pods: the RSS at rest is then not the bench's own doing.
 */
async function podsNotRunning(api: BenchApi): Promise<number> {
  const { status, body } = await api.get('/api/v1/pods?fieldSelector=status.phase%21%3DRunning&limit=1');
  if (status !== 200) throw new Error(`GET pods not Running: HTTP ${status} ${body.slice(0, 200)}`);
  const list = JSON.parse(body) as { items: unknown[]; metadata: { remainingItemCount?: number } };
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

/** Samples VmRSS `count` times, `everyMs` apart; the average, min and max in KiB. */
async function sampleRss(pid: number, count: number, everyMs: number): Promise<{ avg: number; min: number; max: number }> {
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(everyMs);
    values.push((await memory(pid)).rssKiB);
  }
  return { avg: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Where the server's RSS is now (smaps), and with mem-probe.ts loaded (GROVE_MEM_PROBE_DIR and
 * GROVE_TEST_NODE_ARGS=--import …/mem-probe.js) its V8 heap: printed to stderr, for the report.
 */
async function breakdown(label: string, pid: number): Promise<void> {
  const m = (kib: number): string => `${mib(kib)}`;
  const s = await readSmaps(pid);
  let probe = '';
  const dir = process.env.GROVE_MEM_PROBE_DIR;
  if (dir) {
    const p = JSON.parse(await readFile(join(dir, `${pid}.json`), 'utf8').catch(() => '{}')) as Record<string, number>;
    const b = (n: number | undefined): string => (n === undefined ? '?' : m(n / 1024));
    probe = ` | V8 heap used ${b(p.heapUsed)} of ${b(p.heapTotal)}, external ${b(p.external)} (array buffers ${b(p.arrayBuffers)}), V8 malloced ${b(p.mallocedMemory)}`;
  }
  process.stderr.write(`  [${label}] MiB: file ${m(s.fileKiB)}, brk heap ${m(s.brkKiB)}, ${s.arenas} malloc arenas ${m(s.arenaKiB)}, other anon ${m(s.otherAnonKiB)}${probe}\n`);
}

/**
 * Diagnostics (GROVE_BENCH_MALLOC_PROBE=1): malloc-probe.c, built here and preloaded into the
 * main server, reports glibc's account of its heap (in use vs free) on request, and trims it
 * at the end: how much of the native heap is live and how much is free memory glibc kept.
 */
interface MallocProbe {
  env: Record<string, string>;
  report(label: string, trim?: boolean): Promise<void>;
}

export async function mallocProbe(dir: string, pid: () => number): Promise<MallocProbe> {
  const library = join(dir, 'malloc-probe.so');
  const source = join(REPO_ROOT, 'test', 'bench', 'malloc-probe.c');
  await promisify(execFile)('cc', ['-shared', '-fPIC', '-O2', '-pthread', '-o', library, source]);
  const trigger = join(dir, 'trigger');
  return {
    env: { LD_PRELOAD: library, GROVE_MALLOC_PROBE_TRIGGER: trigger },
    async report(label, trim = false) {
      const rssBefore = (await memory(pid())).rssKiB;
      await rm(`${trigger}.json`, { force: true });
      await writeFile(trigger, trim ? 'trim' : 'read');
      let text = '';
      await waitFor(async () => (text = await readFile(`${trigger}.json`, 'utf8').catch(() => '')) !== '', 30_000, `malloc probe (${label})`, 200);
      const m = JSON.parse(text) as Record<string, number>;
      const b = (n: number): number => mib(n / 1024);
      process.stderr.write(`  [${label}] malloc: heap ${b(m.heapBytes!)} MiB, in use ${b(m.inUseBytes!)}, free ${b(m.freeBytes!)} (at the top ${b(m.topFreeBytes!)}), mmapped ${b(m.mmappedBytes!)}\n`);
      if (trim) process.stderr.write(`  [${label}] malloc_trim(0): free ${b(m.freeBytes!)} -> ${b(m.afterFreeBytes!)} MiB, RSS ${mib(rssBefore)} -> ${mib((await memory(pid())).rssKiB)} MiB\n`);
    },
  };
}

interface Peak {
  peakKiB: number;
  afterKiB: number;
  watchMs: number;
  listMs: number;
  listBytes: number;
}

/**
 * VmHWM (reset first) while `watches` watches of all pods open from scratch (an ADDED event per
 * pod each; waited for) and a full list is read with them open; they are closed after.
 */
async function watchedPeak(api: BenchApi, pid: number, watches: number, pods: number, timeoutMs: number): Promise<Peak> {
  const streams: OpenStream[] = [];
  try {
    await resetPeakRss(pid);
    const added = new Array<number>(watches).fill(0);
    const watchStart = process.hrtime.bigint();
    for (let i = 0; i < watches; i++) {
      streams.push(await api.stream('/api/v1/pods?watch=1', (line) => line.startsWith('{"type":"ADDED"') && added[i]!++));
    }
    await waitFor(async () => added.every((n) => n >= pods), timeoutMs, `${watches} watches to receive ${pods} ADDED events each`, 200);
    const watchMs = elapsedMs(watchStart);
    const listStart = process.hrtime.bigint();
    const list = await api.get('/api/v1/pods');
    const listMs = elapsedMs(listStart);
    const listed = (JSON.parse(list.body) as { items: unknown[] }).items.length;
    if (listed !== pods) throw new Error(`the full list has ${listed} pods, expected ${pods}`);
    return { peakKiB: await peakRssKiB(pid), afterKiB: (await memory(pid)).rssKiB, watchMs, listMs, listBytes: list.body.length };
  } finally {
    for (const s of streams) s.close();
  }
}

/** TCP connections established to a local port (the server's side of each node's MQTT connection). */
async function establishedTo(port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '01') count++;
    }
  }
  return count;
}

/** Runs a program to its end; its wall time in ms (throws on a non-zero exit or `check` failing). */
async function timed(label: string, run: () => Promise<{ code: number; stdout: string; stderr: string }>, check: (stdout: string) => string | undefined): Promise<number> {
  const start = process.hrtime.bigint();
  const r = await run();
  const ms = elapsedMs(start);
  if (r.code !== 0) throw new Error(`${label} exited with ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  const problem = check(r.stdout);
  if (problem) throw new Error(`${label}: ${problem}`);
  return ms;
}

function nodeE0(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr: '' }));
  });
}

/** A table of `pods` rows under one header line. */
function tableOf(pods: number): (stdout: string) => string | undefined {
  return (stdout) => {
    const rows = stdout.split('\n').filter(Boolean).length - 1;
    return rows === pods ? undefined : `printed ${rows} rows, expected ${pods}`;
  };
}

export async function apiScaleBench(options: ApiScaleOptions): Promise<Figure[]> {
  const { nodes, podsPerNode, watches, rounds } = options;
  const pods = nodes * podsPerNode;
  const timeoutMs = options.timeoutMs ?? 240_000;
  const dataDir = await makeDataDir('apiscale');
  const home = await mkdtemp(join(tmpdir(), 'grove-bench-kubectl-'));
  const bare = spawnBareNode();
  let server: ServerNode | undefined;
  const workers: HollowWorker[] = [];
  try {
    await sleep(1000);
    const bareRss = (await memory(bare.pid!)).rssKiB;
    // Fixed ports: a variant's restart (below) must find the nodes where they reconnect.
    const mqttPort = await freePort();
    const start: ServerStart = { agent: false, nodeName: 'bench-server', extraArgs: ['--tls'], apiAddr: `127.0.0.1:${await freePort()}`, mqttAddr: `127.0.0.1:${mqttPort}` };
    // As the installed unit starts it (firmware-scripts/install.sh UNIT_ENVIRONMENT).
    // Diagnostics: GROVE_API_SCALE_SERVER_ENV='{"K": "V"}' is added to the unit's, for the main
    // server (the rollout's effect, which a variant's restart cannot show, under other settings).
    const extraEnv = process.env.GROVE_API_SCALE_SERVER_ENV ? (JSON.parse(process.env.GROVE_API_SCALE_SERVER_ENV) as Record<string, string>) : {};
    const probe = process.env.GROVE_BENCH_MALLOC_PROBE ? await mallocProbe(home, () => server!.pid) : undefined;
    const shippedEnv = { ...unitEnvironment(), ...extraEnv, ...probe?.env };
    if (Object.keys(extraEnv).length) process.stderr.write(`  main server env ${JSON.stringify(shippedEnv)}\n`);
    server = await startServer(dataDir, { ...start, env: shippedEnv });
    const api = await benchApi(dataDir);
    const created = await runGrove(['--data-dir', dataDir, 'token', 'create', '--ttl', '2h']);
    if (created.code !== 0) throw new Error(`grove token create: ${created.stderr.trim()}`);
    const emptyRss = (await memory(server.pid)).rssKiB;
    await breakdown('empty', server.pid);

    // The fleet: one hollow process per 5,000 nodes (fanout-bench.ts), joined 500 at a time
    // (the storm is the fanout bench's subject, not this one's).
    const perWorker = 5000;
    for (let w = 0; w * perWorker < nodes; w++) {
      const count = Math.min(perWorker, nodes - w * perWorker);
      workers.push(await HollowWorker.start({ serverUrl: server.apiUrl, token: created.stdout.trim(), count, namePrefix: `api-w${w}`, heartbeatSeconds: 15, reconnectSeconds: 2, joinConcurrency: 500 }));
    }
    const joined: JoinOutcome[] = (await Promise.all(workers.map((w) => w.join(timeoutMs)))).flat();
    const failed = joined.filter((j) => j.error);
    if (failed.length) throw new Error(`${failed.length} hollow nodes did not join, e.g. ${failed[0]!.node}: ${failed[0]!.error}`);

    // The fleet alone (connections, node objects, targets), before any pod: what pods add is the rest.
    await sleep(5000);
    const fleetRss = await sampleRss(server.pid, 3, 1000);
    await breakdown('fleet, no pods', server.pid);
    await probe?.report('fleet, no pods');

    const apps = Array.from({ length: podsPerNode }, (_, i) => `api-scale-${i}`);
    const namespaceOf = (i: number): string => `api-scale-ns-${i % NAMESPACES}`;
    const rolloutStart = process.hrtime.bigint();
    await applyYaml(dataDir, fleetManifest(apps, namespaceOf));
    // One app at a time per process (its answers do not name the app); they converge together.
    for (const app of apps) {
      for (const converged of await Promise.all(workers.map((w) => w.waitForApp(app, timeoutMs)))) {
        if (converged.error) throw new Error(`${app}: ${converged.error}\nserver log:\n${server.log()}`);
      }
    }
    // Every node runs its pods: once the API has no pod that is not Running, all are (the full
    // list below checks that there are `pods` of them).
    await waitFor(async () => (await podsNotRunning(api)) === 0, timeoutMs, `${pods} pods Running in the API`, 1000);
    const rolloutS = elapsedMs(rolloutStart) / 1000;

    // At rest: status reports keep arriving (heartbeats every 15 s), nothing else happens.
    await sleep(10_000);
    const ticksBefore = await cpuTicks(server.pid);
    const idleStart = process.hrtime.bigint();
    const idle = await sampleRss(server.pid, 6, 2000);
    await breakdown('at rest', server.pid);
    await probe?.report('at rest');
    process.stderr.write(`  RSS at rest ${mib(idle.avg)} MiB (min ${mib(idle.min)}, max ${mib(idle.max)})\n`);
    const idleCpu = ((await cpuTicks(server.pid)) - ticksBefore) / (await clockTicksPerSecond()) / (elapsedMs(idleStart) / 1000) * 100;
    if (process.env.GROVE_BENCH_HEAP_SNAPSHOT) {
      // Diagnostics, as in fanout-bench.ts: a heap snapshot of the server at rest at full scale.
      process.kill(server.pid, 'SIGUSR2');
      await sleep(30_000);
    }
    const pause = Number(process.env.GROVE_BENCH_PAUSE_AT_REST ?? 0);
    if (pause > 0) {
      // Diagnostics: time to attach a profiler to the server at rest (e.g. kill -USR1 and the inspector).
      process.stderr.write(`  server pid ${server.pid} at rest for ${pause} s\n`);
      await sleep(pause * 1000);
    }

    // W watches from scratch (ADDED for every pod), then a full list, all while they stay open.
    const peak = await watchedPeak(api, server.pid, watches, pods, timeoutMs);
    await breakdown('after watches + list', server.pid);
    process.stderr.write(`  peak ${mib(peak.peakKiB)} MiB, ${mib(peak.afterKiB)} MiB after the list\n`);
    await probe?.report('after watches + list');

    // Latency, interleaved so that each round's three runs share the machine's conditions.
    const kubeconfig = await writeKubeconfig(home, dataDir);
    const kubectl = kubectlWith(home, kubeconfig, 120_000);
    const times = { node: [] as number[], kubectl: [] as number[], grove: [] as number[] };
    const runs: Record<keyof typeof times, () => Promise<number>> = {
      node: () => timed('node -e 0', nodeE0, () => undefined),
      kubectl: () => timed('kubectl get pods -A', () => kubectl('get', 'pods', '-A'), tableOf(pods)),
      grove: () => timed('grove get pods -A', () => runGrove(['--data-dir', dataDir, 'get', 'pods', '-A']), tableOf(pods)),
    };
    // One unmeasured round: kubectl's discovery cache, the server's JIT.
    for (const run of Object.values(runs)) await run();
    const order = Object.keys(runs) as (keyof typeof times)[];
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < order.length; k++) {
        const which = order[(r + k) % order.length]!;
        times[which].push(await runs[which]());
      }
    }
    const afterRss = (await memory(server.pid)).rssKiB;
    // Last, as it changes what it measures: the RSS a trim gives back.
    await probe?.report('after the latency rounds', true);

    const variantFigures: Figure[] = [];
    const names = Object.keys(options.variants ?? {});
    if (names.length > 0) {
      const seen: Record<string, { rest: number[]; peak: number[] }> = Object.fromEntries(names.map((n) => [n, { rest: [], peak: [] }]));
      for (let r = 0; r < (options.variantRounds ?? 2); r++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(r + k) % names.length]!;
          const variant = options.variants![name]!;
          await stopChild(server.child);
          server = undefined;
          server = await startServer(dataDir, { ...start, env: variant.env ?? {}, ...(variant.dist ? { bin: join(variant.dist, 'src', 'cli', 'grove.js') } : {}) });
          const pid = server.pid;
          await waitFor(async () => (await establishedTo(mqttPort)) >= nodes, timeoutMs, `${nodes} nodes reconnected to ${name}`, 1000);
          await waitFor(async () => (await podsNotRunning(api)) === 0, timeoutMs, `${pods} pods Running in the API (${name})`, 1000);
          await sleep(10_000);
          const rest = await sampleRss(pid, 6, 2000);
          await breakdown(`${name} round ${r + 1} at rest`, pid);
          const peak = await watchedPeak(api, pid, watches, pods, timeoutMs);
          await breakdown(`${name} round ${r + 1} after watches + list`, pid);
          seen[name]!.rest.push(mib(rest.avg));
          seen[name]!.peak.push(mib(peak.peakKiB));
          process.stderr.write(`  variant ${name} round ${r + 1}: at rest ${mib(rest.avg)} MiB, peak ${mib(peak.peakKiB)} MiB\n`);
        }
      }
      const avg = (v: number[]): number => Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 10) / 10;
      for (const name of names) {
        const v = options.variants![name]!;
        const what = `${v.dist ? `dist ${v.dist}` : 'this build'}, env ${JSON.stringify(v.env ?? {})}`;
        variantFigures.push(
          { bench: BENCH, metric: `variant ${name}: server RSS at rest after a restart`, value: avg(seen[name]!.rest), unit: 'MiB', note: `${what}; per round ${seen[name]!.rest.join(', ')}` },
          { bench: BENCH, metric: `variant ${name}: server peak RSS, ${watches} watches + a full list`, value: avg(seen[name]!.peak), unit: 'MiB', note: `per round ${seen[name]!.peak.join(', ')}` },
        );
      }
    }

    const bareMiB = { name: 'bare node -e', value: mib(bareRss) };
    const target = options.targetRssMiB;
    const budget = target !== undefined ? { target: `≤ ${target} MB` } : {};
    const p = (values: number[], q: number): number => Math.round(percentile(values, q));
    const nodeP50 = { name: 'node -e 0 p50', value: p(times.node, 50) };
    const nodeP95 = { name: 'node -e 0 p95', value: p(times.node, 95) };
    const scale = `${nodes} nodes, ${pods} pods`;
    return [
      { bench: BENCH, metric: `pods bound and Running (${scale})`, value: pods, unit: 'pods', note: `${podsPerNode} DaemonSets over ${Math.min(NAMESPACES, podsPerNode)} namespaces; all Running in the API ${rolloutS.toFixed(1)} s after the apply` },
      {
        bench: BENCH,
        metric: `server RSS at rest (${scale})`,
        value: mib(idle.avg),
        unit: 'MiB',
        baseline: bareMiB,
        ...budget,
        note: `avg of 6 samples 2 s apart (min ${mib(idle.min)}, max ${mib(idle.max)}); ${mib(emptyRss)} MiB before any node joined, ${mib(fleetRss.avg)} MiB with the fleet joined and no pods` + (target !== undefined ? missedNote(mib(idle.avg), target) : ''),
      },
      { bench: BENCH, metric: `server CPU at rest (${scale})`, value: Math.round(idleCpu), unit: '% of a core', note: 'over the 10 s of the RSS samples; 1,000 nodes report every 15 s' },
      {
        bench: BENCH,
        metric: `server peak RSS, ${watches} watches of all pods open + a full list`,
        value: mib(peak.peakKiB),
        unit: 'MiB',
        baseline: bareMiB,
        ...budget,
        note: `VmHWM from just before the watches; ${mib(peak.afterKiB)} MiB after the list; initial events of all ${watches} in ${Math.round(peak.watchMs)} ms, full list (${mib(peak.listBytes / 1024)} MiB of JSON) in ${Math.round(peak.listMs)} ms` + (target !== undefined ? missedNote(mib(peak.peakKiB), target) : ''),
      },
      { bench: BENCH, metric: `kubectl get pods -A p50 (${pods} pods)`, value: p(times.kubectl, 50), unit: 'ms', baseline: nodeP50, note: `${rounds} rounds interleaved with grove and node -e 0; kubectl pages 500 at a time (its default --chunk-size), as a Table` },
      { bench: BENCH, metric: `kubectl get pods -A p95 (${pods} pods)`, value: p(times.kubectl, 95), unit: 'ms', baseline: nodeP95 },
      { bench: BENCH, metric: `grove get pods -A p50 (${pods} pods)`, value: p(times.grove, 50), unit: 'ms', baseline: nodeP50, note: 'one list, the table made by the CLI' },
      { bench: BENCH, metric: `grove get pods -A p95 (${pods} pods)`, value: p(times.grove, 95), unit: 'ms', baseline: nodeP95, note: `server RSS after all rounds ${mib(afterRss)} MiB` },
      ...variantFigures,
    ];
  } finally {
    await cleanUp([
      ...workers.map((w) => () => w.stop()),
      async () => server && (await stopChild(server.child)),
      async () => bare.kill('SIGKILL'),
      () => rm(dataDir, { recursive: true, force: true }),
      () => rm(home, { recursive: true, force: true }),
    ]);
  }
}
