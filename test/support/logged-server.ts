/**
 * A `grove server` process (no local agent) whose stderr goes to a log file, as the quickstart
 * runs it (`>>/var/log/grove-server.log 2>&1`): for tests where the log file's filesystem fills
 * up with the data dir's. Talks to the API with the admin token from client.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertBuilt, eventually, GROVE_BIN } from './grove-cli.js';
import { killAndWait } from './cluster.js';
import { freePort } from './registry.js';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  /** `error` on Grove's own routes; a Kubernetes Status (`message`, `reason`) on /v1/apply and the Kubernetes paths. */
  body: T & { error?: { code: string; message: string }; message?: string; reason?: string };
}

export class LoggedServer {
  proc: ChildProcess | undefined;
  private logStart = 0;

  private constructor(
    readonly dataDir: string,
    readonly logFile: string,
    readonly apiPort: number,
    readonly mqttPort: number,
  ) {}

  static async create(dataDir: string, logFile: string): Promise<LoggedServer> {
    return new LoggedServer(dataDir, logFile, await freePort(), await freePort());
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** This run's part of the log file. */
  async log(): Promise<string> {
    return (await readFile(this.logFile, 'utf8').catch(() => '')).slice(this.logStart);
  }

  /** Starts the server; resolves when it is ready, rejects with its log when it exits instead. */
  async start(env: NodeJS.ProcessEnv = {}): Promise<void> {
    assertBuilt();
    const fd = openSync(this.logFile, 'a');
    this.logStart = statSync(this.logFile).size;
    const args = [GROVE_BIN, '--data-dir', this.dataDir, 'server', '--api-addr', `127.0.0.1:${this.apiPort}`, '--mqtt-addr', `127.0.0.1:${this.mqttPort}`, '--no-agent'];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env: { ...process.env, GROVE_LOG_LEVEL: 'info', ...env } });
    closeSync(fd);
    this.proc = proc;
    await eventually(
      async () => {
        if ((await this.log()).includes('grove server ready')) return true;
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${(await this.log()).slice(-3000)}`);
        return false;
      },
      30_000,
      'server ready',
    );
  }

  /** Waits for the process to exit by itself; its exit code. */
  async exited(timeoutMs = 30_000): Promise<number> {
    const proc = this.proc!;
    return eventually(async () => (proc.exitCode !== null ? { code: proc.exitCode } : undefined), timeoutMs, 'server exit').then((r) => r.code);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return killAndWait(this.proc, signal);
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const { token } = JSON.parse(await readFile(join(this.dataDir, 'client.json'), 'utf8')) as { token: string };
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: (await res.json()) as ApiAnswer<T>['body'] };
  }

  /** Applies a ConfigMap in namespace default; the revision is its resourceVersion as stored by this apply. */
  async applyConfigMap(name: string, data: Record<string, string>): Promise<ApiAnswer<{ revision: number }>> {
    const applied = await this.call<{ revision: number }>('POST', '/v1/apply', { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }] });
    if (applied.status !== 200) return applied;
    const stored = await this.call<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/default/configmaps/${name}`);
    return { status: applied.status, body: { ...applied.body, revision: Number(stored.body.metadata.resourceVersion) } };
  }
}
