/**
 * The WatchSource of every stored kind: ONE ObjectStore listener records each commit in the
 * ChangeHistory and hands each change to the watchers of its kind (cheap: a map lookup and the
 * watcher's filter per change; each watcher's buffer is the handler's, watch.ts). Lists are read
 * from the store and brought to one exact revision with the history: the latest, or an older one
 * for a continue token or resourceVersionMatch=Exact.
 *
 * Reads of the latest state are shared: the objects of the last read of a kind (and namespace)
 * stay reachable through a WeakRef for as long as anyone still holds them (a watch sending its
 * initial events, a list being written), and the next read of the latest state starts from them,
 * brought forward with the history's changes, instead of reading and decoding every object again:
 * 5 watches of 10,000 pods opened together hold one copy of the pods, not 5. Objects are shared,
 * never changed in place (the whole server treats stored objects as immutable).
 *
 * resourceVersions are store revisions. Too old (before what the history keeps): 410 Expired.
 * Newer than the store: 504 "Too large resource version", as the API server answers.
 */
import type { Clock } from '../../core/clock.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { refOf, type AnyObject } from '../../core/objects/changes.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';
import type { Logger } from '../../core/logger.js';
import { ChangeHistory, type ObjectChangeRecord } from '../objects/change-history.js';
import { keyOf, type ObjectCommit, type ObjectStore } from '../objects/object-store.js';
import { statusOf } from './status.js';
import type { ApiObject, SourceList, SourceListOptions, SourceSelection, WatchEvent, WatchSource } from './watch-source.js';

export interface ObjectFeedOptions {
  objects: ObjectStore;
  clock: Clock;
  logger?: Logger;
  /** History bounds (change-history.ts defaults). */
  historyChanges?: number;
  historyBytes?: number;
}

type Filter = (object: AnyObject) => boolean;

interface Watcher {
  namespace?: string;
  filter?: Filter;
  onEvent: (event: WatchEvent<AnyObject>) => void;
}

/** The objects of one kind (and namespace) at one revision: every object, unfiltered. */
interface SharedRead {
  revision: number;
  items: WeakRef<AnyObject[]>;
}

/** How long a list waits for a commit it already read to be announced (a write finishing). */
const CATCH_UP_MS = 3000;

export function tooOld(version: number, since: number): GroveError {
  return new GroveError(ErrorCode.Expired, `too old resource version: ${version} (${since})`);
}

function tooLarge(version: number, current: number): GroveError {
  return new GroveError(ErrorCode.Timeout, `Too large resource version: ${version}, current: ${current}`, {
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] },
  });
}

function parseVersion(text: string): number {
  if (!/^\d{1,16}$/.test(text)) throw new GroveError(ErrorCode.InvalidArgument, `invalid resource version: ${JSON.stringify(text.slice(0, 64))}`);
  return Number(text);
}

/**
 * The event one change is for a watcher, or none: an object entering the selection is ADDED,
 * leaving it DELETED (with its new state), as Kubernetes does.
 */
export function eventFor(change: ObjectChangeRecord, filter: Filter | undefined, deleted: (change: ObjectChangeRecord) => AnyObject): WatchEvent<AnyObject> | undefined {
  const now = change.object !== undefined && (filter === undefined || filter(change.object));
  const before = change.previous !== undefined && (filter === undefined || filter(change.previous));
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: change.object! };
  if (!before) return undefined;
  return { type: 'DELETED', object: change.object ?? deleted(change) };
}

/** Which read a shared one is: a kind, in one namespace or (empty) all of them. */
function sharedKey(kind: KindName, namespace: string | undefined): string {
  return `${kind}\0${namespace ?? ''}`;
}

