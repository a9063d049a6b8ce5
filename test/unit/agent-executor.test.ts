import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { Executor } from '../../agent/src/agent/execute/executor.js';
import { MemoryRuntime, type MemoryBehaviour } from '../../agent/src/agent/memory-runtime.js';
import { DEFAULT_BACKOFF, backoffDelay, failureReason } from '../../agent/src/agent/plan/backoff.js';
import { emptyMemory, failureOf, isHeld, nextRetryAt, type PlanMemory } from '../../agent/src/agent/plan/memory.js';
import { DEFAULT_SETTINGS, plan, type PlanSettings } from '../../agent/src/agent/plan/plan.js';
import { PHASE, containerWork, removalWork, type StepResult } from '../../agent/src/agent/plan/steps.js';
import { containerStatus } from '../../agent/src/agent/status.js';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

function pod(name: string, image = 'reg.lan/app:1', policy: RestartPolicy = 'Always'): WirePodTarget {
  return podTarget(name, { app: 'app', policy, containers: [podContainer('main', { image })] });
}

/** One observe → plan → execute round, the way the reconciler does it; the container steps' results. */
async function runRound(runtime: MemoryRuntime, executor: Executor, memory: PlanMemory, now: number, target: WirePodTarget[], settings: PlanSettings = DEFAULT_SETTINGS): Promise<StepResult[]> {
  const containers = await runtime.list();
  const planned = plan({ now, containers, lockedApps: new Set() }, target, memory, settings);
  const { results } = await executor.execute(planned.steps, { memory, before: { containers }, observe: async () => ({ containers: await runtime.list() }) });
  return results.filter((r) => PHASE[r.step.type] === 'removal' || PHASE[r.step.type] === 'container');
}

function setup(options: { behaviour?: () => MemoryBehaviour; stopGraceSeconds?: number | null; settings?: PlanSettings } = {}) {
  const clock = new ManualClock();
  const runtime = new MemoryRuntime({ now: () => clock.now(), ...(options.behaviour ? { behaviour: options.behaviour } : {}) });
  // null: leave the option out, to see the executor's own default.
  const grace = options.stopGraceSeconds === undefined ? 3 : options.stopGraceSeconds;
  const executor = new Executor({ runtime, clock, logger: silentLogger(), ...(grace === null ? {} : { stopGraceSeconds: grace }) });
  const memory = emptyMemory();
  const round = (target: WirePodTarget[]) => runRound(runtime, executor, memory, clock.now(), target, options.settings);
  const failure = (pod: string) => failureOf(memory, containerWork(pod, 'main'));
  const held = (pod: string) => isHeld(memory, containerWork(pod, 'main'), clock.now());
  return { clock, runtime, executor, memory, round, failure, held };
}

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 5 min', () => {
    expect([0, 1, 2, 3, 4, 8, 9, 10, 50].map((n) => backoffDelay(n))).toEqual([0, 1000, 2000, 4000, 8000, 128_000, 256_000, 300_000, 300_000]);
  });
});

describe('failureReason', () => {
  it('tells pull errors from create errors', () => {
    expect(failureReason(new GroveError(ErrorCode.ImageNotFound, 'x'))).toBe('ImagePullError');
    expect(failureReason(new GroveError(ErrorCode.RegistryUnavailable, 'x'))).toBe('ImagePullError');
    expect(failureReason(new GroveError(ErrorCode.RuntimeFailed, 'x'))).toBe('CreateError');
    expect(failureReason(new Error('boom'))).toBe('CreateError');
  });
});

