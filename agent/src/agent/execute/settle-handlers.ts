/**
 * Settling steps: each brings one piece of node state in line with the node as it is after the
 * round's actions (ctx.after()): the probe workers, the lock directories, the pods' volume
 * directories. The last two act only when the set they depend on changed since they last did.
 */
import { errorMessage } from '../../../../src/core/errors.js';
import { appOf, podKeyOf } from '../node-runtime.js';
import { podKey } from '../plan/pod-fields.js';
import type { StepOf } from '../plan/steps.js';
import type { Handler } from './context.js';

export const syncProbes: Handler<StepOf<'sync-probes'>> = async (step, ctx) => {
  ctx.prober?.sync(step.pods, (await ctx.after()).containers);
  return { ok: true };
};

/** Drops the lock directories of apps that have nothing left on the node (when that set changes). */
export const pruneLocks: Handler<StepOf<'prune-locks'>> = async (step, ctx) => {
  if (!ctx.locks) return { ok: true };
  const apps = new Set([...step.apps, ...(await ctx.after()).containers.map(appOf)]);
  const key = [...apps].sort().join('\n');
  if (key === ctx.memory.locksPrunedFor) return { ok: true };
  await ctx.locks.prune(apps);
  ctx.memory.locksPrunedFor = key;
  return { ok: true };
};

/**
 * Pod volume clean-up (runtime.syncPods), when the set of pods with a target or a container
 * changes; before it, the downwardAPI files of pods whose labels or annotations changed.
 */
export const cleanPodDirs: Handler<StepOf<'clean-pod-dirs'>> = async (step, ctx) => {
  await ctx.runtime.refreshDownward?.(step.pods).catch((err: unknown) => ctx.log.warn({ err: errorMessage(err) }, 'downwardAPI files not refreshed'));
  if (!ctx.runtime.syncPods) return { ok: true };
  const { containers } = await ctx.after();
  const key = [...new Set([...step.pods.map(podKey), ...containers.map(podKeyOf)])].sort().join('\n');
  if (key === ctx.memory.podDirsCleanedFor) return { ok: true };
  try {
    await ctx.runtime.syncPods(step.pods, containers);
    ctx.memory.podDirsCleanedFor = key;
  } catch (err) {
    ctx.log.warn({ err: errorMessage(err) }, 'pod volume clean-up failed');
    return { ok: false };
  }
  return { ok: true };
};
