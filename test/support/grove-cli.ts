import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/cli/package-root.js';
import { clusterDnsEnv } from './cluster-dns-address.js';

/** Drives the built `grove` executable as a real process, the way a user would. */
// Found by walking up to package.json, so this works from test/ and from dist/test/ alike.
export const REPO_ROOT = packageRoot();
export const GROVE_BIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'grove.js');
/** The network probe runs this built script under nsenter (the sources under test are TypeScript). */
export const PROBE_SCRIPT = join(REPO_ROOT, 'dist', 'agent', 'src', 'agent', 'probe-net-main.js');

export interface GroveResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(GROVE_BIN)) throw new Error(`${GROVE_BIN} is missing: run npm run build first`);
}

/**
 * `prefix` wraps the command, e.g. `['nsenter', '--net=/run/netns/NS', '--']` (it execs: same
 * pid); `nodeArgs` go to node itself, e.g. `['--import', FIXTURE]`.
 */
export function spawnGrove(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = [], extraNodeArgs: string[] = [], bin = GROVE_BIN): ChildProcess {
  assertBuilt();
  // GROVE_TEST_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): profile spawned roles.
  const nodeArgs = [...(process.env.GROVE_TEST_NODE_ARGS ?? '').split(' ').filter(Boolean), ...extraNodeArgs];
  const argv = [...prefix, process.execPath, ...nodeArgs, bin, ...args];
  return spawn(argv[0]!, argv.slice(1), {
    // Each agent (and server with its local agent) its own cluster DNS address: tests share one host.
    // Servers default to the flannel backend `none`: each test agent then keeps the unique pod
    // subnet of its config.json (pod-network.ts) instead of 10.42.<n>.0/24 from a cluster CIDR
    // every test server would share on this one host. Tests of the pod network set their own;
    // GROVE_TEST_FLANNEL_BACKEND=vxlan runs a test file on Grove's default path (one at a time).
    env: { ...process.env, GROVE_LOG_LEVEL: 'warn', GROVE_FLANNEL_BACKEND: process.env.GROVE_TEST_FLANNEL_BACKEND ?? 'none', ...clusterDnsEnv(args), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runGrove(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<GroveResult> {
  const child = spawnGrove(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`grove ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Removes every container of a `grove ctr` data dir (running ones too), then the dir itself. */
export async function removeCtrDataDir(dataDir: string | undefined): Promise<void> {
  if (!dataDir) return;
  const ctr = (args: string[]) => runGrove(['--data-dir', dataDir, 'ctr', ...args]);
  const ids = (await ctr(['ps', '-a', '-q']).catch(() => undefined))?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await ctr(['rm', '-f', ...ids]);
  await rm(dataDir, { recursive: true, force: true });
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
