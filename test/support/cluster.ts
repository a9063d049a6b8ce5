import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, runGrove, spawnGrove, type GroveResult } from './grove-cli.js';
import { freePort } from './registry.js';
import { assignPodNetwork, teardownAgentNetwork } from './pod-network.js';
import { nodeReady, podJson, type NodeObject, type PodObject } from './pod-json.js';

/**
 * Real `grove server` and `grove agent` processes on loopback ports, each with its own data dir,
 * for end-to-end tests. Everything started here is stopped and removed by `destroy()`.
 */
export interface ServerOptions {
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where the API and the embedded broker listen (default 127.0.0.1; 0.0.0.0 for agents in a netns). */
  bindHost?: string;
  /**
   * Runs the server's own local agent (default: `--no-agent`). Its node gets a pod bridge and
   * subnet of its own, and destroy() removes its containers and what it programmed on the host.
   */
  localAgent?: boolean;
}

/** The part of `grove ctr inspect` the tests read. */
export interface CtrInspect {
  id: string;
  name: string;
  state: string;
  startedAt: string | null;
  pid: number | null;
  shimPid: number | null;
  cgroupsPath: string;
  labels: Record<string, string>;
}

export interface AgentOptions {
  /** Passed as --token (visible in ps; the agent warns). */
  token?: string;
  /** Passed as --token-file FILE instead. */
  tokenFile?: string;
  /** Passed in $GROVE_TOKEN instead. */
  tokenEnv?: string;
  labels?: string[];
  /** Joins through this API URL instead of the loopback one (an agent in a network namespace). */
  serverUrl?: string;
  /** argv prefix, e.g. NetnsLink.netOnly to run the agent in a network namespace. */
  prefix?: string[];
  /** Replaces TEST_ENV (which shortens the heartbeat to 1 s) for this agent. */
  env?: NodeJS.ProcessEnv;
}

export interface PodJson {
  name: string;
  app: string;
  /** Absent while the pod is Pending with no node (`unschedulable` says why). */
  node?: string;
  unschedulable?: string;
  phase: string;
  ready: boolean;
  restarts: number;
  templateHash: string;
  containers: PodContainerJson[];
  /** The init containers' statuses, in order (absent when the pod has none). */
  initContainers?: PodContainerJson[];
}

/** One container of a PodJson: waiting (reason, message), running, or exited (exitCode, reason). */
export interface PodContainerJson {
  name: string;
  state: string;
  exitCode?: number;
  oomKilled: boolean;
  reason?: string;
  message?: string;
}

/** A sleeper that exits on SIGTERM, so removals don't wait out the 30 s grace period. */
export const TERM_AWARE = `["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]`;

export const TEST_ENV = { GROVE_HEARTBEAT: '1s' };

export class TestCluster {
  readonly serverDir: string;
  apiPort = 0;
  mqttPort = 0;
  server?: ChildProcess;
  serverLog = '';
  readonly agents = new Map<string, { dir: string; proc?: ChildProcess; log: string }>();
  private readonly dirs: string[] = [];

  private constructor(serverDir: string, private readonly options: ServerOptions) {
    this.serverDir = serverDir;
    this.dirs.push(serverDir);
  }

