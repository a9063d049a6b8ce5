/**
 * The sorted items of recent paged lists, so the pages after the first (`kubectl get` asks 500
 * at a time) are slices of one read instead of one full read each: 10,000 pods in 20 pages cost
 * one store scan, not twenty. A list at a resourceVersion never changes, so a snapshot is exact
 * for as long as it is kept: at most MAX_SNAPSHOTS, each for SNAPSHOT_TTL_MS after its last use,
 * and none once its last page has been served (list.ts drops it).
 *
 * Each item is kept as its JSON text, parsed again when its page is served: a decoded Pod costs
 * about three times its JSON in the heap (a 10,000-pod snapshot: ~44 MiB decoded, ~15 MiB as
 * text), and a page is only 500 items.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { ApiObject } from './watch-source.js';

export const MAX_SNAPSHOTS = 2;
export const SNAPSHOT_TTL_MS = 30_000;

export interface SortedItem {
  object: ApiObject;
  /** continue-token.ts positionOf. */
  position: string;
}

/** An item of a kept snapshot: its position, and the object as JSON text. */
export interface KeptItem {
  position: string;
  json: string;
}

/** The object of a listed or a kept item. */
export function objectOf(item: SortedItem | KeptItem): ApiObject {
  return 'object' in item ? item.object : (JSON.parse(item.json) as ApiObject);
}

interface Snapshot {
  items: readonly KeptItem[];
  timer: TimerHandle;
}

export class ListSnapshots {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(private readonly clock: Clock) {}

  /** The snapshot of `key` (which names the resource, namespace, selectors and version), kept longer. */
  get(key: string): readonly KeptItem[] | undefined {
    const s = this.snapshots.get(key);
    if (!s) return undefined;
    this.keep(key, s.items);
    return s.items;
  }

  put(key: string, items: readonly SortedItem[]): void {
    this.keep(
      key,
      items.map((i) => ({ position: i.position, json: JSON.stringify(i.object) })),
    );
  }

  /** Forgets `key` (its last page was served). */
  drop(key: string): void {
    const s = this.snapshots.get(key);
    if (!s) return;
    this.clock.clearTimeout(s.timer);
    this.snapshots.delete(key);
  }

  get size(): number {
    return this.snapshots.size;
  }

  private keep(key: string, items: readonly KeptItem[]): void {
    this.drop(key);
    while (this.snapshots.size >= MAX_SNAPSHOTS) this.drop(this.snapshots.keys().next().value!);
    this.snapshots.set(key, { items, timer: this.clock.setTimeout(() => this.drop(key), SNAPSHOT_TTL_MS) });
  }
}
