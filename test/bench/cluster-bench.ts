/**
 * Cluster figures: what a server and an agent cost while nothing happens (memory, CPU, storage
 * writes), and how long `apply` takes until the API shows the pod Running.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, writeOciLayoutArchive } from '../support/image-builder.js';
import {
  cleanUp,
  clockTicksPerSecond,
  cpuTicks,
  dirBytes,
  io,
  makeDataDir,
  memory,
  onTmpfs,
  spawnBareNode,
  startAgent,
  startServer,
  stopChild,
  stopNode,
  waitFor,
  type GroveNode,
  type IoCounters,
  type ProcSample,
  type ServerNode,
} from './cluster-fixture.js';
import { missedNote, percentile, type Figure } from './report.js';
import { bundleConfig, bundleSource, runcRunDetached } from './runc-bundle.js';
import { DEFAULT_MARK_INTERVAL_MS } from '../../src/store/revision-mark.js';

const exec = promisify(execFile);
const IMAGE = 'bench/busybox:1';
// /proc reports memory in KiB.
const KIB_PER_MIB = 1024;

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function waitNodesReady(server: ServerNode, names: string[]): Promise<void> {
  await waitFor(
    async () => {
      const { items } = await server.api<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>('GET', '/api/v1/nodes');
      const ready = (name: string) => items.some((node) => node.metadata.name === name && node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return names.every(ready);
    },
    30_000,
    `nodes ${names.join(', ')} Ready`,
  );
}

// ---- cluster-idle ----

interface Watched {
  label: string;
  pid: number;
  dataDir?: string;
}

interface IdleResult {
  rss: ProcSample[];
  cpuPercent: number;
  cpuTicks: number;
  /** Per hour, extrapolated from the window. */
  writeBytesPerHour: number;
  wcharPerHour: number;
  /** write_bytes from process start to the window: proof that the counter sees this storage. */
  writeBytesBefore: number;
  dataDirGrowth?: number;
}

/**
 * Samples RSS every 5 s and reads CPU ticks and I/O counters at both ends of the window, for
 * all processes at once so that they share the same (possibly noisy) machine conditions.
 */
async function watchIdle(procs: Watched[], windowSeconds: number, hz: number): Promise<Map<string, IdleResult>> {
  const gone = (p: Watched) => (err: unknown): never => {
    throw new Error(`${p.label} (pid ${p.pid}) exited during the idle window: ${(err as Error).message}`);
  };
  const read = async (p: Watched) =>
    ({ ticks: await cpuTicks(p.pid), io: await io(p.pid), dir: p.dataDir ? await dirBytes(p.dataDir) : undefined });
  const before = await Promise.all(procs.map((p) => read(p).catch(gone(p))));
  const start = process.hrtime.bigint();
  const rss = new Map<string, ProcSample[]>(procs.map((p) => [p.label, []]));
  for (let i = 0; (i * 5) < windowSeconds; i++) {
    await sleep(Math.max(0, i * 5000 - elapsedMs(start)));
    for (const p of procs) rss.get(p.label)!.push(await memory(p.pid).catch(gone(p)));
  }
  await sleep(Math.max(0, windowSeconds * 1000 - elapsedMs(start)));
  const after = await Promise.all(procs.map((p) => read(p).catch(gone(p))));
  const seconds = elapsedMs(start) / 1000;
  const perHour = (delta: number): number => (delta * 3600) / seconds;
  const out = new Map<string, IdleResult>();
  procs.forEach((p, i) => {
    const b = before[i]!;
    const a = after[i]!;
    const delta = (k: keyof IoCounters): number => a.io[k] - b.io[k];
    out.set(p.label, {
      rss: rss.get(p.label)!,
      cpuPercent: ((a.ticks - b.ticks) / (seconds * hz)) * 100,
      cpuTicks: a.ticks - b.ticks,
      writeBytesPerHour: perHour(delta('writeBytes')),
      wcharPerHour: perHour(delta('wchar')),
      writeBytesBefore: b.io.writeBytes,
      ...(a.dir !== undefined && b.dir !== undefined ? { dataDirGrowth: a.dir - b.dir } : {}),
    });
  });
  return out;
}

