/**
 * Bookkeeping steps: what the agent remembers (failures, update holds, Job records and CronJob
 * firings), the files and watches that go with it (the Job records in the agent's store, the
 * projected ConfigMap/Secret files, the lock directories and schedules that wake it up).
 */
import { refKey } from '../../../../src/core/config-refs.js';
import { workKey, type StepOf } from '../plan/steps.js';
import type { Handler } from './context.js';

export const forgetFailures: Handler<StepOf<'forget-failures'>> = async (step, ctx) => {
  for (const work of step.works) ctx.memory.failures.delete(workKey(work));
  return { ok: true };
};

export const holdUpdate: Handler<StepOf<'hold-update'>> = async (step, ctx) => {
  ctx.memory.holds.set(step.app, step.hold);
  const d = step.deferred;
  if (d) ctx.log.info({ app: step.app, reason: d.reason, until: d.until }, `update deferred: ${d.message}`);
  return { ok: true };
};

export const releaseUpdate: Handler<StepOf<'release-update'>> = async (step, ctx) => {
  ctx.memory.holds.delete(step.app);
  ctx.log.info({ app: step.app }, 'deferred update goes ahead');
  return { ok: true };
};

export const refreshConfig: Handler<StepOf<'refresh-config'>> = async (step, ctx) => {
  // Taken in whatever happens to the files: a failed rewrite keeps the last good version (as in
  // Kubernetes) and is logged by the runtime; the next change rewrites them again.
  const taken = new Set(step.changed.map(refKey));
  ctx.memory.configChanged = ctx.memory.configChanged.filter((c) => !taken.has(refKey(c)));
  await ctx.runtime.refreshConfig?.(step.changed);
  return { ok: true };
};

export const saveJobs: Handler<StepOf<'save-jobs'>> = async (step, ctx) => {
  const { memory } = ctx;
  for (const e of step.events) {
    if (e.type === 'fired') ctx.log.info({ pod: e.pod, at: new Date(e.at).toISOString(), ...e.outcome }, 'schedule fired');
    else ctx.log.info({ pod: e.pod, condition: e.condition, reason: e.reason, succeeded: e.succeeded, failed: e.failed }, 'job finished');
  }
  for (const { pod, count } of step.fires) memory.cronFires.set(pod, (memory.cronFires.get(pod) ?? []).slice(count));
  for (const [pod, fires] of memory.cronFires) if (fires.length === 0) memory.cronFires.delete(pod);
  for (const rec of step.put) memory.jobs.set(rec.pod, rec);
  const stored = step.remove.filter((pod) => memory.jobs.has(pod));
  for (const pod of step.remove) {
    memory.jobs.delete(pod);
    memory.cronFires.delete(pod);
  }
  // Memory first: the run goes on from the new records even if the store write fails (logged).
  await ctx.jobs?.save(step.put, stored);
  return { ok: true };
};

export const scheduleCron: Handler<StepOf<'schedule-cron'>> = async (step, ctx) => {
  // Noted before it exists: a schedule node-cron refuses is reported once, not every round.
  ctx.memory.cronSchedules.set(step.pod, step.key);
  ctx.jobs?.schedule(step.pod, step.cron, (at) => {
    ctx.memory.cronFires.set(step.pod, [...(ctx.memory.cronFires.get(step.pod) ?? []), at]);
    ctx.wake('job');
  });
  return { ok: true };
};

export const unscheduleCron: Handler<StepOf<'unschedule-cron'>> = async (step, ctx) => {
  ctx.memory.cronSchedules.delete(step.pod);
  ctx.jobs?.unschedule(step.pod);
  return { ok: true };
};

export const watchLocks: Handler<StepOf<'watch-locks'>> = async (step, ctx) => {
  ctx.memory.watchedLocks = step.apps.join('\n');
  ctx.locks?.watch(step.apps, () => ctx.wake('lock'));
  return { ok: true };
};
