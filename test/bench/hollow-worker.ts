/**
 * One hollow-node process (agent/src/hollow/hollow-main.ts) driven over its IPC channel: the
 * fleet benches start one per few thousand nodes and ask each to join, to wait for an app, to stop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { JoinOutcome } from '../../agent/src/hollow/hollow-fleet.js';
import { REPO_ROOT } from '../support/grove-cli.js';

export type { JoinOutcome };

const HOLLOW_MAIN = join(REPO_ROOT, 'dist', 'agent', 'src', 'hollow', 'hollow-main.js');

/** The answer to a `wait`: the one template hash every node runs the app at, or why not. */
export interface Converged {
  hash?: string;
  error?: string;
  /** When each node first reported the app Running (Date.now() in the hollow process). */
  times: number[];
  missing: number;
  rssBytes: number;
}

export class HollowWorker {
  private log = '';
  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (b: Buffer) => (this.log = (this.log + b.toString()).slice(-4000)));
  }

  static async start(config: Record<string, unknown>): Promise<HollowWorker> {
    const child = fork(HOLLOW_MAIN, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const worker = new HollowWorker(child);
    await worker.request({ type: 'start', config }, 'ready', 30_000);
    return worker;
  }

  /** Every node of this process joins (and starts its agent). */
  join(timeoutMs: number): Promise<JoinOutcome[]> {
    return this.request<{ outcomes: JoinOutcome[] }>({ type: 'join' }, 'joined', timeoutMs).then((r) => r.outcomes);
  }

  /** Waits until every node runs `app` at a template other than `notHash` (a timeout is an answer too). */
  waitForApp(app: string, timeoutMs: number, notHash?: string): Promise<Converged> {
    return this.request<Converged>({ type: 'wait', app, ...(notHash ? { notHash } : {}), timeoutMs }, 'converged', timeoutMs + 10_000);
  }

  request<T>(message: object, reply: string, timeoutMs: number): Promise<T> {
    const answer = this.next<T>(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }

  private next<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`hollow worker: no ${type} within ${timeoutMs} ms\n${this.log}`)), timeoutMs);
      const onMessage = (m: { type: string; message?: string }): void => {
        if (m.type === type) done(undefined, m as T);
        else if (m.type === 'error') done(new Error(`hollow worker: ${m.message}`));
      };
      const onExit = (code: number | null): void => done(new Error(`hollow worker exited with ${code}\n${this.log}`));
      const done = (err?: Error, value?: T): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve(value as T);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
