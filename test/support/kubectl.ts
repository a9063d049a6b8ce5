/**
 * The real kubectl against a test `grove server --tls`: a kubeconfig holding the server's URL,
 * cluster CA and admin token (from the client.json `grove server` writes in its data dir; kubectl
 * sends a bearer token over HTTPS only), and a runner that gives kubectl its own HOME (its
 * discovery and HTTP caches, nothing of the host's) and never throws, so tests assert on exit
 * code, stdout and stderr.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (...args: string[]) => Promise<KubectlResult>;

/** Writes `<dir>/kubeconfig` for the server whose data dir is `dataDir`; returns its path. */
export async function writeKubeconfig(dir: string, dataDir: string, namespace?: string): Promise<string> {
  const client = JSON.parse(await readFile(join(dataDir, 'client.json'), 'utf8')) as { apiUrl: string; token: string; caCert: string };
  const path = join(dir, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: grove, cluster: {server: "${client.apiUrl}", certificate-authority-data: ${Buffer.from(client.caCert).toString('base64')}}}]`,
      `users: [{name: admin, user: {token: "${client.token}"}}]`,
      `contexts: [{name: grove, context: {cluster: grove, user: admin${namespace ? `, namespace: ${namespace}` : ''}}}]`,
      'current-context: grove',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

/** Runs kubectl with `kubeconfig` (HOME in `home`); never throws for a non-zero exit. */
export async function runKubectl(kubeconfig: string, home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<KubectlResult> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig, ...env }, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** kubectl bound to one kubeconfig and HOME. */
export function kubectlWith(home: string, kubeconfig: string, timeoutMs = 60_000): Kubectl {
  return (...args) => runKubectl(kubeconfig, home, args, {}, timeoutMs);
}

/** A kubectl left running (`get -w`, `logs -f`, `port-forward`), its output collected as it comes. */
export interface KubectlProcess {
  proc: ChildProcess;
  out(): string;
  err(): string;
  /** Its exit code once it has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Ctrl-C (SIGINT), then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts kubectl with `kubeconfig` (HOME in `home`) and returns at once. */
export function startKubectl(kubeconfig: string, home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): KubectlProcess {
  const proc = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    proc,
    out: () => out,
    err: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      await exited;
    },
  };
}
