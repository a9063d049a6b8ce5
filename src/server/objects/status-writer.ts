/**
 * Writes the status of many objects (Pods from node reports, Nodes' Ready condition, workload
 * status from controllers) as few commits as possible: statuses set within one interval (1 s by
 * default) go out together in ONE commit, so a storm of node reports is a few commits, not
 * thousands. A status equal to the stored one is not written, and a condition's
 * lastHeartbeatTime alone never counts as a change (it is written on transitions only: flash).
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { describeRef, type ObjectChange, type ObjectRef } from '../../core/objects/changes.js';
import { createWireEncoder, encodeCanonical } from '../../core/wire-codec.js';
import type { Logger } from 'pino';
import type { Encoder } from 'cbor-x';
import { keyOf, type ObjectStore } from './object-store.js';

export const DEFAULT_STATUS_INTERVAL_MS = 1000;

export interface StatusWriterOptions {
  objects: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** At most one commit per this many ms (default 1 s). */
  intervalMs?: number;
}

/** `status` without what never counts as a change: conditions' lastHeartbeatTime. */
export function withoutHeartbeats(status: unknown): unknown {
  if (typeof status !== 'object' || status === null) return status;
  const conditions = (status as { conditions?: unknown }).conditions;
  if (!Array.isArray(conditions)) return status;
  return {
    ...status,
    conditions: conditions.map((c) => {
      if (typeof c !== 'object' || c === null) return c;
      const { lastHeartbeatTime: _beat, ...rest } = c as Record<string, unknown>;
      return rest;
    }),
  };
}

/** Whether writing `next` over `stored` would change anything but heartbeat times. */
export function statusChanged(stored: unknown, next: unknown, encoder: Encoder = createWireEncoder()): boolean {
  return !encodeCanonical(withoutHeartbeats(stored) ?? null, encoder).equals(encodeCanonical(withoutHeartbeats(next) ?? null, encoder));
}

export class StatusWriter {
  private pending = new Map<string, { ref: ObjectRef; status: unknown }>();
  private timer: TimerHandle | undefined;
  private flushing: Promise<void> | undefined;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly log: Logger;
  private readonly encoder = createWireEncoder();

  constructor(private readonly opts: StatusWriterOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_STATUS_INTERVAL_MS;
    this.log = opts.logger.child({ component: 'status-writer' });
  }

  /** Queues `status` as the object's status; a later set of the same object replaces it. */
  set(ref: ObjectRef, status: unknown): void {
    if (this.stopped) return;
    this.pending.set(keyOf(ref), { ref, status });
    this.arm();
  }

  /** Statuses waiting for the next commit. */
  get queued(): number {
    return this.pending.size;
  }

  /** Writes whatever is queued now (the interval does not apply); resolves when it is stored. */
  async flush(): Promise<void> {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    this.flushing = this.write().finally(() => {
      this.flushing = undefined;
      this.arm();
    });
    await this.flushing;
  }

  /** Resolves when nothing is being written (tests). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Writes what is queued and stops taking statuses. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer || this.flushing || this.pending.size === 0 || this.stopped) return;
    const wait = Math.max(0, this.lastCommitAt + this.intervalMs - this.opts.clock.now());
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async write(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const changes: ObjectChange[] = [];
    for (const { ref, status } of batch) {
      const stored = await this.opts.objects.get(ref).catch(() => undefined);
      if (stored === undefined) continue; // deleted meanwhile: nothing to report on
      if (statusChanged((stored as { status?: unknown }).status, status, this.encoder)) changes.push({ op: 'status', ref, status });
    }
    if (changes.length === 0) return;
    this.lastCommitAt = this.opts.clock.now();
    try {
      await this.opts.objects.commit(changes);
    } catch (err) {
      // One bad status must not hold back the others: write them one by one, and log the bad one.
      this.log.warn({ err: errorMessage(err), count: changes.length }, 'status commit failed; writing the statuses one by one');
      for (const change of changes) {
        await this.opts.objects.commit([change]).catch((e: unknown) => {
          this.log.error({ object: describeRef((change as { ref: ObjectRef }).ref), err: errorMessage(e) }, 'status not written');
        });
      }
    }
  }
}