  static async create(options: ServerOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await mkdtemp(join(tmpdir(), 'grove-cluster-')), options);
    cluster.apiPort = await freePort();
    cluster.mqttPort = await freePort();
    return cluster;
  }

  get apiUrl(): string {
    const scheme = this.options.extraArgs?.includes('--tls') ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${this.apiPort}`;
  }

  /** Starts (or restarts) the server and waits until it is ready; `onSpawn` runs in between. */
  async startServer(onSpawn?: () => Promise<void>): Promise<void> {
    this.serverLog = '';
    const bind = this.options.bindHost ?? '127.0.0.1';
    if (this.options.localAgent) await assignPodNetwork(this.serverDir);
    const agentArgs = this.options.localAgent ? [] : ['--no-agent'];
    const args = ['--data-dir', this.serverDir, 'server', '--api-addr', `${bind}:${this.apiPort}`, '--mqtt-addr', `${bind}:${this.mqttPort}`, ...agentArgs, ...(this.options.extraArgs ?? [])];
    this.server = spawnGrove(args, { ...TEST_ENV, ...this.options.env });
    this.server.stderr!.on('data', (d: Buffer) => (this.serverLog += d.toString()));
    this.server.stdout!.on('data', (d: Buffer) => (this.serverLog += d.toString()));
    await onSpawn?.();
    await eventually(async () => this.serverLog.includes('grove server ready') || (this.server!.exitCode !== null && this.fail('server exited')), 30_000, 'server ready');
  }

  private fail(what: string): never {
    throw new Error(`${what}:\n${this.serverLog.slice(-3000)}`);
  }

  killServer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return killAndWait(this.server, signal);
  }

  /** `grove <args>` as a client of this cluster (client.json in the server's data dir). */
  grove(args: string[]): Promise<GroveResult> {
    return runGrove(['--data-dir', this.serverDir, ...args]);
  }

  async token(ttl = '1h'): Promise<string> {
    const r = await this.grove(['token', 'create', '--ttl', ttl]);
    if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** The agent's data dir, made before its first start (e.g. to store images in it first). */
  async createAgentDir(name: string): Promise<string> {
    let entry = this.agents.get(name);
    if (!entry) {
      entry = { dir: await mkdtemp(join(tmpdir(), `grove-agent-${name}-`)), log: '' };
      this.dirs.push(entry.dir);
      // A bridge and pod subnet per agent: tests run side by side on one host.
      await assignPodNetwork(entry.dir);
      this.agents.set(name, entry);
    }
    return entry.dir;
  }

  agentDir(name: string): string {
    const a = this.agents.get(name);
    if (!a) throw new Error(`no agent ${name}`);
    return a.dir;
  }

  /** Starts an agent; with a token it joins first, without one it uses its stored join. */
  async startAgent(name: string, options: AgentOptions = {}): Promise<void> {
    await this.createAgentDir(name);
    const entry = this.agents.get(name)!;
    const args = ['--data-dir', entry.dir, 'agent', '--node-name', name];
    if (options.token || options.tokenFile || options.tokenEnv) args.push('--server', options.serverUrl ?? this.apiUrl);
    if (options.token) args.push('--token', options.token);
    if (options.tokenFile) args.push('--token-file', options.tokenFile);
    for (const label of options.labels ?? []) args.push('--label', label);
    entry.log = '';
    const env = options.env ?? { ...TEST_ENV, ...this.options.env };
    const proc = spawnGrove(args, options.tokenEnv ? { ...env, GROVE_TOKEN: options.tokenEnv } : env, options.prefix);
    entry.proc = proc;
    const e = entry;
    proc.stderr!.on('data', (d: Buffer) => (e.log += d.toString()));
    await eventually(async () => e.log.includes('grove agent running') || (proc.exitCode !== null && this.failAgent(name, e.log)), 60_000, `agent ${name} running`);
  }

  private failAgent(name: string, log: string): never {
    throw new Error(`agent ${name} exited:\n${log.slice(-3000)}`);
  }

  killAgent(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return killAndWait(this.agents.get(name)?.proc, signal);
  }

  /** GET on the API with the client token: cheaper than a `grove` process when polling every second. */
  async apiGet<T>(path: string): Promise<T> {
    const { token } = JSON.parse(await readFile(join(this.serverDir, 'client.json'), 'utf8')) as { token: string };
    const res = await fetch(`${this.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async json<T>(args: string[]): Promise<T> {
    const r = await this.grove([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`grove ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Every pod of namespace `default` (or of the workload `app`), through `grove get pods -o json`. */
  async pods(app?: string): Promise<PodJson[]> {
    const { items } = await this.json<{ items: PodObject[] }>(['get', 'pods']);
    return items.map(podJson).filter((p) => app === undefined || p.app === app);
  }

  /** Waits until `app` has exactly `count` pods, all Running and ready. */
  async waitForRunning(app: string, count: number, timeoutMs = 60_000): Promise<PodJson[]> {
    let last: PodJson[] = [];
    try {
      return await eventually(async () => {
        last = await this.pods(app);
        return last.length === count && last.every((p) => p.phase === 'Running' && p.ready) ? last : undefined;
      }, timeoutMs, `${count} running pods of ${app}`);
    } catch (err) {
      // Say what the server showed last: which pods lag, and on which nodes.
      const lagging = last.filter((p) => p.phase !== 'Running' || !p.ready);
      const shown = lagging.slice(0, 10).map((p) => `${p.name}@${p.node ?? '-'} ${p.phase}${p.ready ? '' : ' not-ready'} ${p.templateHash}`);
      throw new Error(`${(err as Error).message}; last seen ${last.length} pods, ${lagging.length} not running and ready: ${shown.join(', ')}`, { cause: err });
    }
  }

  /** Node name → Ready, through `grove get nodes -o json`. */
  async nodesReady(): Promise<Map<string, boolean>> {
    const { items } = await this.json<{ items: NodeObject[] }>(['get', 'nodes']);
    return new Map(items.map((n) => [n.metadata.name, nodeReady(n)]));
  }

  async waitForNodesReady(names: string[], timeoutMs = 60_000): Promise<void> {
    await eventually(async () => {
      const ready = await this.nodesReady();
      return names.every((n) => ready.get(n) === true);
    }, timeoutMs, `nodes ${names.join(', ')} Ready`);
  }

  /** Running containers on an agent's node, straight from its runtime (`grove ctr`). */
  async containers(name: string): Promise<CtrInspect[]> {
    return containersIn(this.agentDir(name));
  }

  async runningContainers(name: string): Promise<CtrInspect[]> {
    return (await this.containers(name)).filter((c) => c.state === 'running');
  }

  async joinConfig(name: string): Promise<{ mqtt: { url: string; username: string; password: string } }> {
    return JSON.parse(await readFile(join(this.agentDir(name), 'agent', 'join.json'), 'utf8')) as { mqtt: { url: string; username: string; password: string } };
  }

  /** Stops every process, removes every container the agents ran, and deletes the data dirs. */
  async destroy(): Promise<void> {
    await killAndWait(this.server, 'SIGKILL');
    if (this.options.localAgent) await removeNodeLeftovers(this.serverDir);
    for (const agent of this.agents.values()) {
      await killAndWait(agent.proc, 'SIGKILL');
      await removeNodeLeftovers(agent.dir);
    }
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** What a killed agent (or server with its local agent) of `dir` leaves: containers, network, mounts. */
export async function removeNodeLeftovers(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const ids = (await runGrove(['--data-dir', dir, 'ctr', 'ps', '-a', '-q']).catch(() => undefined))?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await runGrove(['--data-dir', dir, 'ctr', 'rm', '-f', ...ids]).catch(() => undefined);
  await teardownAgentNetwork(dir).catch(() => undefined);
  // tmpfs volumes (Secret files, Memory emptyDirs) of pods the killed agent still ran.
  await unmountUnder(dir);
}

/** Containers of a node's data dir, straight from its runtime (`grove ctr`): no server needed. */
export async function containersIn(dir: string): Promise<CtrInspect[]> {
  const ids = (await runGrove(['--data-dir', dir, 'ctr', 'ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  // One inspect per id: a container removed between `ps` and `inspect` is simply skipped.
  const found = [];
  for (const id of ids) {
    const r = await runGrove(['--data-dir', dir, 'ctr', 'inspect', id]);
    if (r.code === 0) found.push(JSON.parse(r.stdout) as CtrInspect);
  }
  return found;
}

/** Lazily unmounts every mount point under `dir`, deepest first (best effort). */
export async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await promisify(execFile)('umount', ['-l', p]).catch(() => undefined);
}

export async function killAndWait(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  await exited;
}

/** A manifest fixture with REGISTRY replaced by the test registry's host. */
export async function manifestFixture(name: string, registryHost: string, replace: Record<string, string> = {}): Promise<string> {
  let text = (await readFile(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8')).replaceAll('REGISTRY', registryHost);
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  return text;
}
