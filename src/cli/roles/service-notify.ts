import type { Logger } from '../../core/logger.js';
import { systemClock } from '../../core/clock.js';
import { notifySettings, relaySink, ServiceNotifier } from '../../../agent/src/agent/sd-notify.js';
import { shimPath } from '../package-root.js';

export interface ServiceNotify {
  ready(status?: string): void;
  stopping(): void;
}

const NOTHING: ServiceNotify = { ready: () => undefined, stopping: () => undefined };

/**
 * systemd notifications for a long-running role (docs/operations.md, "Watchdog"): a no-op
 * unless NOTIFY_SOCKET is set. `healthy` gates each WATCHDOG=1 keepalive.
 */
export function serviceNotify(env: NodeJS.ProcessEnv, logger: Logger, healthy: () => boolean): ServiceNotify {
  const settings = notifySettings(env);
  if (!settings) return NOTHING;
  // The relay must not hand NOTIFY_SOCKET on to anything it might start; it needs only that.
  const relay = relaySink(shimPath(env), logger, { NOTIFY_SOCKET: settings.socket });
  const notifier = new ServiceNotifier({ sink: relay.sink, clock: systemClock(), healthy, logger, ...(settings.watchdog ? { watchdog: settings.watchdog } : {}) });
  return {
    ready: (status) => notifier.ready(status),
    stopping: () => {
      notifier.stopping();
      relay.close();
    },
  };
}

/**
 * Test-only (GROVE_TEST_STALL_LOOP_AFTER_MS): blocks the event loop for good after that many ms,
 * the way an endless loop or a synchronous hang would, so the watchdog test can check that the
 * keepalives stop. Never set it in production.
 */
export function armTestLoopStall(env: NodeJS.ProcessEnv, logger: Logger): void {
  const after = Number(env.GROVE_TEST_STALL_LOOP_AFTER_MS);
  if (!Number.isFinite(after) || after <= 0) return;
  logger.warn({ afterMs: after }, 'GROVE_TEST_STALL_LOOP_AFTER_MS is set: the main loop will hang (test hook)');
  setTimeout(() => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) Atomics.wait(cell, 0, 0, 60_000);
  }, after).unref();
}
