/**
 * PURE: what `grove rollout status` makes of one look at an app's rollout: a line to print,
 * and whether watching is over (complete, failed, rolled back).
 */
import type { RolloutStatusView } from '../../../server/rollout-api.js';

export interface RolloutVerdict {
  line: string;
  done: boolean;
  /** Set when the rollout failed: the one-line reason the command exits non-zero with. */
  failure?: string;
  /** The revision being watched, once known. */
  watched?: number;
}

export function rolloutVerdict(view: RolloutStatusView, watched: number | undefined): RolloutVerdict {
  const name = `"${view.app}"`;
  const rb = view.lastRollback;
  // Rolled back while we watched: the app now runs an older template, but this rollout failed.
  if (watched !== undefined && rb && rb.fromRevision === watched) {
    const failure = `rollout of ${name} revision ${watched} failed and was rolled back to revision ${rb.toRevision}: ${rb.reason}`;
    return { line: failure, done: true, failure, watched };
  }
  if (view.phase === 'Pending') return { line: `Waiting for rollout of ${name} to start...`, done: false, ...(watched !== undefined ? { watched } : {}) };
  const now = watched ?? view.revision;
  if (view.phase === 'Complete') return { line: `rollout of ${name} complete: revision ${view.revision}, ${view.available} of ${view.desired} pods available`, done: true, watched: now };
  if (view.phase === 'Failed') {
    const failure = `rollout of ${name} revision ${view.revision} failed: ${view.message ?? 'progress deadline exceeded'}`;
    return { line: failure, done: true, failure, watched: now };
  }
  const waiting = view.updated < view.desired ? `${view.updated} of ${view.desired} updated pods created` : view.available < view.desired ? `${view.available} of ${view.desired} updated pods available` : `${view.total - view.desired} old pods pending termination`;
  return { line: `Waiting for rollout of ${name} (revision ${view.revision}): ${waiting}...`, done: false, watched: now };
}