export class ObjectFeed {
  private history: ChangeHistory | undefined;
  private readonly watchers = new Map<KindName, Set<Watcher>>();
  private readonly deletedStates = new WeakMap<ObjectChangeRecord, AnyObject>();
  private readonly waiters = new Set<{ revision: number; done: () => void }>();
  /** The last read of the latest state per kind and namespace (sharedKey). */
  private readonly shared = new Map<string, SharedRead>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: ObjectFeedOptions) {}

  /** Starts recording: every change after the store's current revision is kept from now on. */
  start(): void {
    if (this.unsubscribe) return;
    this.history = new ChangeHistory({
      since: this.opts.objects.store.revision(),
      ...(this.opts.historyChanges !== undefined ? { maxChanges: this.opts.historyChanges } : {}),
      ...(this.opts.historyBytes !== undefined ? { maxBytes: this.opts.historyBytes } : {}),
    });
    this.unsubscribe = this.opts.objects.watchChanges((commit) => this.onCommit(commit));
  }

  /** Stops recording; every watch still open is ended (its client watches again elsewhere or later). */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const [, set] of this.watchers) for (const w of set) this.end(w, new GroveError(ErrorCode.ServerUnavailable, 'the server is shutting down'));
    this.watchers.clear();
    for (const w of this.waiters) w.done();
  }

  /** Watchers open now and the history's size (for tests and the bench). */
  stats(): { watchers: number; history: { changes: number; bytes: number; since: number } } {
    let watchers = 0;
    for (const [, set] of this.watchers) watchers += set.size;
    const h = this.started();
    return { watchers, history: { ...h.size, since: h.since() } };
  }

  /** The WatchSource of one kind. */
  source(kind: KindName): WatchSource<AnyObject> {
    return {
      list: (opts) => this.list(kind, opts),
      watch: (from, onEvent, opts) => this.watch(kind, from, onEvent, opts),
      progress: () => String(this.opts.objects.store.revision()),
    };
  }

  private started(): ChangeHistory {
    if (!this.history) throw new GroveError(ErrorCode.ServerUnavailable, 'the object feed is not started');
    return this.history;
  }

  private onCommit(commit: ObjectCommit): void {
    const history = this.started();
    if (commit.unknown.length > 0) {
      // Written around the ObjectStore: nobody can resume across this revision, and watchers of
      // those kinds must list again.
      history.reset(commit.revision);
      this.shared.clear();
      this.opts.logger?.warn({ revision: commit.revision, keys: commit.unknown.slice(0, 5) }, 'objects changed outside the object store: watches of their kinds restart');
      const kinds = new Set(commit.unknown.map((key) => key.slice(0, key.indexOf('/'))));
      for (const [kind, set] of this.watchers) {
        if (!kinds.has(KINDS[kind].plural)) continue;
        for (const w of set) this.end(w, tooOld(commit.revision - 1, commit.revision));
        this.watchers.delete(kind);
      }
    } else {
      history.append(commit.revision, commit.writes);
    }
    for (const write of commit.writes) {
      const set = this.watchers.get(write.kind);
      if (!set || set.size === 0) continue;
      const change: ObjectChangeRecord = { ...write, revision: commit.revision };
      for (const w of set) this.deliver(w, change);
    }
    for (const waiter of this.waiters) if (waiter.revision <= commit.revision) waiter.done();
  }

  private deliver(w: Watcher, change: ObjectChangeRecord): void {
    if (w.namespace !== undefined && change.namespace !== w.namespace) return;
    const event = eventFor(change, w.filter, (c) => this.deletedState(c));
    if (!event) return;
    try {
      w.onEvent(event);
    } catch (err) {
      // One broken watcher never stops the others.
      this.opts.logger?.error({ err }, 'a watcher failed; it is ended');
      this.remove(w);
    }
  }

  /** A deleted object's last state with the deletion's resourceVersion (one copy per change). */
  private deletedState(change: ObjectChangeRecord): AnyObject {
    let state = this.deletedStates.get(change);
    if (!state) {
      const last = change.previous!;
      state = { ...last, metadata: { ...last.metadata, resourceVersion: String(change.revision) } } as AnyObject;
      this.deletedStates.set(change, state);
    }
    return state;
  }

  /** Ends a watch with an ERROR event (a Status); the watcher is removed by the caller. */
  private end(w: Watcher, err: GroveError): void {
    try {
      w.onEvent({ type: 'ERROR', object: statusOf(err) as unknown as ApiObject });
    } catch {
      // Ending anyway.
    }
  }

  private remove(w: Watcher): void {
    for (const [, set] of this.watchers) set.delete(w);
  }

  private watch(kind: KindName, from: string | undefined, onEvent: (event: WatchEvent<AnyObject>) => void, opts: SourceSelection<AnyObject>): () => void {
    const history = this.started();
    const w: Watcher = { onEvent, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), ...(opts.filter ? { filter: opts.filter } : {}) };
    if (from !== undefined) {
      const version = parseVersion(from);
      const current = this.opts.objects.store.revision();
      if (version > current) throw tooLarge(version, current);
      const changes = history.after(version);
      if (!changes) throw tooOld(version, history.since());
      for (const change of changes) if (change.kind === kind) this.deliver(w, change);
    }
    let set = this.watchers.get(kind);
    if (!set) this.watchers.set(kind, (set = new Set()));
    set.add(w);
    return () => this.remove(w);
  }

  private async list(kind: KindName, opts: SourceListOptions<AnyObject>): Promise<SourceList<AnyObject>> {
    const history = this.started();
    const store = this.opts.objects.store;
    let wanted: number | undefined;
    if (opts.resourceVersion !== undefined) {
      const version = parseVersion(opts.resourceVersion);
      if (version > store.revision()) throw tooLarge(version, store.revision());
      if (opts.match === 'Exact') wanted = version;
    }
    const key = sharedKey(kind, opts.namespace);
    if (wanted === undefined) {
      const reused = this.reuse(key);
      if (reused) return { resourceVersion: String(reused.revision), items: opts.filter ? reused.items.filter(opts.filter) : reused.items };
    }
    // The list is made exact at the revision before the read: the read may see later commits
    // (LevelDB's snapshot is taken inside it), which the history undoes.
    const before = store.revision();
    const listed = await this.opts.objects.list(kind, opts.namespace !== undefined ? { namespace: opts.namespace } : {});
    // A write LevelDB finished but has not announced yet shows in the list: wait for it, so the
    // history explains every state the list saw. (A deletion in that instant cannot be seen: the
    // watch from this list then reports it DELETED, which clients take as it is.)
    const newest = listed.items.reduce((max, o) => Math.max(max, Number(o.metadata.resourceVersion)), 0);
    if (newest > store.revision()) await this.reach(newest);
    const at = wanted ?? before;
    const changes = history.after(at);
    if (!changes) throw tooOld(at, history.since());
    // The state at `at`: the list, but each key changed since as it was before its first change.
    const then = new Map<string, AnyObject | undefined>();
    for (const c of changes) {
      if (c.kind !== kind || (opts.namespace !== undefined && c.namespace !== opts.namespace)) continue;
      if (!then.has(c.key)) then.set(c.key, c.previous);
    }
    const items: AnyObject[] = [];
    for (const o of listed.items as AnyObject[]) if (!then.has(keyOf(refOf(o)))) items.push(o);
    for (const [, o] of then) if (o !== undefined) items.push(o);
    if (wanted === undefined) this.share(key, at, items);
    return { resourceVersion: String(at), items: opts.filter ? items.filter(opts.filter) : items };
  }

  private share(key: string, revision: number, items: AnyObject[]): void {
    this.shared.set(key, { revision, items: new WeakRef(items) });
  }

  /**
   * The latest state from the last shared read, when its objects are still held and the history
   * has every change since (the changes of its kind and namespace applied: each changed key as
   * it now is, or gone); undefined when a read is needed. The store announces every commit as it
   * makes it (its revision and its watchers move together), so the history brings the read to
   * the store's revision exactly: commits after history.latest() changed no object.
   * Brought forward, it is shared in turn.
   */
  private reuse(key: string): { revision: number; items: AnyObject[] } | undefined {
    const read = this.shared.get(key);
    const items = read?.items.deref();
    const changes = read && items ? this.started().after(read.revision) : undefined;
    if (!read || !items || !changes) {
      this.shared.delete(key);
      return undefined;
    }
    const revision = this.opts.objects.store.revision();
    const now = new Map<string, AnyObject | undefined>();
    for (const c of changes) if (sharedKey(c.kind, c.namespace) === key || sharedKey(c.kind, undefined) === key) now.set(c.key, c.object);
    let forward = items;
    if (now.size > 0) {
      forward = [];
      for (const o of items) if (!now.has(keyOf(refOf(o)))) forward.push(o);
      for (const [, o] of now) if (o !== undefined) forward.push(o);
    }
    if (revision !== read.revision) this.share(key, revision, forward);
    return { revision, items: forward };
  }

  private reach(revision: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = {
        revision,
        done: () => {
          this.opts.clock.clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = this.opts.clock.setTimeout(waiter.done, CATCH_UP_MS);
      this.waiters.add(waiter);
    });
  }
}

