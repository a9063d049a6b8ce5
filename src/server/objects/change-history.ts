/**
 * The recent object changes, by store revision, in memory only (never written: flash is
 * precious). Watches resume from it after a short disconnect, and paged lists read every page at
 * the first page's revision by undoing what changed since (each change keeps the object before
 * it). Bounded by a count and by bytes (the JSON size of the objects it holds); the oldest whole
 * commits go first. Anything from before `since()` is gone: such a watch or continue is 410.
 *
 * Defaults: 4,096 changes and 8 MiB of object JSON, about 20 MiB of heap at most (measured: 4,096
 * changes of 740-byte pods, each with the pod before it, hold 18 MiB). How long that reaches back
 * depends on the churn: at 100 changes a second (10,000 pods, each changing every 100 s) 40 s, at
 * one a second over an hour.
 */
import type { AnyObject } from '../../core/objects/changes.js';
import type { KindName } from '../../core/objects/kinds.js';

export const DEFAULT_HISTORY_CHANGES = 4096;
export const DEFAULT_HISTORY_BYTES = 8 * 1024 * 1024;
/** What an entry costs beyond its objects' JSON (the entry, its key, the references). */
const ENTRY_OVERHEAD_BYTES = 200;

export interface ObjectChangeRecord {
  /** The store revision of the commit that made the change. */
  revision: number;
  key: string;
  kind: KindName;
  namespace?: string;
  /** The object after the change (resourceVersion = revision); absent: deleted. */
  object?: AnyObject;
  /** The object before the change (with its own resourceVersion); absent: created. */
  previous?: AnyObject;
}

interface Entry extends ObjectChangeRecord {
  bytes: number;
}

export interface ChangeHistoryOptions {
  /** Every change after this revision is kept from the start (the store's revision when watching began). */
  since: number;
  maxChanges?: number;
  maxBytes?: number;
  /** How many bytes an object costs (JSON length by default; tests count otherwise). */
  sizeOf?: (object: AnyObject) => number;
}

function jsonSize(object: AnyObject): number {
  return JSON.stringify(object).length;
}

export class ChangeHistory {
  /** Oldest first; `start` is the first live index (removal from the front without copying). */
  private entries: Entry[] = [];
  private start = 0;
  /** Each key's last change still kept. */
  private readonly lastByKey = new Map<string, Entry>();
  private bytes = 0;
  private sinceRevision: number;
  private latestRevision: number;
  private readonly maxChanges: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (object: AnyObject) => number;

  constructor(opts: ChangeHistoryOptions) {
    this.sinceRevision = opts.since;
    this.latestRevision = opts.since;
    this.maxChanges = opts.maxChanges ?? DEFAULT_HISTORY_CHANGES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_HISTORY_BYTES;
    this.sizeOf = opts.sizeOf ?? jsonSize;
  }

  /** Every change after this revision is kept. */
  since(): number {
    return this.sinceRevision;
  }

  /** The revision of the last commit recorded (or `since` when none). */
  latest(): number {
    return this.latestRevision;
  }

  get size(): { changes: number; bytes: number } {
    return { changes: this.entries.length - this.start, bytes: this.bytes };
  }

  /** Records one commit's changes (revisions only grow), then drops the oldest commits past the bounds. */
  append(revision: number, changes: readonly Omit<ObjectChangeRecord, 'revision'>[]): void {
    if (revision <= this.latestRevision) return;
    this.latestRevision = revision;
    for (const c of changes) {
      const entry: Entry = { ...c, revision, bytes: ENTRY_OVERHEAD_BYTES };
      // The object before is usually the one the key's last change recorded: hold that one, not
      // a second copy. Counted again all the same (it outlives that change when it goes first).
      const last = c.previous !== undefined ? this.lastByKey.get(c.key) : undefined;
      if (last?.object !== undefined && last.object.metadata.resourceVersion === c.previous!.metadata.resourceVersion) entry.previous = last.object;
      entry.bytes += (c.object ? this.sizeOf(c.object) : 0) + (c.previous ? this.sizeOf(c.previous) : 0);
      this.entries.push(entry);
      this.lastByKey.set(c.key, entry);
      this.bytes += entry.bytes;
    }
    this.trim();
  }

  /**
   * Forgets everything up to `revision`: a change whose before and after are not known (written
   * around the ObjectStore) breaks the history, so nobody resumes across it.
   */
  reset(revision: number): void {
    this.entries = [];
    this.start = 0;
    this.bytes = 0;
    this.lastByKey.clear();
    this.sinceRevision = Math.max(this.sinceRevision, revision);
    this.latestRevision = Math.max(this.latestRevision, revision);
  }

  /** The changes after `revision`, oldest first; undefined when some of them are no longer kept. */
  after(revision: number): readonly ObjectChangeRecord[] | undefined {
    if (revision < this.sinceRevision) return undefined;
    let lo = this.start;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo);
  }

  private trim(): void {
    while (this.entries.length - this.start > this.maxChanges || this.bytes > this.maxBytes) {
      // A commit goes whole: a watch from inside it would miss the rest of it.
      const revision = this.entries[this.start]!.revision;
      while (this.start < this.entries.length && this.entries[this.start]!.revision === revision) {
        const gone = this.entries[this.start]!;
        this.bytes -= gone.bytes;
        if (this.lastByKey.get(gone.key) === gone) this.lastByKey.delete(gone.key);
        this.start++;
      }
      this.sinceRevision = revision;
    }
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }
}
