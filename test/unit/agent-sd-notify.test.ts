import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler } from '../../agent/src/agent/reconciler.js';
import { notifySettings, ServiceNotifier } from '../../agent/src/agent/sd-notify.js';
import { silentLogger } from '../../src/core/logger.js';

describe('notifySettings', () => {
  it('is off without a usable NOTIFY_SOCKET', () => {
    expect(notifySettings({})).toBeUndefined();
    expect(notifySettings({ NOTIFY_SOCKET: 'relative/path' })).toBeUndefined();
    expect(notifySettings({ NOTIFY_SOCKET: '/' + 'x'.repeat(200) })).toBeUndefined();
  });

  it('keeps alive at half of WATCHDOG_USEC, only for the process it names', () => {
    expect(notifySettings({ NOTIFY_SOCKET: '/run/systemd/notify' })).toEqual({ socket: '/run/systemd/notify' });
    expect(notifySettings({ NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '60000000' })).toEqual({ socket: '@abstract', watchdog: { intervalMs: 30_000 } });
    expect(notifySettings({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '60000000', WATCHDOG_PID: String(process.pid) })?.watchdog).toEqual({ intervalMs: 30_000 });
    expect(notifySettings({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '1' })?.watchdog).toBeUndefined();
    expect(notifySettings({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: 'soon' })?.watchdog).toBeUndefined();
  });
});

describe('ServiceNotifier', () => {
  function setup(healthy: { value: boolean }, watchdog = true) {
    const clock = new ManualClock();
    const sent: string[] = [];
    const notifier = new ServiceNotifier({ sink: (m) => sent.push(m), clock, healthy: () => healthy.value, logger: silentLogger(), ...(watchdog ? { watchdog: { intervalMs: 1000 } } : {}) });
    return { clock, sent, notifier };
  }

  it('sends READY, a keepalive per interval while healthy, none while stuck, and STOPPING', () => {
    const health = { value: true };
    const { clock, sent, notifier } = setup(health);
    notifier.ready('node a');
    expect(sent).toEqual(['READY=1\nSTATUS=node a']);
    clock.advance(3000);
    expect(sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(3);
    health.value = false;
    clock.advance(5000);
    expect(sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(3);
    health.value = true;
    clock.advance(1000);
    expect(sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(4);
    notifier.stopping();
    expect(sent.at(-1)).toBe('STOPPING=1');
    expect(clock.pending()).toBe(0);
  });

  it('schedules nothing without a watchdog', () => {
    const { clock, sent, notifier } = setup({ value: true }, false);
    notifier.ready();
    expect(clock.pending()).toBe(0);
    expect(sent).toEqual(['READY=1']);
  });
});

describe('Reconciler.busyForMs (the watchdog\'s view of progress)', () => {
  it('grows while a reconcile hangs and drops to 0 when idle', async () => {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: () => undefined });
    await reconciler.setTarget({ revision: 1, pods: [] });
    expect(reconciler.busyForMs()).toBe(0);
    let release!: () => void;
    const original = runtime.list.bind(runtime);
    runtime.list = () => new Promise((resolve) => (release = () => resolve(original())));
    const run = reconciler.trigger('manual');
    clock.advance(90_000);
    expect(reconciler.busyForMs()).toBe(90_000);
    release();
    await run;
    expect(reconciler.busyForMs()).toBe(0);
  });
});
