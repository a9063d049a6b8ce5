/**
 * Wire validation of PodTarget.update (update windows and locks) of schema-1 targets (Grove
 * 0.1's wire: wire.ts decodes them only to convert them to schema 2; NodeStatus.deferred is
 * checked by the generated validator of its schema). Same rules as the rest of the codec: every
 * field checked and bounded, a fresh object of known fields returned. The window's cron and time zone are re-checked with
 * the server's own rules, so an agent never plans with a schedule it cannot evaluate.
 */
import { at, int, obj, present, str, type FailField } from './wire-probes.js';
import { MAX_UPDATE_SECONDS, updatePolicyFromAnnotations, type UpdatePolicy } from './update-policy.js';

const LIMITS = Object.freeze({ schedule: 200, zone: 64 });

/** PodTarget.update at path `p`. */
export function decodeUpdatePolicy(v: unknown, p: string, fail: FailField): UpdatePolicy {
  const o = obj(v, p, fail);
  const out: UpdatePolicy = {};
  if (present(o, 'window')) {
    const wp = at(p, 'window');
    const w = obj(o.window, wp, fail);
    const schedule = str(w.schedule, at(wp, 'schedule'), fail, LIMITS.schedule, 1);
    const durationSeconds = int(w.durationSeconds, at(wp, 'durationSeconds'), fail, 1, MAX_UPDATE_SECONDS);
    const timeZone = present(w, 'timeZone') ? str(w.timeZone, at(wp, 'timeZone'), fail, LIMITS.zone, 1) : undefined;
    try {
      updatePolicyFromAnnotations({ 'grove.io/update-window': schedule, ...(timeZone !== undefined ? { 'grove.io/update-window-timezone': timeZone } : {}) });
    } catch (err) {
      fail(wp, err instanceof Error ? err.message : String(err));
    }
    out.window = { schedule, durationSeconds, ...(timeZone !== undefined ? { timeZone } : {}) };
  }
  if (present(o, 'lockMaxSeconds')) out.lockMaxSeconds = int(o.lockMaxSeconds, at(p, 'lockMaxSeconds'), fail, 0, MAX_UPDATE_SECONDS);
  return out;
}
