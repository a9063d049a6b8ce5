/**
 * Pod sandbox steps, and /etc/hosts. A failed create leaves nothing behind (SandboxOps.create),
 * backs off like a failed container create under the sandbox's typed id, and shows on each
 * container of the pod as CreateError (memory.ts shownFailure); the agent carries on with the
 * other pods.
 */
import { errorMessage } from '../../../../src/core/errors.js';
import { renderPodHosts } from '../pod-hosts.js';
import { sandboxWork, type StepOf } from '../plan/steps.js';
import { podKey, sandboxRequestOf } from '../plan/pod-fields.js';
import type { ExecContext, Handler, Outcome } from './context.js';

/** A failed teardown is not backed off: the next round (the poll at the latest) tries it again. */
export const removeSandbox: Handler<StepOf<'remove-sandbox'>> = async (step, ctx) => {
  try {
    await ctx.runtime.sandboxes?.remove(step.pod);
  } catch (err) {
    ctx.log.warn({ pod: step.pod, err: errorMessage(err) }, 'removing a pod sandbox failed');
    return { ok: false };
  }
  ctx.log.info({ pod: step.pod, reason: step.reason }, 'removed pod sandbox');
  return { ok: true, clears: sandboxWork(step.pod) };
};

export const createSandbox: Handler<StepOf<'create-sandbox'>> = (step, ctx) => make(step, ctx);

export const recreateSandbox: Handler<StepOf<'recreate-sandbox'>> = (step, ctx) => make(step, ctx);

async function make(step: StepOf<'create-sandbox' | 'recreate-sandbox'>, ctx: ExecContext): Promise<Outcome> {
  const { pod } = step;
  const work = sandboxWork(podKey(pod));
  const ops = ctx.runtime.sandboxes;
  if (!ops) return { ok: false, skipped: true };
  try {
    if (step.type === 'recreate-sandbox') await ops.remove(podKey(pod));
    const made = await ops.create(sandboxRequestOf(pod));
    ctx.log.info({ pod: podKey(pod), ip: made.ip, network: made.networkKey, ...(step.type === 'recreate-sandbox' ? { reason: step.reason } : {}) }, `${step.type === 'create-sandbox' ? 'created' : 'recreated'} pod sandbox`);
    return { ok: true, clears: work };
  } catch (err) {
    ctx.log.warn({ pod: podKey(pod), err: errorMessage(err) }, 'pod sandbox failed');
    return { ok: false, failed: { work, reason: 'CreateError', err } };
  }
}

/** Rewrites the /etc/hosts of pods whose content changed (pods came, went or moved). */
export const writeHosts: Handler<StepOf<'write-hosts'>> = async (_step, ctx) => {
  const { sandboxes } = await ctx.after();
  if (!sandboxes || !ctx.runtime.sandboxes) return { ok: true };
  const { memory } = ctx;
  memory.podIPs = new Map(sandboxes.filter((s) => s.ready && s.ip).map((s) => [s.pod, s.ip!]));
  const files = renderPodHosts(sandboxes);
  const changed = new Map([...files].filter(([pod, content]) => memory.hosts.get(pod) !== content));
  if (changed.size > 0) await ctx.runtime.sandboxes.writeHosts(changed);
  memory.hosts = files;
  return { ok: true };
};
