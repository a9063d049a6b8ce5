/**
 * Which of two statuses from one node is newer: PURE. Statuses can arrive reordered or twice
 * (QoS 1 redelivery after a reconnect), and a stale one must not roll the node's state back.
 *
 * Every agent process picks a random run id at start and numbers its statuses from 1 (seq), so
 * within a run seq alone orders them, and a status from another run id is the agent restarted:
 * it replaces the previous run's state whatever its sentAt says. The agent's clock is never
 * compared with its previous run's: one restarted with its clock an hour behind (no RTC, NTP
 * not synced yet) would otherwise have every status dropped as stale until its seq caught up.
 *
 * Agents from before run ids send none; for them the old rule stays: a lower seq is stale only
 * if it was not sent later either (seq restarts at 1 when such an agent restarts).
 */
import type { NodeStatus } from '../core/wire-types.js';

/** Run ids of a node remembered as replaced, so a late status of an old run is still known stale. */
export const RETIRED_RUNS_KEPT = 4;

/** `kind` groups reasons for log throttling. */
export type StatusVerdict = { accept: true; newRun: boolean } | { accept: false; kind: 'stale' | 'replaced-run'; reason: string };

export function judgeStatus(prev: NodeStatus | undefined, next: NodeStatus, retiredRuns: readonly string[] = []): StatusVerdict {
  if (next.runId !== undefined && retiredRuns.includes(next.runId)) {
    return { accept: false, kind: 'replaced-run', reason: `from run ${next.runId} of the agent, which a newer run replaced` };
  }
  if (!prev) return { accept: true, newRun: false };
  if (next.runId !== undefined && next.runId !== prev.runId) return { accept: true, newRun: true };
  if (next.runId !== undefined) {
    return next.seq > prev.seq ? { accept: true, newRun: false } : { accept: false, kind: 'stale', reason: `stale: seq ${next.seq} is not after ${prev.seq} of the same run` };
  }
  if (next.seq <= prev.seq && next.sentAt <= prev.sentAt) {
    return { accept: false, kind: 'stale', reason: `stale: seq ${next.seq} is not after ${prev.seq} and it was sent at ${next.sentAt}, not after ${prev.sentAt} (an agent without run ids)` };
  }
  return { accept: true, newRun: prev.runId !== undefined };
}

/** The retired list after `replaced` gave way to a newer run: most recent first, bounded. */
export function retireRun(retired: readonly string[], replaced: string | undefined): string[] {
  if (replaced === undefined) return [...retired];
  return [replaced, ...retired.filter((r) => r !== replaced)].slice(0, RETIRED_RUNS_KEPT);
}
