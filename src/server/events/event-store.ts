/**
 * Events in memory: bounded by count, bytes and age, aggregated as Kubernetes' event recorder
 * does (the same object, reason, message and source again: count + 1 and a new lastTimestamp,
 * one object), and served through the watch contract (k8s-api/watch-source.ts), so `kubectl get
 * events [-w]` and `kubectl describe` read them through the same list/watch handler as objects.
 *
 * Nothing here writes to the disk: event-snapshot.ts saves the newest ones within a flash budget.
 *
 * resourceVersions are this store's own counter, started from the clock at construction so a
 * version from before a restart is older than every version the new process hands out (a watch
 * from it gets 410 and the client lists again). A removal (too many, too large, too old) is a
 * DELETED event for watchers and moves the floor below which watches cannot resume.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { SourceList, SourceListOptions, SourceSelection, WatchEvent, WatchSource } from '../k8s-api/watch-source.js';
import { objectTime } from '../objects/object-store.js';
import { aggregationKey, boundedInput, eventNamespace, type CoreEvent, type EventInput } from './event-types.js';

/** Kubernetes' API server keeps events one hour (--event-ttl). */
export const DEFAULT_EVENT_TTL_MS = 60 * 60_000;
export const DEFAULT_MAX_EVENTS = 1000;
/** What the events may take in memory, measured as their JSON. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

export interface EventStoreOptions {
  clock: Clock;
  maxEvents?: number;
  maxBytes?: number;
  ttlMs?: number;
  /** Event uids (random UUIDs by default). */
  newUid?: () => string;
  /** The name of this server in reportingInstance. */
  instance?: string;
}

interface Entry {
  key: string;
  event: CoreEvent;
  bytes: number;
  /** The version the event was created at: a watch from before it sees ADDED, from after MODIFIED. */
  createdRv: number;
  rv: number;
}

interface Watcher {
  selection: SourceSelection<CoreEvent>;
  onEvent: (e: WatchEvent<CoreEvent>) => void;
}

const sizeOf = (e: CoreEvent): number => JSON.stringify(e).length;

function parseVersion(rv: string): number {
  if (!/^\d{1,16}$/.test(rv)) throw new GroveError(ErrorCode.InvalidArgument, `invalid resourceVersion ${JSON.stringify(rv.slice(0, 40))}: expected a resourceVersion this server gave out`);
  return Number(rv);
}

export class EventStore implements WatchSource<CoreEvent> {
  /** By aggregation key, least recently updated first (a Map keeps insertion order; updates re-insert). */
  private readonly entries = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  private readonly watchers = new Set<Watcher>();
  private bytes = 0;
  private rv: number;
  /** Every change after this version is still known (as the current state of what changed). */
  private floor: number;
  private seq = 0;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;

  constructor(private readonly opts: EventStoreOptions) {
    this.maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.ttlMs = opts.ttlMs ?? DEFAULT_EVENT_TTL_MS;
    this.rv = opts.clock.now();
    this.floor = this.rv;
  }

  /** The current version (changes with every record, repeat and removal). */
  revision(): number {
    return this.rv;
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Records what happened: new events, or repeats of kept ones (count + 1). */
  record(inputs: readonly EventInput[]): void {
    if (inputs.length === 0) return;
    const now = this.opts.clock.now();
    this.expire(now);
    for (const raw of inputs) {
      const input = boundedInput(raw);
      const key = aggregationKey(input);
      const old = this.entries.get(key);
      const rv = ++this.rv;
      const at = objectTime(now);
      if (old) {
        this.entries.delete(key);
        const event: CoreEvent = { ...old.event, count: old.event.count + 1, lastTimestamp: at, metadata: { ...old.event.metadata, resourceVersion: String(rv) } };
        this.put({ ...old, event, rv, bytes: sizeOf(event) }, old.bytes);
        this.notify({ type: 'MODIFIED', object: event });
        continue;
      }
      const event = this.newEvent(input, now, rv);
      this.put({ key, event, bytes: sizeOf(event), createdRv: rv, rv }, 0);
      this.notify({ type: 'ADDED', object: event });
    }
    this.trim();
  }

  /** Events saved by a previous process (event-snapshot.ts): kept as they were, with fresh versions. */
  restore(events: readonly CoreEvent[]): void {
    const now = this.opts.clock.now();
    for (const saved of events) {
      if (Date.parse(saved.lastTimestamp) < now - this.ttlMs) continue;
      const key = aggregationKey({ involved: saved.involvedObject, type: saved.type, reason: saved.reason, message: saved.message, component: saved.source.component, ...(saved.source.host !== undefined ? { host: saved.source.host } : {}) });
      if (this.entries.has(key)) continue;
      const rv = ++this.rv;
      const event: CoreEvent = { ...saved, metadata: { ...saved.metadata, resourceVersion: String(rv) } };
      this.put({ key, event, bytes: sizeOf(event), createdRv: rv, rv }, 0);
    }
    this.trim();
  }

  /** Every kept event, least recently updated first. */
  all(): CoreEvent[] {
    this.expire(this.opts.clock.now());
    return [...this.entries.values()].map((e) => e.event);
  }

  get(namespace: string, name: string): CoreEvent | undefined {
    this.expire(this.opts.clock.now());
    return this.byName.get(`${namespace}/${name}`)?.event;
  }

  async list(opts: SourceListOptions<CoreEvent>): Promise<SourceList<CoreEvent>> {
    this.expire(this.opts.clock.now());
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      const asked = parseVersion(opts.resourceVersion);
      if (asked > this.rv) throw new GroveError(ErrorCode.Timeout, `Too large resource version: ${asked}, current: ${this.rv}`);
      // Only the latest state is kept: an exact older one is gone.
      if (opts.match === 'Exact' && asked !== this.rv) throw this.expired(asked);
    }
    const items = [...this.entries.values()].map((e) => e.event).filter((e) => selected(e, opts));
    return { resourceVersion: String(this.rv), items };
  }

