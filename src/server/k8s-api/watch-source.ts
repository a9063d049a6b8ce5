/**
 * The contract between a watchable resource and the list/watch handler (watch.ts): the handler
 * parses and validates the query (list-options.ts), pages lists (continue-token.ts), streams
 * watch events with bounded buffers, timeouts and bookmarks; a source only knows its objects.
 *
 * Sources: the ObjectStore (object-watch-source.ts, every stored kind) and the Event store
 * (src/server/events). A resourceVersion is opaque to clients and to the handler: each source
 * parses its own.
 */

/** Any object the API serves: apiVersion, kind and metadata (name, namespace, labels …). */
export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * One watch event as Kubernetes streams it. `object`: the object as it now is (DELETED: its last
 * state, with the deletion's resourceVersion); BOOKMARK: only apiVersion, kind and
 * metadata.resourceVersion (and annotations); ERROR: a Status (status.ts), after which the watch ends.
 */
export interface WatchEvent<T extends ApiObject = ApiObject> {
  type: WatchEventType;
  object: T | ApiObject;
}

/** Which objects a list or watch concerns. */
export interface SourceSelection<T extends ApiObject = ApiObject> {
  /** Only this namespace's objects (absent: every namespace, or a cluster-scoped resource). */
  namespace?: string;
  /** Only the objects this accepts (the label and field selectors, built by the handler). */
  filter?: (object: T) => boolean;
}

export interface SourceListOptions<T extends ApiObject = ApiObject> extends SourceSelection<T> {
  /**
   * Absent: the latest state. With `match` Exact: the objects exactly as they were at this
   * resourceVersion (continue tokens and resourceVersionMatch=Exact); NotOlderThan: any state at
   * least this recent. A version the source no longer knows: GroveError Expired (410); one newer
   * than the source has: GroveError Timeout ("Too large resource version", 504).
   */
  resourceVersion?: string;
  match?: 'Exact' | 'NotOlderThan';
}

export interface SourceList<T extends ApiObject = ApiObject> {
  /** The version the list is exactly the state of: a watch from it misses nothing. */
  resourceVersion: string;
  /** Every selected object (the handler sorts by namespace and name and pages). */
  items: T[];
}

export interface WatchSource<T extends ApiObject = ApiObject> {
  list(opts: SourceListOptions<T>): Promise<SourceList<T>>;
  /**
   * Calls `onEvent` for every change after `fromResourceVersion` (absent: from now on) to the
   * selected objects: first those the source still keeps (synchronously, before watch returns),
   * then each as it happens. An object that stops matching `filter` is DELETED for this watcher
   * (with its new state), one that starts matching is ADDED, as Kubernetes does.
   * Throws GroveError Expired (410, "too old resource version") when the source no longer keeps
   * every change after `fromResourceVersion`: the handler turns that into an ERROR event and the
   * client lists again. An ERROR event sent later ends the watch. Returns: stop watching.
   */
  watch(fromResourceVersion: string | undefined, onEvent: (event: WatchEvent<T>) => void, opts: SourceSelection<T>): () => void;
  /**
   * The version up to which every change has been handed to watchers: what a BOOKMARK carries.
   * Optional: without it the handler's bookmarks carry the last version it saw in an event.
   */
  progress?(): string;
}
