/**
 * Container steps: start, restart (remove the exited instance, start a new one carrying the
 * restart count), remove (stop with the pod's grace, then remove), and the crash-loop hold the
 * plan decided. Failures come back as outcomes under the container's typed id.
 */
import { containerWork, removalWork, workKey, type StepOf } from '../plan/steps.js';
import { failureReason } from '../plan/backoff.js';
import { podKey } from '../plan/pod-fields.js';
import type { Handler } from './context.js';

export const removeContainer: Handler<StepOf<'remove-container'>> = async (step, ctx) => {
  // The pod's own grace (recorded on the container at start) wins over the agent's default.
  const grace = step.graceSeconds ?? ctx.stopGraceSeconds;
  const work = removalWork(step.id);
  try {
    await ctx.runtime.stop(step.id, grace);
    await ctx.runtime.remove(step.id);
  } catch (err) {
    return { ok: false, failed: { work, reason: 'RemoveError', err } };
  }
  ctx.log.info({ id: step.id.slice(0, 12), name: step.name, reason: step.reason, graceSeconds: grace }, 'removed container');
  return { ok: true, clears: work };
};

export const stopContainer: Handler<StepOf<'stop-container'>> = async (step, ctx) => {
  const grace = step.graceSeconds ?? ctx.stopGraceSeconds;
  try {
    await ctx.runtime.stop(step.id, grace);
  } catch (err) {
    // Tried again next round (the sidecar still runs); nothing to back off from.
    ctx.log.warn({ pod: podKey(step.pod), container: step.container, err: String(err) }, 'stopping a sidecar failed');
    return { ok: false };
  }
  ctx.log.info({ pod: podKey(step.pod), container: step.container, reason: step.reason, graceSeconds: grace }, 'stopped sidecar');
  return { ok: true };
};

export const startContainer: Handler<StepOf<'start-container'>> = async (step, ctx) => {
  const work = containerWork(podKey(step.pod), step.container.name);
  try {
    const c = await ctx.runtime.start(step.pod, step.container);
    ctx.log.info({ pod: podKey(step.pod), container: step.container.name, id: c.id.slice(0, 12) }, 'started container');
    return { ok: true, clears: work };
  } catch (err) {
    return { ok: false, failed: { work, reason: failureReason(err), err } };
  }
};

export const restartContainer: Handler<StepOf<'restart-container'>> = async (step, ctx) => {
  const work = containerWork(podKey(step.pod), step.container.name);
  // The instance that ended stays readable as `logs --previous` (one that never started has no log).
  if (step.reason !== 'not-started') await ctx.runtime.keepPreviousLogs?.(step.id).catch((err: unknown) => ctx.log.warn({ id: step.id.slice(0, 12), err: String(err) }, 'could not keep the previous log'));
  try {
    await ctx.runtime.remove(step.id);
  } catch (err) {
    return { ok: false, failed: { work, reason: 'CreateError', err, prefix: 'removing the exited container failed: ' } };
  }
  try {
    const c = await ctx.runtime.start(step.pod, step.container, { restarts: step.restarts });
    // The crash entry stays (its retryAt is past, so nothing is held): the count of restarts in
    // a row is what the next exit's delay is computed from.
    ctx.log.info({ pod: podKey(step.pod), container: step.container.name, id: c.id.slice(0, 12), restarts: step.restarts, reason: step.reason }, 'restarted container');
    return { ok: true };
  } catch (err) {
    return { ok: false, failed: { work, reason: failureReason(err), err } };
  }
};

export const backOffRestart: Handler<StepOf<'back-off-restart'>> = async (step, ctx) => {
  const f = step.failure;
  ctx.memory.failures.set(workKey(f.work), f);
  ctx.log.info({ pod: podKey(step.pod), container: step.container.name, failures: f.failures, retryInMs: f.retryAt - ctx.now() }, 'container exited, restart backed off');
  return { ok: true };
};
