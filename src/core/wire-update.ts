/**
 * Wire validation of PodTarget.update and NodeStatus.deferred (update windows and locks);
 * wire.ts calls these. Same rules as the rest of the codec: every field checked and bounded, a
 * fresh object of known fields returned. The window's cron and time zone are re-checked with
 * the server's own rules, so an agent never plans with a schedule it cannot evaluate.
 */
import { at, int, list, obj, present, str, type FailField } from './wire-probes.js';
import { MAX_UPDATE_SECONDS, updatePolicyFromAnnotations, type UpdatePolicy } from './update-policy.js';
import type { DeferredUpdate } from './wire-types.js';

const LIMITS = Object.freeze({ schedule: 200, zone: 64, name: 253, timestamp: 64, message: 1024, deferred: 1000 });

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

function timestamp(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, LIMITS.timestamp, 1);
  return Number.isNaN(Date.parse(s)) ? fail(p, 'expected an ISO 8601 timestamp') : s;
}

function deferredUpdate(v: unknown, p: string, fail: FailField): DeferredUpdate {
  const o = obj(v, p, fail);
  const reason = o.reason;
  if (reason !== 'update-window' && reason !== 'update-lock') fail(at(p, 'reason'), 'expected update-window or update-lock');
  return {
    app: str(o.app, at(p, 'app'), fail, LIMITS.name, 1),
    reason: reason as DeferredUpdate['reason'],
    since: timestamp(o.since, at(p, 'since'), fail),
    ...(present(o, 'until') ? { until: timestamp(o.until, at(p, 'until'), fail) } : {}),
    message: str(o.message, at(p, 'message'), fail, LIMITS.message),
  };
}

/** NodeStatus.deferred at path `p`. */
export function decodeDeferred(v: unknown, p: string, fail: FailField): DeferredUpdate[] {
  return list(v, p, fail, LIMITS.deferred, (x, xp) => deferredUpdate(x, xp, fail));
}
