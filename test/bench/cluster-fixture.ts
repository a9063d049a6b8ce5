/**
 * Bench-only: a real `grove server` (and optionally a joined `grove agent`) as child processes
 * on loopback free ports, each in its own temp data dir, plus readers for the /proc figures
 * the cluster benches report. Everything started here is stopped by `stop()`; an exit hook
 * SIGKILLs whatever a crash left behind so that no server outlives the bench.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runGrove, spawnGrove } from '../support/grove-cli.js';
import { assignPodNetwork, teardownAgentNetwork } from '../support/pod-network.js';
import { freePort } from '../support/registry.js';

const exec = promisify(execFile);

export interface GroveNode {
  dataDir: string;
  child: ChildProcess;
  pid: number;
  /** Last lines of its stderr, for error messages. */
  log(): string;
}

export interface ServerNode extends GroveNode {
  apiUrl: string;
  token: string;
  /** A call to the /v1 API with the admin token; throws on HTTP >= 400. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  // Ctrl-C (or a timeout's SIGTERM) would otherwise end the bench without 'exit' handlers,
  // leaving servers running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

/** Spawns a grove role and resolves once its stderr says `ready` (or rejects with its log). */
async function spawnRole(args: string[], ready: string, env: NodeJS.ProcessEnv = {}, prefix: string[] = [], bin?: string): Promise<Omit<GroveNode, 'dataDir'>> {
  installExitHook();
  const child = spawnGrove(args, env, prefix, [], bin);
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  // Drained always: a full pipe would block the process being measured.
  const collect = (b: Buffer): void => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const log = (): string => output;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`grove ${args.join(' ')}: not ready after 30 s\n${output}`)), 30_000);
    const onData = (): void => {
      if (output.includes(ready)) done();
    };
    const onExit = (code: number | null): void => done(new Error(`grove ${args.join(' ')} exited with ${code}\n${output}`));
    function done(err?: Error): void {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  }).catch(async (err: unknown) => {
    await stopChild(child);
    throw err;
  });
  return { child, pid: child.pid!, log };
}

/** SIGTERM (the roles shut down in order on it), SIGKILL after 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Stops the role, then removes the containers it left behind (roles never stop containers on
 * shutdown, by design) and its data dir with them.
 */
export async function stopNode(node: { dataDir: string; child?: ChildProcess }): Promise<void> {
  if (node.child) await stopChild(node.child);
  const ids = (await runGrove(['--data-dir', node.dataDir, 'ctr', 'ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await runGrove(['--data-dir', node.dataDir, 'ctr', 'rm', '-f', ...ids]);
  // Its pod sandboxes (CNI network, namespaces), their run directory and its own bridge.
  await teardownAgentNetwork(node.dataDir);
  await rm(node.dataDir, { recursive: true, force: true });
}

/** Runs every cleanup step even when one fails, then reports the first failure. */
export async function cleanUp(steps: (() => Promise<unknown>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) await step().catch((err: unknown) => errors.push(err));
  if (errors.length) throw errors[0];
}

/** A fresh data dir whose node gets a pod bridge and subnet of its own (removed by stopNode). */
export async function makeDataDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `grove-bench-${label}-`));
  await assignPodNetwork(dir);
  return dir;
}

/** `grove server` on free loopback ports in `dataDir` (made by the caller, so it can seed it). */
export interface ServerStart {
  agent: boolean;
  nodeName: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Another build's grove.js (a bench comparing builds); this checkout's by default. */
  bin?: string;
  /** Listen address (default loopback; a veth's host end for an agent in a namespace). */
  host?: string;
  /** host:port; free ports on `host` by default (a restart passes the first start's, so nodes reconnect). */
  apiAddr?: string;
  mqttAddr?: string;
}

