/**
 * `?watch=1` on a list path: a chunked JSON stream of watch events, one `{"type":…,"object":…}`
 * per line, as the API server streams them. Where it starts (Kubernetes' resourceVersion rules):
 *   - no resourceVersion, or "0": ADDED for every selected object now, then every change;
 *   - a resourceVersion: every change after it (one older than the server keeps: a single
 *     ERROR event with the 410 Expired Status, and the client lists again);
 *   - sendInitialEvents=true (resourceVersionMatch=NotOlderThan): the ADDED events, then a
 *     BOOKMARK marked `k8s.io/initial-events-end` when bookmarks are allowed, then the changes.
 * It ends after timeoutSeconds (default: a random 30 to 60 minutes, like the API server, so
 * clients do not all come back at once; never longer than 60 minutes), when the client goes away,
 * or when the client reads so slowly that MAX_QUEUED_EVENTS wait for it: then the stream is cut
 * (the client watches again from its last version) and memory never grows.
 * allowWatchBookmarks=true adds a BOOKMARK every minute and one just before the timeout.
 */
import type { ServerResponse } from 'node:http';
import { every, type Clock, type TimerHandle } from '../../core/clock.js';
import { isGroveError, ErrorCode } from '../../core/errors.js';
import type { RequestContext } from '../http.js';
import type { ListOptions } from './list-options.js';
import { statusOf } from './status.js';
import type { ApiObject, SourceSelection, WatchEvent, WatchSource } from './watch-source.js';

export interface WatchLimits {
  /** Events waiting for a client that reads too slowly before its watch is cut. */
  maxQueuedEvents: number;
  bookmarkIntervalMs: number;
  /** The default timeout is random between these; a client's timeoutSeconds is capped at the larger. */
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  // As many as one commit may make (MAX_CHANGES_PER_COMMIT): a big apply alone cuts nobody. A
  // queued event costs about 100 bytes; its object is the history's.
  maxQueuedEvents: 10_000,
  bookmarkIntervalMs: 60_000,
  minTimeoutMs: 30 * 60_000,
  maxTimeoutMs: 60 * 60_000,
};

/** What the watch handler needs beyond the request: time, chance, limits and the JSON cache. */
export interface WatchDeps {
  clock: Clock;
  random?: () => number;
  limits?: Partial<WatchLimits>;
  json?: JsonCache;
}

/** What a watched resource is: its source, how its objects are served, what its bookmarks say. */
export interface WatchedResource {
  source: WatchSource;
  apiVersion: string;
  kind: string;
  /** An object as the API serves it (the server's in-memory additions); the object itself by default. */
  present?: (object: ApiObject) => unknown;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
/** How long a cut stream's client may take to read what was already written. */
const CUT_GRACE_MS = 30_000;

/**
 * The JSON of recently sent objects: every watcher of a change sends the same object, so it is
 * serialized once. Small (the objects of the last few changes, at most `maxChars` of JSON),
 * keyed by the object itself.
 */
export class JsonCache {
  private readonly entries = new Map<object, string>();
  private chars = 0;

  constructor(
    private readonly size = 256,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  json(object: unknown): string {
    if (typeof object !== 'object' || object === null) return JSON.stringify(object);
    let text = this.entries.get(object);
    if (text === undefined) {
      text = JSON.stringify(object);
      if (text.length > this.maxChars / 4) return text;
      this.entries.set(object, text);
      this.chars += text.length;
      while (this.entries.size > this.size || this.chars > this.maxChars) {
        const [oldest, oldText] = this.entries.entries().next().value!;
        this.entries.delete(oldest);
        this.chars -= oldText.length;
      }
    }
    return text;
  }
}

/** The timeout of one watch in ms: the client's (capped), or random in Kubernetes' default range. */
export function watchTimeoutMs(timeoutSeconds: number | undefined, limits: WatchLimits, random: () => number): number {
  if (timeoutSeconds !== undefined) return Math.min(timeoutSeconds * 1000, limits.maxTimeoutMs);
  return limits.minTimeoutMs + Math.floor(random() * (limits.maxTimeoutMs - limits.minTimeoutMs));
}

/**
 * One watch's response: initial events are written as the socket takes them; live events queue
 * behind them (at most maxQueuedEvents, else the stream is cut).
 */
export class WatchStream {
  /**
   * The objects of the initial state, each sent as ADDED, then `initialEnd` (a bookmark): the
   * listed array itself, so that the source's shared read stays reachable (and shared with the
   * next watch) exactly as long as a stream is still sending it (object-watch-source.ts).
   */
  private initial: readonly ApiObject[] = [];
  private initialEnd: WatchEvent | undefined;
  private next = 0;
  /** Live events; `head` is the next to write (taken from the front without copying). */
  private queue: WatchEvent[] = [];
  private head = 0;
  private opened = false;
  private ended = false;
  private lastVersion: string | undefined;
  private readonly onDrain = (): void => this.pump();

