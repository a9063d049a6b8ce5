/**
 * PURE: follows each app's rollout from the scheduler's progress figures and decides when it
 * is complete, when it has failed (no progress for progressDeadlineSeconds), and when to roll
 * back to the last revision that completed. The controller persists what this returns; in a
 * steady state it returns nothing, so the store is not written.
 */
import type { App, RolloutRecord } from '../core/model.js';
import type { StoreOp } from '../store/store.js';
import { historyOf, rolloutKey, type RevisionIndex } from './revisions.js';
import type { RolloutProgress } from './scheduler.js';
import { autoRollback, progressDeadlineMs } from './update-strategy.js';

export interface RolloutInput {
  apps: readonly App[];
  progress: readonly RolloutProgress[];
  records: ReadonlyMap<string, RolloutRecord>;
  revisions: RevisionIndex;
  now: string;
  /**
   * Apps a node holds the update of back on purpose (update window, update lock): waiting for
   * the window is not a failure, so their deadline does not run, and it starts afresh when the
   * hold ends.
   */
  deferred?: ReadonlySet<string>;
}

export interface RolloutDecision {
  /** Record writes and deletions. */
  ops: StoreOp[];
  /** Apps whose template goes back to their last good revision (to be stored). */
  rollbacks: App[];
  /** ISO time the earliest running rollout passes its deadline, if nothing moves before. */
  nextDeadlineAt?: string;
  /** Rollouts that failed in this pass, for the log. */
  failed: { app: string; revision: number; message: string }[];
}

function progressKey(p: RolloutProgress, deferred: boolean): string {
  return `${p.updated}/${p.updatedAvailable}/${p.total}${deferred ? '/deferred' : ''}`;
}

function summary(p: RolloutProgress): string {
  return `${p.updatedAvailable} of ${p.desired} updated pods available (${p.updated} updated, ${p.total} in all)`;
}

export function trackRollouts(input: RolloutInput): RolloutDecision {
  const decision: RolloutDecision = { ops: [], rollbacks: [], failed: [] };
  const nowMs = Date.parse(input.now);
  const apps = new Map(input.apps.map((a) => [a.meta.name, a]));
  let nextDeadline: number | undefined;
  for (const p of input.progress) {
    const app = apps.get(p.app);
    if (!app) continue;
    const before = input.records.get(p.app);
    const after = next(app, p, before, input, nowMs, decision);
    if (after !== before) decision.ops.push({ type: 'put', key: rolloutKey(p.app), value: after });
    if (after.phase === 'Progressing' && app.spec.strategy?.type !== 'OnDelete' && !input.deferred?.has(p.app)) {
      const due = Date.parse(after.lastProgressAt) + progressDeadlineMs(app.spec);
      if (nextDeadline === undefined || due < nextDeadline) nextDeadline = due;
    }
  }
  for (const name of input.records.keys()) if (!apps.has(name)) decision.ops.push({ type: 'delete', key: rolloutKey(name) });
  if (nextDeadline !== undefined) decision.nextDeadlineAt = new Date(nextDeadline).toISOString();
  return decision;
}

/** The record after this pass; the very same object when nothing changed. */
function next(app: App, p: RolloutProgress, rec: RolloutRecord | undefined, input: RolloutInput, nowMs: number, decision: RolloutDecision): RolloutRecord {
  const revision = input.revisions.get(p.app)?.get(p.templateHash)?.revision ?? 0;
  const deferred = input.deferred?.has(p.app) ?? false;
  const key = progressKey(p, deferred);
  if (!rec || rec.templateHash !== p.templateHash) {
    // A new rollout (or the first look at an app): what completed last is what we go back to.
    const stableHash = rec?.phase === 'Complete' ? rec.templateHash : rec?.stableHash;
    const started: RolloutRecord = {
      kind: 'Rollout',
      app: p.app,
      revision,
      templateHash: p.templateHash,
      phase: p.complete ? 'Complete' : 'Progressing',
      startedAt: input.now,
      lastProgressAt: input.now,
      progressKey: key,
      ...(p.complete ? { stableHash: p.templateHash } : stableHash ? { stableHash } : {}),
      ...(rec?.lastRollback ? { lastRollback: rec.lastRollback } : {}),
    };
    if (p.complete) started.message = `revision ${revision} complete: ${summary(p)}`;
    return started;
  }
  if (p.complete) {
    if (rec.phase === 'Complete') return rec;
    return { ...rec, revision, phase: 'Complete', stableHash: p.templateHash, progressKey: key, lastProgressAt: input.now, message: `revision ${revision} complete: ${summary(p)}` };
  }
  // A completed rollout stays complete when a pod later fails: that is a health matter, not a rollout.
  if (rec.phase !== 'Progressing') return rec;
  if (key !== rec.progressKey) return { ...rec, progressKey: key, lastProgressAt: input.now };
  if (app.spec.strategy?.type === 'OnDelete' || deferred) return rec;
  const deadlineMs = progressDeadlineMs(app.spec);
  if (nowMs - Date.parse(rec.lastProgressAt) < deadlineMs) return rec;
  return fail(app, p, rec, input, deadlineMs, decision);
}

function fail(app: App, p: RolloutProgress, rec: RolloutRecord, input: RolloutInput, deadlineMs: number, decision: RolloutDecision): RolloutRecord {
  const reason = `revision ${rec.revision} made no progress for ${Math.round(deadlineMs / 1000)} s (progressDeadlineSeconds): ${summary(p)}`;
  const stable = rec.stableHash !== undefined && rec.stableHash !== p.templateHash ? input.revisions.get(p.app)?.get(rec.stableHash) : undefined;
  if (!autoRollback(app.spec) || !stable) {
    const why = !autoRollback(app.spec) ? 'automatic rollback is off' : 'no earlier revision completed';
    decision.failed.push({ app: p.app, revision: rec.revision, message: `${reason}; ${why}` });
    return { ...rec, phase: 'Failed', message: `${reason}; ${why}` };
  }
  decision.rollbacks.push({
    ...app,
    meta: { ...app.meta, updatedAt: input.now },
    spec: { ...app.spec, template: structuredClone(stable.template) },
    generation: (app.generation ?? 1) + 1,
  });
  const message = `${reason}; rolled back to revision ${stable.revision}`;
  decision.failed.push({ app: p.app, revision: rec.revision, message });
  return { ...rec, phase: 'Failed', message, lastRollback: { fromRevision: rec.revision, toRevision: stable.revision, at: input.now, reason } };
}

/** The revision `undo` goes to: `to` when given, else the newest one before the current. */
export function undoTarget(index: RevisionIndex, app: string, currentHash: string, to?: number): { revision: number; templateHash: string } | undefined {
  const history = historyOf(index, app);
  if (to !== undefined) return history.find((r) => r.revision === to);
  return history.find((r) => r.templateHash !== currentHash);
}
