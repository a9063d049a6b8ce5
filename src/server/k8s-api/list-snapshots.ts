/**
 * The sorted items of recent paged lists, so the pages after the first (`kubectl get` asks 500
 * at a time) are slices of one read instead of one full read each: 10,000 pods in 20 pages cost
 * one store scan, not twenty. A list at a resourceVersion never changes, so a snapshot is exact
 * for as long as it is kept: at most MAX_SNAPSHOTS, each for SNAPSHOT_TTL_MS after its last use
 * (a client paging through holds one; memory is that of one unpaged list).
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

interface Snapshot {
  items: readonly SortedItem[];
  timer: TimerHandle;
}

export class ListSnapshots {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(private readonly clock: Clock) {}

  /** The snapshot of `key` (which names the resource, namespace, selectors and version), kept longer. */
  get(key: string): readonly SortedItem[] | undefined {
    const s = this.snapshots.get(key);
    if (!s) return undefined;
    this.put(key, s.items);
    return s.items;
  }

  put(key: string, items: readonly SortedItem[]): void {
    this.drop(key);
    while (this.snapshots.size >= MAX_SNAPSHOTS) this.drop(this.snapshots.keys().next().value!);
    this.snapshots.set(key, { items, timer: this.clock.setTimeout(() => this.drop(key), SNAPSHOT_TTL_MS) });
  }

  get size(): number {
    return this.snapshots.size;
  }

  private drop(key: string): void {
    const s = this.snapshots.get(key);
    if (!s) return;
    this.clock.clearTimeout(s.timer);
    this.snapshots.delete(key);
  }
}