  constructor(
    private readonly res: ServerResponse,
    private readonly encode: (event: WatchEvent) => string,
    private readonly maxQueued: number,
    private readonly clock: Clock,
    private readonly onEnd: () => void,
  ) {
    res.on('drain', this.onDrain);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The resourceVersion of the last event taken (for bookmarks of sources without progress()). */
  get version(): string | undefined {
    return this.lastVersion;
  }

  /** Forgets the stream before anything was sent: the router answers the failure. */
  discard(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.off('drain', this.onDrain);
    this.onEnd();
  }

  /** Sends the headers; writing starts. */
  open(): void {
    if (this.opened || this.ended) return;
    this.opened = true;
    if (this.res.destroyed) return;
    this.res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'transfer-encoding': 'chunked' });
    this.res.flushHeaders();
    this.pump();
  }

  /** The objects of the initial state (ADDED each), and the event after them, sent before anything pushed. */
  setInitial(objects: readonly ApiObject[], end?: WatchEvent): void {
    this.initial = objects;
    this.initialEnd = end;
    this.next = 0;
    // The last one counts, as if each had been taken in turn.
    const last = objects[objects.length - 1];
    if (last) this.noteVersion({ type: 'ADDED', object: last });
    if (end) this.noteVersion(end);
  }

  push(event: WatchEvent): void {
    if (this.ended) return;
    this.noteVersion(event);
    this.queue.push(event);
    // Before opening, the queue holds the changes the history replays (bounded by the history).
    if (this.opened && this.queue.length - this.head > this.maxQueued) {
      // Cut, not waited for: the client watches again from its last version (or lists again).
      this.end(true);
      return;
    }
    if (this.opened) this.pump();
  }

  /**
   * Ends after what is queued has been written. `cut`: the queue is dropped (the client resumes
   * from the last event it read, which the history still has, or lists again); a client that
   * reads nothing at all loses its connection after CUT_GRACE_MS.
   */
  end(cut = false): void {
    if (this.ended) return;
    this.ended = true;
    this.res.off('drain', this.onDrain);
    this.onEnd();
    if (cut) {
      this.queue = [];
      this.head = 0;
      this.initial = [];
      this.initialEnd = undefined;
      if (!this.opened || this.res.destroyed) {
        this.res.destroy();
        return;
      }
      const timer = this.clock.setTimeout(() => this.res.destroy(), CUT_GRACE_MS);
      this.res.once('close', () => this.clock.clearTimeout(timer));
      this.res.end();
      return;
    }
    if (!this.opened) this.open();
    this.flush();
    this.res.end();
  }

  private noteVersion(event: WatchEvent): void {
    const v = event.object.metadata?.resourceVersion;
    if (event.type !== 'ERROR' && typeof v === 'string') this.lastVersion = v;
  }

  /** Writes while the socket takes it; the rest waits for 'drain'. */
  private pump(): void {
    if (!this.opened || this.res.destroyed) return;
    while (!this.res.writableNeedDrain) {
      const event = this.take();
      if (!event) return;
      this.res.write(this.encode(event));
      if (event.type === 'ERROR') {
        this.end();
        return;
      }
    }
  }

