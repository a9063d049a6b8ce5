/**
 * The flash budget of events (docs/kubectl.md, "Nodes, drain and events"): the newest events are
 * saved in ONE store record at most once per interval, only when an event was recorded since the
 * last save, and once more when the server stops; a restarted server reads them back. Defaults:
 * the newest 100 events, at most 32 KiB, every 30 minutes at most: ≤ 48 writes and ≤ 1.5 MiB a
 * day however busy the cluster, nothing on a quiet one.
 */
import type { Logger } from 'pino';
import { every, type Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { GroveKeys } from '../../core/keys.js';
import type { Store } from '../../store/store.js';
import type { EventStore } from './event-store.js';
import type { CoreEvent } from './event-types.js';

export const DEFAULT_SNAPSHOT_INTERVAL_MS = 30 * 60_000;
export const DEFAULT_SNAPSHOT_EVENTS = 100;
export const DEFAULT_SNAPSHOT_BYTES = 32 * 1024;

export interface EventSnapshotOptions {
  store: Store;
  events: EventStore;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  maxEvents?: number;
  maxBytes?: number;
}

interface SavedEvents {
  version: 1;
  events: CoreEvent[];
}

/** The newest events (by lastTimestamp) that fit in `maxEvents` and `maxBytes`, oldest first. */
export function newestEvents(events: readonly CoreEvent[], maxEvents: number, maxBytes: number): CoreEvent[] {
  const out: CoreEvent[] = [];
  let bytes = 0;
  // `events` is least recently updated first: walk from the newest.
  for (let i = events.length - 1; i >= 0 && out.length < maxEvents; i--) {
    const size = JSON.stringify(events[i]).length;
    if (bytes + size > maxBytes) break;
    bytes += size;
    out.push(events[i]!);
  }
  return out.reverse();
}

function isSaved(value: unknown): value is SavedEvents {
  const v = value as SavedEvents | undefined;
  return v?.version === 1 && Array.isArray(v.events);
}

/** A saved event of the shape this version writes (a damaged record restores nothing, never half). */
function wellFormed(e: unknown): e is CoreEvent {
  const x = e as CoreEvent;
  return (
    typeof x === 'object' && x !== null && x.kind === 'Event' && typeof x.metadata?.name === 'string' && typeof x.metadata.namespace === 'string' &&
    typeof x.involvedObject?.kind === 'string' && typeof x.involvedObject.name === 'string' && typeof x.reason === 'string' && typeof x.message === 'string' &&
    typeof x.lastTimestamp === 'string' && typeof x.firstTimestamp === 'string' && typeof x.count === 'number' && typeof x.source?.component === 'string'
  );
}

export class EventSnapshot {
  private savedAt: number | undefined;
  private stopTimer: (() => void) | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: EventSnapshotOptions) {
    this.log = opts.logger.child({ component: 'event-snapshot' });
  }

  /** Reads the saved events into the store, then saves at most once per interval. */
  async start(): Promise<void> {
    try {
      const saved = (await this.opts.store.get<unknown>(GroveKeys.events))?.value;
      if (isSaved(saved)) this.opts.events.restore(saved.events.filter(wellFormed));
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not read the saved events; starting without them');
    }
    this.savedAt = this.opts.events.revision();
    this.stopTimer = every(this.opts.clock, this.opts.intervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS, () => void this.save());
  }

  /** Saves once more (when something changed) and stops. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.save();
  }

  /** Writes the newest events when any was recorded since the last save; resolves when done. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const revision = this.opts.events.revision();
      if (this.savedAt === undefined || revision === this.savedAt) return;
      const events = newestEvents(this.opts.events.all(), this.opts.maxEvents ?? DEFAULT_SNAPSHOT_EVENTS, this.opts.maxBytes ?? DEFAULT_SNAPSHOT_BYTES);
      try {
        const value: SavedEvents = { version: 1, events };
        await this.opts.store.commit([events.length ? { type: 'put', key: GroveKeys.events, value } : { type: 'delete', key: GroveKeys.events }]);
        this.savedAt = revision;
      } catch (err) {
        // Events are a convenience: a full or failing disk must not take the server down.
        this.log.warn({ err: errorMessage(err) }, 'could not save the events');
      }
    });
    return this.saving;
  }
}
