/**
 * PURE: Grove's TargetApplied node condition, what 0.1 showed as "Revisions: target N, observed
 * M" (`grove describe node`, GET /v1/nodes/:name): whether the node runs the target last
 * published to it. True when the revision its last status says it applied is the target's;
 * False while it is behind (a full disk, a lost message) or ahead (a store that lost commits,
 * src/server/revision-floor.ts). The time moves when the status flips; the message names both
 * revisions, so the Node object changes once per new target and never on a heartbeat.
 */
import type { Condition } from '../../core/objects/meta.js';
import type { NodeReadiness } from './node-object.js';
import { objectTime } from './object-store.js';

export const TARGET_APPLIED = 'TargetApplied';

/** The condition for `readiness.revisions`; without revisions (a readiness flip), the previous one. */
export function targetAppliedCondition(previous: readonly Condition[] | undefined, readiness: NodeReadiness): Condition | undefined {
  const old = previous?.find((c) => c.type === TARGET_APPLIED);
  const r = readiness.revisions;
  if (!r) return old;
  const status = r.applied === r.target ? 'True' : 'False';
  const at = old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : objectTime(readiness.lastReportAt ?? readiness.since);
  return status === 'True'
    ? { type: TARGET_APPLIED, status, reason: 'TargetApplied', message: `target revision ${r.target} applied`, lastTransitionTime: at }
    : { type: TARGET_APPLIED, status, reason: 'TargetNotApplied', message: `target revision ${r.target}, applied ${r.applied}`, lastTransitionTime: at };
}
