import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { containerStatus } from '../../agent/src/agent/status.js';
import type { Failure } from '../../agent/src/agent/plan/steps.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ContainerProbes, Probe, ProbeHandler } from '../../src/core/model.js';
import type { ContainerStatus } from '../../src/core/wire-types.js';
import { container, podTarget, type Container, type PodDesc, type WirePodTarget } from '../support/pod-target.js';

const EXEC: ProbeHandler = { exec: { command: ['test', '-f', '/tmp/healthy'] } };
const HTTP: ProbeHandler = { httpGet: { path: '/ready', port: 8080 } };
const TCP: ProbeHandler = { tcpSocket: { port: 5432 } };

function probe(handler: ProbeHandler, timing: Partial<Omit<Probe, keyof ProbeHandler>> = {}): Probe {
  return { ...handler, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...timing } as Probe;
}

/** The probes as a Container carries them (livenessProbe, readinessProbe, startupProbe). */
function probeFields(probes: ContainerProbes | undefined): Partial<Container> {
  const out: Partial<Container> = {};
  if (probes?.liveness) out.livenessProbe = probes.liveness as Container['livenessProbe'];
  if (probes?.readiness) out.readinessProbe = probes.readiness;
  if (probes?.startup) out.startupProbe = probes.startup as Container['startupProbe'];
  return out;
}

function pod(probes?: ContainerProbes, extra: PodDesc = {}): WirePodTarget {
  return podTarget('web-a', { containers: [container('main', { image: 'reg.lan/app:1', ...probeFields(probes) })], ...extra });
}

function setup() {
  const clock = new ManualClock();
  const runtime = new MemoryRuntime({ now: () => clock.now() });
  const reports: StatusReport[] = [];
  // A long poll: probe results alone must bring the status up to date.
  const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 3600, onStatus: (r) => reports.push(r) });
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await reconciler.idle();
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await reconciler.idle();
  };
  /** Moves time on one second at a time, letting probes and reconciles finish in between. */
  const tick = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await settle();
    }
  };
  const last = () => reports[reports.length - 1]!;
  const main = (): ContainerStatus => last().pods[0]!.containers[0]!;
  const probeCount = (kind: 'exec' | 'net') => runtime.probeCalls.filter((c) => c.startsWith(kind)).length;
  return { clock, runtime, reconciler, reports, settle, tick, last, main, probeCount };
}

