/**
 * The Store interface: what the server keeps durably (and what an agent keeps of its last
 * target). Implementations: MemoryStore (tests, hollow nodes) and LevelStore (LevelDB, CBOR
 * values). One contract suite (test/contract/store.contract.ts) runs against both.
 *
 * Keys are strings like "apps/web", "nodes/pi-1", "pods/web-abc12"; values are plain objects.
 */

export interface StoreEntry<T = unknown> {
  key: string;
  value: T;
  /** Store revision at which this key was last written. */
  revision: number;
}

export type StoreOp = { type: 'put'; key: string; value: unknown } | { type: 'delete'; key: string };

export interface StoreChange {
  revision: number;
  ops: StoreOp[];
}

/** Every entry of a store and the revision they belong to, read at one instant. */
export interface StoreSnapshot {
  revision: number;
  entries: StoreEntry[];
}

export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;
  get<T>(key: string): Promise<StoreEntry<T> | undefined>;
  /** All entries whose key starts with prefix, in key order. */
  list<T>(prefix: string): Promise<StoreEntry<T>[]>;
  /**
   * Applies ops atomically and durably (LevelDB: one synced batch) and bumps the revision by
   * one. Ops that change nothing (same value, deleting an absent key) are dropped; when all are
   * dropped nothing is written and the current revision is returned (no flash write).
   */
  commit(ops: StoreOp[]): Promise<number>;
  /** The current revision (0 for an empty store). */
  revision(): number;
  /**
   * A consistent copy of the whole store (for backups): every entry and the revision as of one
   * instant, even while commits go on.
   */
  snapshot(): Promise<StoreSnapshot>;
  /**
   * Makes the store hold exactly `entries` (every other key is deleted) in one atomic commit,
   * with the same no-op rules as commit(). The new revision is above both the current one and
   * `minRevision`, so revisions never go backwards (agents ignore targets that are not newer).
   */
  replaceAll(entries: { key: string; value: unknown }[], minRevision?: number): Promise<number>;
  /**
   * Makes the revision greater than `min` (one above it) when it is not already, and returns
   * the revision; no entry changes and watchers are not called. For a server that learns a
   * node has applied a revision its store no longer holds (revisions never go backwards).
   */
  advanceRevision(min: number): Promise<number>;
  /** Called after every commit that changed something, in revision order. Returns unsubscribe. */
  watch(listener: (change: StoreChange) => void): () => void;
}
