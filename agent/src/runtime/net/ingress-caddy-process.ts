/**
 * Debian's Caddy as a child of the agent, on ingress nodes (docs/networking.md "Ingress"): started
 * with a bootstrap config that only opens its admin API on a unix socket in the agent's run
 * directory (tmpfs: nothing reaches flash), configured through POST /load, restarted with a
 * backoff when it dies (the consumer then loads the last config again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Clock } from '../../../../src/core/clock.js';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';

export interface CaddyControl {
  /** Starts Caddy unless it runs; resolves when its admin API answers. */
  ensureRunning(): Promise<void>;
  /** Replaces Caddy's whole config (POST /load). */
  load(configJson: string): Promise<void>;
  stop(): Promise<void>;
  /** Called after Caddy was restarted, so the last config is loaded again. */
  onRestart(fn: () => void): void;
}

/** The run directory of a node's Caddy: tmpfs under /run/grove, one per agent data dir (its tag). */
export function ingressRunDir(tag: string, root = '/run/grove'): string {
  return join(root, `ingress-${tag}`);
}

export interface CaddyProcessOptions {
  /** Where the admin socket and Caddy's own state live: a tmpfs directory (e.g. /run/grove/<tag>/ingress). */
  runDir: string;
  clock: Clock;
  logger: Logger;
  binary?: string;
  /** First restart delay; doubles up to 30 s while Caddy keeps dying. */
  restartMs?: number;
}

const MAX_BODY = 8 * 1024 * 1024;

export class CaddyProcess implements CaddyControl {
  private child: ChildProcess | undefined;
  private stopping = false;
  private delay: number;
  private restartListeners: (() => void)[] = [];

  constructor(private readonly o: CaddyProcessOptions) {
    this.delay = o.restartMs ?? 1000;
  }

  get socketPath(): string {
    return join(this.o.runDir, 'admin.sock');
  }

  /** The admin endpoint as Caddy's config names it (the config builder writes it too). */
  get adminListen(): string {
    return `unix/${this.socketPath}`;
  }

  onRestart(fn: () => void): void {
    this.restartListeners.push(fn);
  }

  async ensureRunning(): Promise<void> {
    if (this.child) return;
    this.stopping = false;
    await mkdir(this.o.runDir, { recursive: true, mode: 0o700 });
    await rm(this.socketPath, { force: true });
    const bootstrap = join(this.o.runDir, 'bootstrap.json');
    await writeFile(bootstrap, JSON.stringify({ admin: { listen: this.adminListen, origins: ['localhost'], config: { persist: false } } }));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.o.runDir, XDG_DATA_HOME: this.o.runDir, XDG_CONFIG_HOME: this.o.runDir };
    const child = spawn(this.o.binary ?? 'caddy', ['run', '--config', bootstrap], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child.on('error', (err) => {
      // Not installed (ENOENT): no 'exit' follows; forget the child so the next view tries again.
      if (this.child === child) this.child = undefined;
      this.o.logger.warn?.(`ingress: caddy could not start: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      this.o.logger.warn?.(`ingress: caddy exited (${signal ?? code}); restarting in ${this.delay} ms: ${stderr.trim().split('\n').pop() ?? ''}`);
      const wait = this.delay;
      this.delay = Math.min(30_000, this.delay * 2);
      this.o.clock.setTimeout(() => {
        if (this.stopping) return;
        void this.ensureRunning().then(() => this.restartListeners.forEach((fn) => fn()), (err) => this.o.logger.warn?.(`ingress: caddy restart failed: ${(err as Error).message}`));
      }, wait);
    });
    await this.waitForAdmin();
    this.delay = this.o.restartMs ?? 1000;
  }

  private async waitForAdmin(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (!this.child) break;
      if (await this.admin('GET', '/config/').then(() => true, () => false)) return;
      await new Promise<void>((r) => this.o.clock.setTimeout(r, 50));
    }
    throw new GroveError(ErrorCode.NetworkNotReady, `caddy's admin API did not answer on ${this.socketPath}`);
  }

  async load(configJson: string): Promise<void> {
    await this.admin('POST', '/load', configJson);
  }

  private admin(method: string, path: string, body?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path, headers: { 'content-type': 'application/json', host: 'localhost' }, timeout: 10_000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { if (text.length < MAX_BODY) text += d.toString(); });
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(text) : reject(new GroveError(ErrorCode.NetworkNotReady, `caddy ${method} ${path}: ${res.statusCode} ${text.slice(0, 500)}`))));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await rm(this.o.runDir, { recursive: true, force: true });
  }
}
