/**
 * systemd service notifications (sd_notify(3)) for `grove agent` and `grove server`.
 *
 * When systemd starts us with Type=notify it sets NOTIFY_SOCKET; with WatchdogSec it also sets
 * WATCHDOG_USEC (and WATCHDOG_PID). We then send READY=1 once started, WATCHDOG=1 every
 * WATCHDOG_USEC/2 and STOPPING=1 on shutdown. Node has no AF_UNIX datagram sockets, so the
 * datagrams are sent by one long-lived relay (`grove-shim sd-notify`) fed a line per message.
 *
 * The keepalive proves the MAIN LOOP is alive, not just that a timer exists: it is sent from a
 * clock timer on the agent's event loop (a blocked event loop sends nothing) and only while
 * `healthy()` says the reconcile loop is making progress (see Reconciler.stalledMs). The relay
 * never sends on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../../src/core/logger.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';

/** Where messages go: the relay process in production, an array in unit tests. */
export type NotifySink = (message: string) => void;

export interface WatchdogSettings {
  /** Keepalive period: half of WATCHDOG_USEC, as systemd recommends. */
  intervalMs: number;
}

/** Whether sd_notify is wanted, and the keepalive period if a watchdog is configured. */
export function notifySettings(env: NodeJS.ProcessEnv): { socket: string; watchdog?: WatchdogSettings } | undefined {
  const socket = env.NOTIFY_SOCKET;
  if (!socket || !(socket.startsWith('/') || socket.startsWith('@')) || socket.length > 107) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the
  // variables (e.g. a server's helper) must not answer for its parent.
  const pid = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' ? process.pid : Number(env.WATCHDOG_PID);
  if (!Number.isFinite(usec) || usec <= 0 || pid !== process.pid) return { socket };
  return { socket, watchdog: { intervalMs: Math.max(1, Math.floor(usec / 2000)) } };
}

export interface ServiceNotifierOptions {
  sink: NotifySink;
  clock: Clock;
  watchdog?: WatchdogSettings;
  /** Asked before every keepalive: false skips it (a stuck main loop). */
  healthy: () => boolean;
  logger: Logger;
}

/** READY/WATCHDOG/STOPPING, with the keepalive timer on the injected clock. */
export class ServiceNotifier {
  private readonly opts: ServiceNotifierOptions;
  private readonly log: Logger;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private skipping = false;
  /** Keepalives sent, for tests. */
  keepalives = 0;

  constructor(options: ServiceNotifierOptions) {
    this.opts = options;
    this.log = options.logger.child({ component: 'sd-notify' });
  }

  ready(status?: string): void {
    this.opts.sink(status ? `READY=1\nSTATUS=${oneLine(status)}` : 'READY=1');
    this.schedule();
  }

  stopping(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.opts.sink('STOPPING=1');
  }

  private schedule(): void {
    const watchdog = this.opts.watchdog;
    if (!watchdog || this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.beat();
      this.schedule();
    }, watchdog.intervalMs);
  }

  private beat(): void {
    if (this.opts.healthy()) {
      if (this.skipping) this.log.warn('main loop is making progress again, watchdog keepalives resumed');
      this.skipping = false;
      this.keepalives += 1;
      this.opts.sink('WATCHDOG=1');
    } else if (!this.skipping) {
      this.skipping = true;
      this.log.error('main loop is stuck: watchdog keepalives withheld, systemd will restart the service');
    }
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

/**
 * One long-lived `grove-shim sd-notify` process fed one line per datagram. The relay is
 * line-based, so a message of several assignments ("READY=1\nSTATUS=…") goes out as one
 * datagram per assignment, which systemd accepts just the same.
 */
export function relaySink(shimPath: string, logger: Logger, env: NodeJS.ProcessEnv): { sink: NotifySink; close(): void } {
  const log = logger.child({ component: 'sd-notify' });
  let child: ChildProcess | undefined = spawn(shimPath, ['sd-notify'], { stdio: ['pipe', 'ignore', 'inherit'], env });
  child.on('error', (err) => {
    log.warn({ err: err.message, shimPath }, 'cannot run the sd_notify relay: systemd will not hear from this service');
    child = undefined;
  });
  child.on('exit', (code) => {
    if (child) log.warn({ code }, 'sd_notify relay exited');
    child = undefined;
  });
  child.stdin?.on('error', () => undefined);
  // The relay must not keep the process alive on its own.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    sink: (message) => {
      if (!child?.stdin?.writable) return;
      for (const part of message.split('\n')) if (part) child.stdin.write(part + '\n');
    },
    close: () => {
      const c = child;
      child = undefined;
      c?.stdin?.end();
    },
  };
}