/** Server (with its local agent) and a second, joined agent, at rest, against a bare Node. */
export async function clusterIdleBench(options: { idleSeconds: number; settleSeconds?: number }): Promise<Figure[]> {
  const serverDir = await makeDataDir('idle-server');
  const agentDir = await makeDataDir('idle-agent');
  let server: ServerNode | undefined;
  let agent: GroveNode | undefined;
  let bare: ChildProcess | undefined;
  try {
    // Default heartbeats on purpose: a shortened one would inflate every idle figure.
    server = await startServer(serverDir, { agent: true, nodeName: 'bench-server' });
    agent = await startAgent(server, agentDir, 'bench-agent');
    bare = spawnBareNode();
    await waitNodesReady(server, ['bench-server', 'bench-agent']);
    // At rest means after the deferred write of the stores' revision marks too: each store
    // records its revision beside the database once, DEFAULT_MARK_INTERVAL_MS after the start-up
    // and join commits (src/store/revision-mark.ts), then writes nothing while nothing changes.
    await sleep((options.settleSeconds ?? 10 + DEFAULT_MARK_INTERVAL_MS / 1000) * 1000);
    const [srv, agt] = [server, agent];
    const hz = await clockTicksPerSecond();
    const r = await watchIdle(
      [
        { label: 'server', pid: srv.pid, dataDir: serverDir },
        { label: 'agent', pid: agt.pid, dataDir: agentDir },
        { label: 'bare', pid: bare.pid! },
      ],
      options.idleSeconds,
      hz,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nserver: ${srv.log()}\nagent: ${agt.log()}`);
    });
    const s = r.get('server')!;
    const a = r.get('agent')!;
    const b = r.get('bare')!;
    const window = `${options.idleSeconds} s window`;
    const avgMiB = (x: IdleResult, k: keyof ProcSample = 'rssKiB'): number => round(mean(x.rss.map((m) => m[k])) / KIB_PER_MIB);
    const extreme = (x: IdleResult, f: (...v: number[]) => number): number => round(f(...x.rss.map((m) => m.rssKiB)) / KIB_PER_MIB);
    const rssNote = (x: IdleResult): string =>
      `avg of ${x.rss.length} samples, 5 s apart (min ${extreme(x, Math.min)}, max ${extreme(x, Math.max)} MiB); ` +
      `anon ${avgMiB(x, 'rssAnonKiB')} MiB + file-backed ${avgMiB(x, 'rssFileKiB')} MiB (bare node: ${avgMiB(b, 'rssAnonKiB')} + ${avgMiB(b, 'rssFileKiB')}); ` +
      `PSS ${avgMiB(x, 'pssKiB')} MiB (bare node ${avgMiB(b, 'pssKiB')})`;
    const cpuNote = (x: IdleResult): string =>
      `${x.cpuTicks} ticks of utime+stime over the ${window} (one tick = ${round(100 / (hz * options.idleSeconds), 3)} %); heartbeat 15 s (default)`;
    const kib = (bytes: number): number => round(bytes / 1024);
    const tmpfs = await onTmpfs(serverDir);
    const writeNote = (x: IdleResult): string =>
      `wchar (all write syscalls, sockets included) ${kib(x.wcharPerHour)} KiB/hour (bare node ${kib(b.wcharPerHour)}); ` +
      `data dir size ${x.dataDirGrowth! >= 0 ? '+' : ''}${x.dataDirGrowth} bytes over the ${window}; write_bytes before the window (start-up, join) ${kib(x.writeBytesBefore)} KiB` +
      (tmpfs ? '; INVALID: the data dir is on tmpfs, which write_bytes cannot see' : '');
    const missed = missedNote;
    const bareRss = { name: 'bare node (setInterval)', value: avgMiB(b) };
    const bareCpu = { name: 'bare node (setInterval)', value: round(b.cpuPercent, 3) };
    const bareWrites = { name: 'bare node (setInterval)', value: kib(b.writeBytesPerHour) };
    return [
      { bench: 'cluster-idle', metric: 'server + local agent RSS, idle', value: avgMiB(s), unit: 'MiB', baseline: bareRss, target: '<= 80 MB', note: rssNote(s) + missed(avgMiB(s), 80) },
      { bench: 'cluster-idle', metric: 'agent RSS, idle', value: avgMiB(a), unit: 'MiB', baseline: bareRss, target: '<= 48 MB', note: rssNote(a) + missed(avgMiB(a), 48) },
      { bench: 'cluster-idle', metric: 'server + local agent CPU, idle', value: round(s.cpuPercent, 3), unit: '% of a core', baseline: bareCpu, note: cpuNote(s) },
      { bench: 'cluster-idle', metric: 'agent CPU, idle', value: round(a.cpuPercent, 3), unit: '% of a core', baseline: bareCpu, note: cpuNote(a) },
      { bench: 'cluster-idle', metric: 'server + local agent storage writes (write_bytes), idle', value: kib(s.writeBytesPerHour), unit: 'KiB/hour', baseline: bareWrites, target: '<= 100 KB/hour', note: writeNote(s) + missed(kib(s.writeBytesPerHour), 100) },
      { bench: 'cluster-idle', metric: 'agent storage writes (write_bytes), idle', value: kib(a.writeBytesPerHour), unit: 'KiB/hour', baseline: bareWrites, target: '<= 100 KB/hour', note: writeNote(a) + missed(kib(a.writeBytesPerHour), 100) },
    ];
  } finally {
    // The agent first, so that it does not spend the server's shutdown reconnecting.
    await cleanUp([
      async () => bare && stopChild(bare),
      () => stopNode(agent ?? { dataDir: agentDir }),
      () => stopNode(server ?? { dataDir: serverDir }),
    ]);
  }
}

// ---- apply-latency ----

/** A fresh app per iteration, so each one measures a start (not a rolling replacement). */
function deployment(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      # The bench measures starts; a grace period would only slow the cleanup between runs.
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: ${IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          resources:
            limits:
              memory: 32Mi
`;
}

/** The Pods of Deployment `app` (its template labels them app=<name>). */
async function podsOf(server: ServerNode, app: string): Promise<{ status?: { phase?: string } }[]> {
  return (await server.api<{ items: { status?: { phase?: string } }[] }>('GET', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(`app=${app}`)}`)).items;
}

/** Polls the API (not the CLI, whose start would dominate) every 20 ms until the pod runs. */
async function untilRunning(server: ServerNode, app: string, start: bigint): Promise<number> {
  for (;;) {
    const pods = await podsOf(server, app);
    if (pods.some((p) => p.status?.phase === 'Running')) return elapsedMs(start);
    if (elapsedMs(start) > 60_000) throw new Error(`${app} not Running after 60 s: ${JSON.stringify(pods)}\n${server.log()}`);
    await sleep(20);
  }
}

/** Deletes the app and waits until its container is gone from the node's data dir too. */
/**
 * Deletes an app and waits until the node is idle again: pod gone, containers gone, and the
 * pod's sandbox (network namespace, CNI rules) torn down, so the next apply is not measured
 * together with the previous pod's teardown.
 */
async function removeApp(server: ServerNode, app: string): Promise<void> {
  await server.api('DELETE', `/apis/apps/v1/namespaces/default/deployments/${app}`);
  const sandboxes = join(server.dataDir, 'agent', 'sandboxes');
  await waitFor(
    async () =>
      (await podsOf(server, app)).length === 0 &&
      (await readdir(join(server.dataDir, 'containers'))).length === 0 &&
      (await readdir(sandboxes).catch(() => [])).length === 0,
    30_000,
    `${app} and its container to be gone`,
    20,
  );
}

/**
 * The baseline: `runc run -d` of a bundle with the config and rootfs of the container Grove
 * started for `app` (while it still runs: its config may refer to its files).
 */
async function runcBaseline(dataDir: string, workDir: string, runs: number): Promise<number[]> {
  const [id] = await readdir(join(dataDir, 'containers'));
  if (!id) throw new Error('no grove container to copy the bundle from');
  const config = bundleSource(await readFile(join(dataDir, 'containers', id, 'config.json'), 'utf8'));
  const bundle = join(workDir, 'bundle');
  const root = join(workDir, 'runc');
  await mkdir(bundle, { recursive: true });
  await cp(config.root.path, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cid = `grove-bench-apply-${process.pid}-${i}`;
    await writeFile(join(bundle, 'config.json'), bundleConfig(config, `/grove-bench/${cid}`));
    const start = process.hrtime.bigint();
    try {
      await runcRunDetached(root, bundle, cid);
      times.push(elapsedMs(start));
    } finally {
      await exec('runc', ['--root', root, 'delete', '-f', cid]).catch(() => undefined);
    }
  }
  return times;
}

/** apply → pod Running as the API reports it, over HTTP and through the CLI, against runc. */
export async function applyLatencyBench(options: { applies: number }): Promise<Figure[]> {
  const dataDir = await makeDataDir('apply');
  const workDir = await mkdtemp(join(tmpdir(), 'grove-bench-apply-work-'));
  let server: ServerNode | undefined;
  try {
    const archive = join(workDir, 'image.tar');
    await writeOciLayoutArchive(archive, await buildBusyboxImage(), IMAGE);
    // Into the server's own data dir before it starts: the local agent runs from that store.
    const imported = await runGrove(['--data-dir', dataDir, 'ctr', 'import', archive]);
    if (imported.code !== 0) throw new Error(`grove ctr import: ${imported.stderr.trim()}`);
    server = await startServer(dataDir, { agent: true, nodeName: 'bench-server' });
    await waitNodesReady(server, ['bench-server']);
    const resources = (name: string) => manifestsToObjects([{ path: `${name}.yaml`, text: deployment(name) }]).objects;

    // Warm-up (first snapshot of the image, first container, JIT), then the runc baseline
    // from its bundle.
    const warmStart = process.hrtime.bigint();
    await server.api('POST', '/v1/apply', { objects: resources('lat-warm') });
    const warm = await untilRunning(server, 'lat-warm', warmStart);
    const runc = await runcBaseline(dataDir, workDir, options.applies);
    await removeApp(server, 'lat-warm');

    const http: number[] = [];
    const post: number[] = [];
    const viaCli: number[] = [];
    const cliExit: number[] = [];
    for (let i = 0; i < options.applies; i++) {
      // Parsing happens before the clock starts: this series is about server and agent.
      const name = `lat-h-${i}`;
      const body = { objects: resources(name) };
      const start = process.hrtime.bigint();
      await server.api('POST', '/v1/apply', body);
      post.push(elapsedMs(start));
      http.push(await untilRunning(server, name, start));
      await removeApp(server, name);

      const cliName = `lat-c-${i}`;
      const file = join(workDir, `${cliName}.yaml`);
      await writeFile(file, deployment(cliName));
      const cliStart = process.hrtime.bigint();
      const cli = runGrove(['--data-dir', dataDir, 'apply', '-f', file]).then((r) => {
        cliExit.push(elapsedMs(cliStart));
        if (r.code !== 0) throw new Error(`grove apply: ${r.stderr.trim()}`);
      });
      // Poll while the CLI runs; a failed apply surfaces from `cli` below.
      const running = untilRunning(server, cliName, cliStart);
      running.catch(() => undefined);
      await cli;
      viaCli.push(await running);
      await removeApp(server, cliName);
    }
    // How much of the CLI's round trip is just starting Node and the CLI.
    const version: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      await runGrove(['--version']);
      version.push(elapsedMs(start));
    }
    const p = (values: number[], q: number): number => Math.round(percentile(values, q));
    const target = 200;
    const note =
      `via \`grove apply\` CLI: p50 ${p(viaCli, 50)} ms, p99 ${p(viaCli, 99)} ms to Running; the CLI itself returns after p50 ${p(cliExit, 50)} ms ` +
      `(grove --version alone p50 ${p(version, 50)} ms); POST /v1/apply alone p50 ${p(post, 50)} ms; warm-up run ${Math.round(warm)} ms; polled every 20 ms`;
    return [
      {
        bench: 'apply-latency',
        metric: `POST /v1/apply → pod Running, p50 (${options.applies} apps)`,
        value: p(http, 50),
        unit: 'ms',
        baseline: { name: 'runc run -d', value: p(runc, 50) },
        target: `p50 <= ${target} ms`,
        note: note + (p(http, 50) > target ? ` — MISSED: p50 ${p(http, 50)} > ${target} ms` : ''),
      },
      {
        bench: 'apply-latency',
        metric: `POST /v1/apply → pod Running, p99 (${options.applies} apps)`,
        value: p(http, 99),
        unit: 'ms',
        baseline: { name: 'runc run -d', value: p(runc, 99) },
        note: `p90 ${p(http, 90)} vs ${p(runc, 90)} ms${options.applies <= 100 ? `; with ${options.applies} samples p99 is the slowest run` : ''}`,
      },
    ];
  } finally {
    await cleanUp([() => stopNode(server ?? { dataDir }), () => rm(workDir, { recursive: true, force: true })]);
  }
}