describe('Executor', () => {
  it('backs off a failing image exponentially up to the cap, with the injected clock', async () => {
    const { clock, runtime, round, failure, held } = setup();
    runtime.failImage('reg.lan/bad:1');
    const target = [pod('web-a', 'reg.lan/bad:1')];
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const results = await round(target);
      expect(results).toHaveLength(1);
      expect(results[0]?.ok).toBe(false);
      const f = failure('web-a');
      expect(f?.reason).toBe('ImagePullError');
      expect(f?.work).toEqual({ kind: 'container', pod: 'web-a', container: 'main' });
      expect(f?.failures).toBe(i + 1);
      const delay = (f?.retryAt ?? 0) - clock.now();
      delays.push(delay);
      // Held until the delay has passed: a round just before it does nothing at all.
      clock.advance(delay - 1);
      expect(held('web-a')).toBe(true);
      expect(await round(target)).toEqual([]);
      clock.advance(1);
      expect(held('web-a')).toBe(false);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toHaveLength(12);
  });

  it('records create errors with their message and clears them after a successful start', async () => {
    const { clock, runtime, memory, round, failure } = setup();
    runtime.failNextStart(new GroveError(ErrorCode.RuntimeFailed, 'runc create failed: no space left on device'));
    await round([pod('web-a')]);
    expect(failure('web-a')).toMatchObject({ reason: 'CreateError', message: 'runc create failed: no space left on device', failures: 1 });
    expect(nextRetryAt(memory, clock.now())).toBe(clock.now() + 1000);
    clock.advance(1000);
    const results = await round([pod('web-a')]);
    expect(results.map((r) => r.ok)).toEqual([true]);
    expect(failure('web-a')).toBeUndefined();
    expect(nextRetryAt(memory, clock.now())).toBeUndefined();
    expect((await runtime.list()).map((c) => c.state)).toEqual(['running']);
  });

  it('stops (with the grace period) before removing', async () => {
    const { runtime, round } = setup();
    await round([pod('web-a')]);
    const [c] = await runtime.list();
    runtime.calls.length = 0;
    await round([]);
    expect(runtime.calls).toEqual([`stop ${c?.id}`, `remove ${c?.id}`]);
    expect(await runtime.list()).toEqual([]);
  });

  it("stops with the pod's terminationGracePeriodSeconds, also once the pod has left the target", async () => {
    const { runtime, round } = setup();
    await round([podTarget('web-a', { app: 'app', grace: 45, containers: [podContainer('main', { image: 'reg.lan/app:1' })] }), podTarget('web-b', { app: 'app', grace: 0, containers: [podContainer('main', { image: 'reg.lan/app:1' })] }), pod('web-c')]);
    const ids = Object.fromEntries((await runtime.list()).map((c) => [c.name, c.id]));
    await round([]);
    expect(runtime.stops).toEqual([
      { id: ids['web-a_main'], graceSeconds: 45 },
      { id: ids['web-b_main'], graceSeconds: 0 },
      // No grace on the pod: the agent's stopGraceSeconds.
      { id: ids['web-c_main'], graceSeconds: 3 },
    ]);
  });

  it('uses the old template’s grace when a template change replaces a pod', async () => {
    const { runtime, round } = setup();
    await round([podTarget('web-a', { app: 'app', grace: 20, containers: [podContainer('main', { image: 'reg.lan/app:1' })] })]);
    const [old] = await runtime.list();
    await round([podTarget('web-a', { app: 'app', hash: 'h2', grace: 5, containers: [podContainer('main', { image: 'reg.lan/app:1' })] })]);
    expect(runtime.stops).toEqual([{ id: old?.id, graceSeconds: 20 }]);
    expect((await runtime.list()).map((c) => c.labels['grove.template-hash'])).toEqual(['h2']);
  });

  it('defaults to a 30 s stop grace, as Kubernetes does', async () => {
    const { runtime, round } = setup({ stopGraceSeconds: null });
    await round([pod('web-a')]);
    await round([]);
    expect(runtime.stops.map((s) => s.graceSeconds)).toEqual([30]);
  });

  it('holds each restart of a crash loop for 10, 20, 40, 80, 160, 300, 300 s after the exit', async () => {
    const { clock, runtime, round, failure } = setup({ behaviour: () => ({ exitCode: 1 }) });
    await round([pod('web-a')]); // starts, exits at once
    expect((await runtime.list())[0]).toMatchObject({ state: 'exited', restarts: 0 });
    const delays: number[] = [];
    for (let i = 1; i <= 7; i++) {
      // First sight of the exit: nothing restarts, the hold is recorded.
      expect((await round([pod('web-a')])).map((r) => [r.step.type, r.ok])).toEqual([['back-off-restart', true]]);
      const f = failure('web-a');
      expect(f).toMatchObject({ reason: 'CrashLoopBackOff', failures: i });
      const delay = (f?.retryAt ?? 0) - clock.now();
      delays.push(delay);
      clock.advance(delay - 1);
      expect(await round([pod('web-a')])).toEqual([]);
      clock.advance(1);
      expect((await round([pod('web-a')])).map((r) => [r.step.type, r.ok])).toEqual([['restart-container', true]]);
      expect((await runtime.list()).map((c) => [c.state, c.restarts])).toEqual([['exited', i]]);
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('takes the restart base delay from restartBackoffMs and keeps 1 s for pull failures', async () => {
    const settings = { ...DEFAULT_SETTINGS, backoff: { ...DEFAULT_BACKOFF, restartMs: 2000 } };
    const { clock, runtime, memory, round, failure } = setup({ behaviour: () => ({ exitCode: 1 }), settings });
    await round([pod('web-a')]);
    await round([pod('web-a')]);
    expect(nextRetryAt(memory, clock.now())).toBe(clock.now() + 2000);
    clock.advance(2000);
    runtime.failImage('reg.lan/app:1');
    // The restart's start fails to pull: its own series from 1 s, not the crash count.
    expect((await round([pod('web-a')])).map((r) => r.ok)).toEqual([false]);
    expect(failure('web-a')).toMatchObject({ reason: 'ImagePullError', failures: 1, retryAt: clock.now() + 1000 });
  });

  it('shows CrashLoopBackOff as the waiting reason while the restart is held', async () => {
    const { runtime, round, failure } = setup({ behaviour: () => ({ exitCode: 2 }) });
    await round([pod('web-a')]);
    await round([pod('web-a')]);
    const [c] = await runtime.list();
    const status = containerStatus(pod('web-a'), 'main', c, failure('web-a'));
    expect(status).toMatchObject({ state: 'exited', reason: 'CrashLoopBackOff', exitCode: 2 });
    expect(status.message).toBe('back-off 10s restarting failed container=main pod=web-a (exit 2)');
  });

  it('starts the series again for a container that ran for 10 minutes before exiting', async () => {
    const { clock, runtime, round, failure } = setup();
    await round([pod('web-a')]);
    const crash = async (ranMs: number) => {
      clock.advance(ranMs);
      runtime.exit('web-a_main', 1);
      await round([pod('web-a')]); // hold
      const delay = (failure('web-a')?.retryAt ?? 0) - clock.now();
      clock.advance(delay);
      await round([pod('web-a')]); // restart
      return delay;
    };
    expect([await crash(1000), await crash(1000), await crash(1000)]).toEqual([10_000, 20_000, 40_000]);
    expect(await crash(10 * 60_000 - 1)).toBe(80_000); // one millisecond short of healthy
    expect(await crash(10 * 60_000)).toBe(10_000);
    expect(await crash(1000)).toBe(20_000);
    expect((await runtime.list())[0]?.restarts).toBe(6);
  });

  it('restarts at once an exit seen only after its delay has passed (the agent was down)', async () => {
    const { clock, runtime, round, failure } = setup();
    await round([pod('web-a')]);
    runtime.exit('web-a_main', 1);
    clock.advance(10_000);
    expect((await round([pod('web-a')])).map((r) => [r.step.type, r.ok])).toEqual([
      ['back-off-restart', true],
      ['restart-container', true],
    ]);
    expect(failure('web-a')).toMatchObject({ reason: 'CrashLoopBackOff', failures: 1 });
  });

  it('continues the restart count from the container label after an agent restart', async () => {
    const { clock, runtime, round } = setup({ behaviour: () => ({ exitCode: 1 }) });
    await round([pod('web-a')]);
    for (let i = 0; i < 2; i++) {
      await round([pod('web-a')]);
      clock.advance(300_000);
      await round([pod('web-a')]);
    }
    expect((await runtime.list())[0]?.restarts).toBe(2);
    // A new executor and memory (the agent restarted) know nothing but what the runtime shows.
    const fresh = new Executor({ runtime, clock, logger: silentLogger() });
    const freshMemory = emptyMemory();
    const freshRound = () => runRound(runtime, fresh, freshMemory, clock.now(), [pod('web-a')]);
    await freshRound();
    clock.advance(10_000);
    await freshRound();
    expect((await runtime.list()).map((c) => [c.state, c.restarts, c.labels['grove.restarts']])).toEqual([['exited', 3, '3']]);
  });

  it('backs off a failing removal and forgets failures of pods no longer desired', async () => {
    const { clock, runtime, memory, round, failure } = setup();
    await round([pod('web-a'), pod('db-a', 'reg.lan/bad:1')]);
    runtime.failImage('reg.lan/bad:1');
    const [web] = await runtime.list();
    const remove = runtime.remove.bind(runtime);
    let failRemove = true;
    runtime.remove = async (id: string) => {
      if (failRemove) throw new Error('device busy');
      return remove(id);
    };
    const results = await round([pod('db-a', 'reg.lan/bad:1')]);
    expect(results.map((r) => [r.step.type, r.ok])).toEqual([['remove-container', false]]);
    expect(failureOf(memory, removalWork(web!.id))).toMatchObject({ reason: 'RemoveError', message: 'device busy' });
    // Backing off: the removal is not planned again until its delay has passed.
    expect(await round([pod('db-a', 'reg.lan/bad:1')])).toEqual([]);
    clock.advance(1000);
    failRemove = false;
    expect((await round([pod('db-a', 'reg.lan/bad:1')])).map((r) => r.ok)).toEqual([true]);
    expect(failureOf(memory, removalWork(web!.id))).toBeUndefined();

    await round([pod('api-a', 'reg.lan/bad:1')]);
    expect(failure('api-a')).toBeDefined();
    // api-a leaves the target: the next round forgets its failure.
    await round([]);
    expect(failure('api-a')).toBeUndefined();
  });
});