  private flush(): void {
    for (let event = this.take(); event; event = this.take()) this.res.write(this.encode(event));
  }

  private take(): WatchEvent | undefined {
    if (this.next < this.initial.length) return { type: 'ADDED', object: this.initial[this.next++]! };
    if (this.next > 0) {
      this.initial = [];
      this.next = 0;
    }
    if (this.initialEnd) {
      const end = this.initialEnd;
      this.initialEnd = undefined;
      return end;
    }
    if (this.head >= this.queue.length) {
      if (this.head > 0) this.queue = [];
      this.head = 0;
      return undefined;
    }
    const event = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as WatchEvent;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return event;
  }
}

function bookmark(resource: WatchedResource, version: string, initialEventsEnd = false): WatchEvent {
  const metadata: ApiObject['metadata'] = { resourceVersion: version, ...(initialEventsEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) };
  return { type: 'BOOKMARK', object: { apiVersion: resource.apiVersion, kind: resource.kind, metadata } };
}

/**
 * Serves a watch; resolves when it ends. Failures before the first event (bad versions, 504 too
 * large) throw, so the router answers them with a Status; a version too old becomes the ERROR
 * event, as the API server's watch cache answers it.
 */
export async function serveWatch(ctx: RequestContext, resource: WatchedResource, options: ListOptions, selection: SourceSelection, deps: WatchDeps): Promise<void> {
  const limits = { ...DEFAULT_WATCH_LIMITS, ...deps.limits };
  const json = deps.json ?? new JsonCache();
  const present = resource.present ?? ((o: ApiObject) => o);
  const encode = (e: WatchEvent): string => {
    const object = e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED' ? present(e.object) : e.object;
    return `{"type":"${e.type}","object":${json.json(object)}}\n`;
  };
  const { source } = resource;
  let from = options.resourceVersion === '0' ? undefined : options.resourceVersion;
  // No version (or "0"), or sendInitialEvents: the objects as they are first, then the changes.
  let initial: readonly ApiObject[] = [];
  let initialEnd: WatchEvent | undefined;
  if (options.sendInitialEvents ?? from === undefined) {
    const listed = await source.list({ ...selection, ...(from !== undefined ? { resourceVersion: from, match: 'NotOlderThan' as const } : {}) });
    initial = listed.items;
    if (options.sendInitialEvents === true && options.allowWatchBookmarks) initialEnd = bookmark(resource, listed.resourceVersion, true);
    from = listed.resourceVersion;
  }
  if (ctx.signal.aborted) return;
  const timers: (() => void)[] = [];
  let unsubscribe: (() => void) | undefined;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const stream = new WatchStream(ctx.res, encode, limits.maxQueuedEvents, deps.clock, () => {
    unsubscribe?.();
    for (const stop of timers) stop();
    finished();
  });
  stream.setInitial(initial, initialEnd);
  const abort = (): void => stream.end(true);
  ctx.signal.addEventListener('abort', abort, { once: true });
  timers.push(() => ctx.signal.removeEventListener('abort', abort));
  try {
    unsubscribe = source.watch(from, (event) => stream.push(event), selection);
  } catch (err) {
    if (!isGroveError(err, ErrorCode.Expired)) {
      stream.discard();
      throw err;
    }
    stream.push({ type: 'ERROR', object: statusOf(err) as unknown as ApiObject });
  }
  if (stream.isEnded) return done;

  const timeout: TimerHandle = deps.clock.setTimeout(() => {
    if (options.allowWatchBookmarks) stream.push(bookmark(resource, source.progress?.() ?? stream.version ?? from ?? '0'));
    stream.end();
  }, watchTimeoutMs(options.timeoutSeconds, limits, deps.random ?? Math.random));
  timers.push(() => deps.clock.clearTimeout(timeout));
  if (options.allowWatchBookmarks) {
    timers.push(every(deps.clock, limits.bookmarkIntervalMs, () => stream.push(bookmark(resource, source.progress?.() ?? stream.version ?? from ?? '0'))));
  }
  stream.open();
  return done;
}