export async function startServer(dataDir: string, options: ServerStart): Promise<ServerNode> {
  const host = options.host ?? '127.0.0.1';
  const args = ['--data-dir', dataDir, 'server', '--api-addr', options.apiAddr ?? `${host}:${await freePort()}`, '--mqtt-addr', options.mqttAddr ?? `${host}:${await freePort()}`];
  if (!options.agent) args.push('--no-agent');
  args.push('--node-name', options.nodeName, ...(options.extraArgs ?? []));
  const role = await spawnRole(args, 'grove server ready', options.env, [], options.bin);
  try {
    const config = JSON.parse(await readFile(join(dataDir, 'client.json'), 'utf8')) as { apiUrl: string; token: string };
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(new URL(path, config.apiUrl), {
        method,
        headers: { authorization: `Bearer ${config.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return { ...role, dataDir, apiUrl: config.apiUrl, token: config.token, api };
  } catch (err) {
    await stopChild(role.child);
    throw err;
  }
}

export interface AgentStart {
  /** argv prefix, e.g. NetnsLink.netOnly: the agent in a network namespace of its own. */
  prefix?: string[];
  extraArgs?: string[];
  /** false: start again from the join saved in `dataDir` (no new token). */
  join?: boolean;
}

/** `grove agent` in `dataDir`, joined to `server` with a fresh token (unless options.join is false). */
export async function startAgent(server: ServerNode, dataDir: string, nodeName: string, options: AgentStart = {}): Promise<GroveNode> {
  const args = ['--data-dir', dataDir, 'agent', '--node-name', nodeName, ...(options.extraArgs ?? [])];
  if (options.join !== false) {
    const created = await runGrove(['--data-dir', server.dataDir, 'token', 'create', '--ttl', '1h']);
    if (created.code !== 0) throw new Error(`grove token create: ${created.stderr.trim()}`);
    args.push('--server', server.apiUrl, '--token', created.stdout.trim());
  }
  const role = await spawnRole(args, 'grove agent running', {}, options.prefix);
  return { ...role, dataDir };
}

/** A bare Node process started the same way as the roles: what any Node daemon costs at rest. */
export function spawnBareNode(): ChildProcess {
  installExitHook();
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---- /proc readers ----

export interface ProcSample {
  rssKiB: number;
  rssAnonKiB: number;
  rssFileKiB: number;
  /** Shared pages divided among their sharers: the node binary counts once per host, not per process. */
  pssKiB: number;
}

export async function memory(pid: number): Promise<ProcSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: field(status, 'VmRSS'), rssAnonKiB: field(status, 'RssAnon'), rssFileKiB: field(status, 'RssFile'), pssKiB: field(rollup, 'Pss') };
}

/** VmHWM: the peak resident set since the process started (or since resetPeakRss), in KiB. */
export async function peakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
}

/** Starts VmHWM again from the current RSS (proc(5), clear_refs "5"), so a phase gets its own peak. */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** utime + stime in clock ticks (fields 14 and 15; the command name may contain spaces). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export interface IoCounters {
  /** Bytes passed to write-like syscalls, sockets and pipes included. */
  wchar: number;
  /** Bytes this process caused to be sent to the storage layer (dirtied page cache counts). */
  writeBytes: number;
  cancelledWriteBytes: number;
}

export async function io(pid: number): Promise<IoCounters> {
  const text = await readFile(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { wchar: field('wchar'), writeBytes: field('write_bytes'), cancelledWriteBytes: field('cancelled_write_bytes') };
}

export async function clockTicksPerSecond(): Promise<number> {
  const out = await exec('getconf', ['CLK_TCK']).catch(() => ({ stdout: '100' }));
  return Number(out.stdout.trim()) || 100;
}

/** write_bytes only sees storage with a block layer behind it: tmpfs writes never show. */
export async function onTmpfs(dir: string): Promise<boolean> {
  const TMPFS_MAGIC = 0x01021994;
  return (await statfs(dir)).type === TMPFS_MAGIC;
}

/** Apparent size of every regular file under `dir`, not following symlinks. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await lstat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
