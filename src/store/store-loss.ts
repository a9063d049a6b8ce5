/**
 * What "commits are missing" means for a LevelStore, and the one error that says so.
 *
 * Two checks find a loss before the store is used (level-store.ts): the write-ahead log holds
 * intact commits LevelDB would drop on open, or damage in its middle (log-check.ts); or the
 * revision LevelDB holds is below the one recorded beside it (revision-mark.ts), as after a
 * truncated log. Either way the daemon refuses to start instead of serving an older state
 * whose revisions nodes have already seen: they would ignore every new target.
 */
import { ErrorCode, GroveError } from '../core/errors.js';

export interface StoreLoss {
  /** One sentence: what is missing and how it was found. */
  summary: string;
  /** The highest revision known to have existed, when known: accepting the loss moves past it. */
  knownRevision?: number;
}

export const DEFAULT_ACCEPT_LOSS_COMMAND = 'grove server fsck --accept-loss';

export function storeLossError(path: string, losses: StoreLoss[], acceptCommand: string): GroveError {
  const what = losses.map((l) => l.summary).join('; ');
  return new GroveError(
    ErrorCode.StoreError,
    `store at ${path} is missing commits: ${what}. The store was left as it is; to start anyway, accepting the loss, run \`${acceptCommand}\` (docs/operations.md)`,
    { details: { path, loss: true, knownRevision: highestKnownRevision(losses) } },
  );
}

export function highestKnownRevision(losses: StoreLoss[]): number | undefined {
  const known = losses.map((l) => l.knownRevision).filter((r): r is number => r !== undefined);
  return known.length ? Math.max(...known) : undefined;
}