describe('status of a container a probe stopped', () => {
  it('says Unhealthy and why until it is restarted; readiness only for probed containers', () => {
    const p = pod({ liveness: probe(EXEC) });
    const base = { id: 'x', name: 'web-a_main', labels: { 'grove.pod': 'web-a', 'grove.app': 'web', 'grove.container': 'main', 'grove.template-hash': 'h1' }, image: 'i', oomKilled: false, createdAt: '2025-01-01T00:00:00Z' };
    const view = { ready: (id: string) => (id === 'r' ? false : undefined), stoppedBecause: (id: string) => (id === 'x' ? 'Liveness probe failed: HTTP probe failed with statuscode: 500' : undefined) };
    expect(containerStatus(p, 'main', { ...base, state: 'exited', exitCode: 143 }, undefined, view)).toMatchObject({
      state: 'exited',
      reason: 'Unhealthy',
      message: 'Liveness probe failed: HTTP probe failed with statuscode: 500',
      exitCode: 143,
    });
    // The executor's hold during a restart backoff (only the fields status.ts reads).
    const held = { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=main pod=web-a (exit 143)', failures: 1, retryAt: 0 } as Failure;
    expect(containerStatus(p, 'main', { ...base, state: 'exited', exitCode: 143 }, held, view)).toMatchObject({
      reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container=main pod=web-a (exit 143): Liveness probe failed: HTTP probe failed with statuscode: 500',
    });
    expect(containerStatus(p, 'main', { ...base, id: 'r', state: 'running', exitCode: null }, undefined, view)).toMatchObject({ state: 'running', ready: false });
    expect('ready' in containerStatus(p, 'main', { ...base, id: 'y', state: 'running', exitCode: null }, undefined, view)).toBe(false);
  });
});

describe('probes', () => {
  it('runs nothing and reports no readiness for containers without probes', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod()] });
    await t.tick(60);
    expect(t.runtime.probeCalls).toEqual([]);
    expect(t.reconciler.prober.size).toBe(0);
    expect('ready' in t.main()).toBe(false);
    expect(t.last().pods[0]!.ready).toBe(true);
  });

  it('restarts a container after failureThreshold consecutive liveness failures, counting a restart', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ liveness: probe(EXEC) }, { grace: 5 })] });
    await t.settle();
    const [first] = await t.runtime.list();
    await t.tick(25);
    expect(t.probeCount('exec')).toBe(3); // at 0, 10 and 20 s
    t.runtime.answerProbes('web-a_main', false);
    // Two failures are not enough; a success in between would reset the count.
    await t.tick(20);
    expect(t.runtime.stops).toEqual([]);
    await t.tick(10);
    expect(t.runtime.stops).toEqual([{ id: first!.id, graceSeconds: 5 }]);
    t.runtime.answerProbes('web-a_main', true);
    await t.tick(300);
    const running = (await t.runtime.list()).filter((c) => c.state === 'running');
    expect(running).toHaveLength(1);
    expect(running[0]!.id).not.toBe(first!.id);
    expect(t.main()).toMatchObject({ state: 'running', restarts: 1 });
    // The new instance is probed from scratch and stays up while healthy.
    expect(t.runtime.stops).toHaveLength(1);
  });

  it('is not ready until the readiness probe succeeds successThreshold times, and unready after failureThreshold failures', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ readiness: probe(HTTP, { successThreshold: 2, periodSeconds: 5 }) })] });
    expect(t.main()).toMatchObject({ state: 'running', ready: false });
    expect(t.last().pods[0]).toMatchObject({ phase: 'Running', ready: false });
    const before = t.reports.length;
    await t.tick(1); // first success at 0 s
    expect(t.main().ready).toBe(false);
    await t.tick(5); // second at 5 s
    expect(t.main().ready).toBe(true);
    expect(t.last().pods[0]!.ready).toBe(true);
    expect(t.reports.length).toBe(before + 1); // reported on the change only
    await t.tick(30);
    expect(t.reports.length).toBe(before + 1);
    t.runtime.answerProbes('web-a_main', false);
    await t.tick(10);
    expect(t.main().ready).toBe(true);
    await t.tick(5);
    expect(t.main().ready).toBe(false);
    expect(t.last().pods[0]!.ready).toBe(false);
    // Readiness never restarts anything.
    expect(t.runtime.stops).toEqual([]);
    t.runtime.answerProbes('web-a_main', true);
    await t.tick(10);
    expect(t.main().ready).toBe(true);
    expect(t.probeCount('net')).toBeGreaterThan(8);
  });

  it('waits initialDelaySeconds from the container start before the first check', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ liveness: probe(TCP, { initialDelaySeconds: 15, periodSeconds: 10 }) })] });
    await t.tick(14);
    expect(t.probeCount('net')).toBe(0);
    await t.tick(1);
    expect(t.probeCount('net')).toBe(1);
    await t.tick(10);
    expect(t.probeCount('net')).toBe(2);
  });

  it('holds liveness and readiness back until the startup probe succeeds', async () => {
    const t = setup();
    let started = false;
    t.runtime.answerProbes('web-a_main', (req) => ('check' in req ? started : true));
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ startup: probe(TCP, { failureThreshold: 10, periodSeconds: 2 }), liveness: probe(EXEC) })] });
    await t.tick(10);
    expect(t.probeCount('exec')).toBe(0);
    // Without a readiness probe the container is ready once started, not before.
    expect(t.main().ready).toBe(false);
    started = true;
    await t.tick(2);
    expect(t.main().ready).toBe(true);
    const startupChecks = t.probeCount('net');
    await t.tick(30);
    expect(t.probeCount('exec')).toBeGreaterThanOrEqual(3);
    // The startup probe is done for this instance.
    expect(t.probeCount('net')).toBe(startupChecks);
    expect(t.runtime.stops).toEqual([]);
  });

  it('restarts a container whose startup probe keeps failing', async () => {
    const t = setup();
    t.runtime.answerProbes('web-a_main', false);
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ startup: probe(TCP, { failureThreshold: 3, periodSeconds: 1 }), liveness: probe(EXEC) })] });
    await t.tick(3);
    expect(t.runtime.stops).toHaveLength(1);
    expect(t.probeCount('exec')).toBe(0);
    await t.tick(300);
    expect(t.main().restarts).toBeGreaterThanOrEqual(1);
  });

  it('does not probe a container again while a probe stops it', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ liveness: probe(EXEC, { periodSeconds: 1, failureThreshold: 1 }) })] });
    const [c] = await t.runtime.list();
    t.runtime.answerProbes('web-a_main', false);
    // The stop itself is slow here: the container keeps running while reconciles happen.
    const stop = t.runtime.stop.bind(t.runtime);
    let release: () => void = () => undefined;
    let stopCalls = 0;
    t.runtime.stop = (id, grace) => {
      stopCalls += 1;
      return new Promise<void>((r) => (release = r)).then(() => stop(id, grace));
    };
    await t.tick(1);
    expect(t.reconciler.prober.stoppedBecause(c!.id)).toMatch(/^Liveness probe failed/);
    const checks = t.probeCount('exec');
    await t.reconciler.trigger('manual');
    await t.tick(5);
    expect(t.reconciler.prober.size).toBe(0);
    expect(t.probeCount('exec')).toBe(checks);
    expect(stopCalls).toBe(1);
    release();
    await t.tick(1);
    expect(t.runtime.stops).toHaveLength(1);
  });

  it('stops probing containers that leave the target, and everything on stop()', async () => {
    const t = setup();
    await t.reconciler.setTarget({ revision: 1, pods: [pod({ liveness: probe(EXEC) })] });
    expect(t.reconciler.prober.size).toBe(1);
    await t.reconciler.setTarget({ revision: 2, pods: [] });
    expect(t.reconciler.prober.size).toBe(0);
    await t.reconciler.setTarget({ revision: 3, pods: [pod({ liveness: probe(EXEC) })] });
    await t.reconciler.stop();
    expect(t.reconciler.prober.size).toBe(0);
    expect(t.clock.pending()).toBe(0);
  });
});
