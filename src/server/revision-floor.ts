/**
 * Revisions never go backwards, even after the store lost commits (a damaged log accepted with
 * `grove server fsck --accept-loss`, a restore of an old backup, a reinstalled server): nodes
 * report the target revision they applied in every status, and one above anything this server
 * has issued means its store went back in time. Left alone, that node would ignore every new
 * target (not newer than the one it applied) while shown Ready.
 *
 * So the server moves its store revision past the node's, logs an error naming the node and
 * both revisions, and issues the node's target afresh, above it.
 *
 * At most once per node per ADVANCE_INTERVAL_MS: a node that was really ahead applies the target
 * issued above it and is in step again, so only a node that keeps inventing higher revisions
 * asks twice — and each move is a synced commit, which a rogue node must not be able to turn
 * into flash wear at its status rate.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { Store } from '../store/store.js';
import type { Mutex } from './mutex.js';

/**
 * The highest node-reported revision the store is moved to: far above what a store reaches
 * (2^48 commits), far below where revisions stop being exact integers (2^53). A node is
 * authenticated, not trusted: one reporting 2^53 - 1 would otherwise push the store to a
 * revision that no commit can go past and no open can read back.
 */
export const MAX_NODE_REVISION = 2 ** 48;

/** How often one node may move the store revision (10 min). */
export const ADVANCE_INTERVAL_MS = 10 * 60_000;

/** Whether a node's applied revision is one this server never issued. */
export function nodeIsAhead(observed: number, storeRevision: number, published: number | undefined): boolean {
  return observed > storeRevision || (published !== undefined && observed > published);
}

export interface RevisionFloorOptions {
  store: Store;
  mutex: Mutex;
  logger: Logger;
  /** The revision of the target last published to a node (the controller's). */
  targetRevision: (node: string) => number | undefined;
  /** Issues the node's target again under a new revision (the controller's). */
  reissue: (node: string) => void;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** Default ADVANCE_INTERVAL_MS. */
  advanceIntervalMs?: number;
}

export class RevisionFloor {
  private readonly log: Logger;
  /** The revision each node was last handled at: its heartbeats repeat it until the new target lands. */
  private readonly handled = new Map<string, number>();
  private pending: Promise<void> = Promise.resolve();
  /** Implausible revisions are logged at most once a minute per node. */
  private readonly implausible: LogThrottle;
  /** Moves per node: one per interval (see the module comment); refusals are logged as seldom. */
  private readonly advances: LogThrottle;
  private readonly refused: LogThrottle;

  constructor(private readonly opts: RevisionFloorOptions) {
    this.log = opts.logger.child({ component: 'revision-floor' });
    const now = opts.now ?? Date.now;
    this.implausible = new LogThrottle({ now });
    this.advances = new LogThrottle({ now, intervalMs: opts.advanceIntervalMs ?? ADVANCE_INTERVAL_MS });
    this.refused = new LogThrottle({ now });
  }

  /** A status from `node` says it applied target revision `observed`. */
  observe(node: string, observed: number): void {
    if (observed > MAX_NODE_REVISION) {
      if (this.implausible.admit(node) !== undefined) {
        this.log.warn({ node, nodeRevision: observed, max: MAX_NODE_REVISION }, `node ${node} reports target revision ${observed}, which no server issues: ignored`);
      }
      return;
    }
    const published = this.opts.targetRevision(node);
    if (!nodeIsAhead(observed, this.opts.store.revision(), published) || this.handled.get(node) === observed) return;
    this.handled.set(node, observed);
    if (this.advances.admit(node) === undefined) {
      if (this.refused.admit(node) !== undefined) {
        this.log.warn({ node, nodeRevision: observed }, `node ${node} reports target revision ${observed}, ahead of this server again within ${Math.round((this.opts.advanceIntervalMs ?? ADVANCE_INTERVAL_MS) / 60_000)} min: not moved (a node in step applies the target issued above it)`);
      }
      return;
    }
    const run = this.opts.mutex.run(async () => {
      const before = this.opts.store.revision();
      const after = await this.opts.store.advanceRevision(observed);
      this.log.error(
        { node, nodeRevision: observed, storeRevision: before, publishedRevision: published, revision: after },
        `node ${node} applied target revision ${observed}, above this server's store revision ${before}${published !== undefined ? ` and the ${published} last published to it` : ''}: the store lost commits; revision moved to ${after} and the node's target issued again`,
      );
      this.opts.reissue(node);
    });
    this.pending = this.pending.then(() =>
      run.catch((err: unknown) => {
        // Tried again on the next status.
        this.handled.delete(node);
        this.log.error({ node, err: errorMessage(err) }, 'could not move the store revision past a node ahead of it');
      }),
    );
  }

  /** Waits for the moves in flight (tests, shutdown). */
  idle(): Promise<void> {
    return this.pending;
  }
}
