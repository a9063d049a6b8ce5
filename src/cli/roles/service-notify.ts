import type { Logger } from '../../core/logger.js';
import { systemClock } from '../../core/clock.js';
import { notifySettings, relaySink, ServiceNotifier } from '../../../agent/src/agent/sd-notify.js';
import type { HostFacts } from '../config/environment.js';
import { shimPath } from '../package-root.js';

export interface ServiceNotify {
  ready(status?: string): void;
  stopping(): void;
}

const NOTHING: ServiceNotify = { ready: () => undefined, stopping: () => undefined };

/**
 * systemd notifications for a long-running role (docs/operations.md, "Watchdog"): a no-op
 * unless NOTIFY_SOCKET is set. `healthy` gates each WATCHDOG=1 keepalive. `shim` is the
 * configured grove-shim (--shim), which relays the datagrams.
 */
export function serviceNotify(notify: HostFacts['notify'], shim: string | undefined, logger: Logger, healthy: () => boolean): ServiceNotify {
  const settings = notifySettings({ ...notify });
  if (!settings) return NOTHING;
  // The relay must not hand NOTIFY_SOCKET on to anything it might start; it needs only that.
  const relay = relaySink(shimPath(shim), logger, { NOTIFY_SOCKET: settings.socket });
  const notifier = new ServiceNotifier({ sink: relay.sink, clock: systemClock(), healthy, logger, ...(settings.watchdog ? { watchdog: settings.watchdog } : {}) });
  return {
    ready: (status) => notifier.ready(status),
    stopping: () => {
      notifier.stopping();
      relay.close();
    },
  };
}