  watch(fromResourceVersion: string | undefined, onEvent: (event: WatchEvent<CoreEvent>) => void, opts: SourceSelection<CoreEvent>): () => void {
    this.expire(this.opts.clock.now());
    if (fromResourceVersion !== undefined && fromResourceVersion !== '' && fromResourceVersion !== '0') {
      const from = parseVersion(fromResourceVersion);
      if (from < this.floor) throw this.expired(from);
      const changed = [...this.entries.values()].filter((e) => e.rv > from).sort((a, b) => a.rv - b.rv);
      for (const e of changed) if (selected(e.event, opts)) onEvent({ type: e.createdRv > from ? 'ADDED' : 'MODIFIED', object: e.event });
    } else if (fromResourceVersion === '0') {
      // "0": any state, then changes (Kubernetes' synthetic ADDED for what exists).
      for (const e of this.entries.values()) if (selected(e.event, opts)) onEvent({ type: 'ADDED', object: e.event });
    }
    const watcher: Watcher = { selection: opts, onEvent };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  progress(): string {
    return String(this.rv);
  }

  private expired(asked: number): GroveError {
    return new GroveError(ErrorCode.Expired, `too old resource version: ${asked} (${this.floor})`);
  }

  private newEvent(input: EventInput, now: number, rv: number): CoreEvent {
    const at = objectTime(now);
    // Kubernetes names events <object>.<nanoseconds in hex>; the sequence keeps names apart within one millisecond.
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${input.involved.name}.${nanos.toString(16)}`, namespace: eventNamespace(input.involved), uid: this.opts.newUid?.() ?? randomUUID(), resourceVersion: String(rv), creationTimestamp: at },
      involvedObject: input.involved,
      reason: input.reason,
      message: input.message,
      source: { component: input.component, ...(input.host !== undefined ? { host: input.host } : {}) },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: input.type,
      eventTime: null,
      reportingComponent: input.component,
      reportingInstance: input.host ?? this.opts.instance ?? 'grove-server',
    };
  }

  private put(entry: Entry, replacedBytes: number): void {
    this.entries.set(entry.key, entry);
    this.byName.set(`${entry.event.metadata.namespace}/${entry.event.metadata.name}`, entry);
    this.bytes += entry.bytes - replacedBytes;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.byName.delete(`${entry.event.metadata.namespace}/${entry.event.metadata.name}`);
    this.bytes -= entry.bytes;
    const rv = ++this.rv;
    this.floor = rv;
    this.notify({ type: 'DELETED', object: { ...entry.event, metadata: { ...entry.event.metadata, resourceVersion: String(rv) } } });
  }

  /** Oldest first while over the count or the bytes. */
  private trim(): void {
    for (const entry of this.entries.values()) {
      if (this.entries.size <= this.maxEvents && this.bytes <= this.maxBytes) return;
      this.remove(entry);
    }
  }

  /** Events not repeated within the TTL go (they are at the front: least recently updated). */
  private expire(now: number): void {
    for (const entry of this.entries.values()) {
      if (Date.parse(entry.event.lastTimestamp) >= now - this.ttlMs) return;
      this.remove(entry);
    }
  }

  private notify(event: WatchEvent<CoreEvent>): void {
    for (const w of this.watchers) if (selected(event.object as CoreEvent, w.selection)) w.onEvent(event);
  }
}

function selected(e: CoreEvent, s: SourceSelection<CoreEvent>): boolean {
  return (s.namespace === undefined || e.metadata.namespace === s.namespace) && (s.filter === undefined || s.filter(e));
}
