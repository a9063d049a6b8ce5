/** API validation of an app's rollout settings (strategy, history, deadline, rollback). */
import type { AppSpec, UpdateStrategy } from '../core/model.js';
import { isIntOrPercent, MAX_REVISION_HISTORY_LIMIT } from './update-strategy.js';
import { bool, int, invalid, obj, onlyKeys, type Obj } from './validate-primitives.js';

const STRATEGIES: Record<string, readonly UpdateStrategy['type'][]> = {
  Deployment: ['RollingUpdate', 'Recreate'],
  DaemonSet: ['RollingUpdate', 'OnDelete'],
};

const MAX_PROGRESS_DEADLINE_SECONDS = 7 * 24 * 3600;

function strategy(v: unknown, path: string, kind: string): UpdateStrategy {
  const o = obj(v, path);
  onlyKeys(o, path, ['type', 'maxSurge', 'maxUnavailable']);
  const allowed = STRATEGIES[kind] ?? [];
  if (!allowed.includes(o.type as UpdateStrategy['type'])) throw invalid(`${path}.type`, `expected ${allowed.join(' or ')} for a ${kind}`);
  const out: UpdateStrategy = { type: o.type as UpdateStrategy['type'] };
  for (const key of ['maxSurge', 'maxUnavailable'] as const) {
    if (o[key] === undefined) continue;
    if (o.type !== 'RollingUpdate') throw invalid(`${path}.${key}`, 'only applies to RollingUpdate');
    if (!isIntOrPercent(o[key])) throw invalid(`${path}.${key}`, 'expected a whole number or a percentage such as "25%"');
    out[key] = o[key];
  }
  return out;
}

/** The optional rollout fields of an app's spec, checked; absent ones stay absent. */
export function rolloutFields(spec: Obj, path: string): Partial<AppSpec> {
  const out: Partial<AppSpec> = {};
  if (spec.strategy !== undefined) out.strategy = strategy(spec.strategy, `${path}.strategy`, String(spec.kind));
  if (spec.revisionHistoryLimit !== undefined) out.revisionHistoryLimit = int(spec.revisionHistoryLimit, `${path}.revisionHistoryLimit`, 0, MAX_REVISION_HISTORY_LIMIT);
  if (spec.progressDeadlineSeconds !== undefined) {
    out.progressDeadlineSeconds = int(spec.progressDeadlineSeconds, `${path}.progressDeadlineSeconds`, 1, MAX_PROGRESS_DEADLINE_SECONDS);
  }
  if (spec.autoRollback !== undefined) out.autoRollback = bool(spec.autoRollback, `${path}.autoRollback`, true);
  return out;
}
