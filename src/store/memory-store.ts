/**
 * In-memory Store for tests and hollow nodes. It is also the reference for the commit rules
 * both implementations share (key syntax, collapsing ops per key, no-op detection), which
 * LevelStore imports from here so the two cannot drift apart.
 */
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store, StoreChange, StoreEntry, StoreOp, StoreSnapshot } from './store.js';

export const MAX_KEY_LENGTH = 1024;

/**
 * Keys and prefixes are printable ASCII: that keeps LevelDB's byte order equal to JS string
 * order, lets `prefix + '\xff'` bound a prefix scan, and leaves '\x00…' free for metadata.
 */
const KEY_RE = /^[\x20-\x7e]*$/;

export function validateKey(key: unknown, what: 'key' | 'prefix' = 'key'): string {
  if (typeof key !== 'string' || !KEY_RE.test(key) || key.length > MAX_KEY_LENGTH || (what === 'key' && key === '')) {
    const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 80)) : typeof key;
    throw new GroveError(
      ErrorCode.InvalidArgument,
      `invalid store ${what} ${shown}: use 1-${MAX_KEY_LENGTH} printable ASCII characters`,
    );
  }
  return key;
}

/** The ops that turn a store holding `currentKeys` into one holding exactly `entries`. */
export function replacementOps(currentKeys: Iterable<string>, entries: readonly { key: string; value: unknown }[]): StoreOp[] {
  if (!Array.isArray(entries)) throw new GroveError(ErrorCode.InvalidArgument, 'store replaceAll expects an array of entries');
  const wanted = new Set(entries.map((e) => e?.key));
  const deletes: StoreOp[] = [...currentKeys].filter((k) => !wanted.has(k)).map((key) => ({ type: 'delete', key }));
  return [...deletes, ...entries.map((e): StoreOp => ({ type: 'put', key: e?.key, value: e?.value }))];
}

/** A requested floor: a whole number whose successor is still an exact integer (what every record's revision must be). */
export function checkMinRevision(minRevision: unknown): number {
  if (!Number.isSafeInteger(minRevision) || (minRevision as number) < 0 || (minRevision as number) >= Number.MAX_SAFE_INTEGER) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid minimum revision ${String(minRevision)}`);
  }
  return minRevision as number;
}

/** The revision a commit gets: one above the current revision, and above a requested floor. */
export function nextRevision(current: number, minRevision = 0): number {
  return Math.max(current, checkMinRevision(minRevision)) + 1;
}

/** The last op for each key, in order of each key's first appearance. */
export function collapseOps(ops: readonly StoreOp[]): StoreOp[] {
  if (!Array.isArray(ops)) throw new GroveError(ErrorCode.InvalidArgument, 'store commit expects an array of ops');
  const byKey = new Map<string, StoreOp>();
  for (const op of ops) {
    validateKey(op?.key);
    if (op.type === 'put') {
      if (op.value === undefined) throw new GroveError(ErrorCode.InvalidArgument, `store put of ${op.key}: value is undefined`);
      byKey.set(op.key, { type: 'put', key: op.key, value: op.value });
    } else if (op.type === 'delete') {
      byKey.set(op.key, { type: 'delete', key: op.key });
    } else {
      throw new GroveError(ErrorCode.InvalidArgument, `store op on ${op.key}: unknown type ${String((op as { type: unknown }).type)}`);
    }
  }
  return [...byKey.values()];
}

/**
 * Calls each listener with its own copy of the change, so one listener cannot alter what the
 * next sees or what the store holds; a throwing listener is logged and does not stop the rest
 * (the commit already happened).
 */
export function notifyWatchers(
  listeners: Iterable<(change: StoreChange) => void>,
  change: StoreChange,
  logger: Logger | undefined,
): void {
  for (const listener of [...listeners]) {
    try {
      listener(structuredClone(change));
    } catch (err) {
      logger?.error({ err, revision: change.revision }, `store watcher failed: ${errorMessage(err)}`);
    }
  }
}

/**
 * Adds a watcher; the returned function removes it. Each call wraps the listener, so the same
 * function can subscribe twice and unsubscribe each independently.
 */
export function addWatcher(listeners: Set<(change: StoreChange) => void>, listener: (change: StoreChange) => void): () => void {
  const entry = (change: StoreChange): void => listener(change);
  listeners.add(entry);
  return () => {
    listeners.delete(entry);
  };
}

function cloneValue(key: string, value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch (err) {
    throw new GroveError(ErrorCode.InvalidArgument, `store put of ${key}: value cannot be copied (${errorMessage(err)})`, {
      cause: err,
    });
  }
}

interface Stored {
  value: unknown;
  revision: number;
}

export interface MemoryStoreOptions {
  logger?: Logger;
}

export class MemoryStore implements Store {
  readonly #entries = new Map<string, Stored>();
  readonly #listeners = new Set<(change: StoreChange) => void>();
  readonly #logger: Logger | undefined;
  #revision = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#logger = options.logger;
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async get<T>(key: string): Promise<StoreEntry<T> | undefined> {
    validateKey(key);
    const stored = this.#entries.get(key);
    return stored && { key, value: structuredClone(stored.value) as T, revision: stored.revision };
  }

  async list<T>(prefix: string): Promise<StoreEntry<T>[]> {
    validateKey(prefix, 'prefix');
    const keys = [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((key) => {
      const stored = this.#entries.get(key)!;
      return { key, value: structuredClone(stored.value) as T, revision: stored.revision };
    });
  }

  async commit(ops: StoreOp[]): Promise<number> {
    return this.#apply(ops, 0);
  }

  async snapshot(): Promise<StoreSnapshot> {
    return { revision: this.#revision, entries: await this.list('') };
  }

  async replaceAll(entries: { key: string; value: unknown }[], minRevision = 0): Promise<number> {
    nextRevision(this.#revision, minRevision);
    return this.#apply(replacementOps(this.#entries.keys(), entries), minRevision);
  }

  async advanceRevision(min: number): Promise<number> {
    checkMinRevision(min);
    if (this.#revision <= min) this.#revision = min + 1;
    return this.#revision;
  }

  /** Synchronous between validation and publish, so concurrent callers are serialised for free. */
  #apply(ops: StoreOp[], minRevision: number): number {
    const effective: StoreOp[] = [];
    for (const op of collapseOps(ops)) {
      const current = this.#entries.get(op.key);
      if (op.type === 'delete') {
        if (current) effective.push(op);
      } else {
        const value = cloneValue(op.key, op.value);
        if (!current || !isDeepStrictEqual(current.value, value)) effective.push({ type: 'put', key: op.key, value });
      }
    }
    if (effective.length === 0) return this.#revision;

    const revision = nextRevision(this.#revision, minRevision);
    for (const op of effective) {
      if (op.type === 'put') this.#entries.set(op.key, { value: op.value, revision });
      else this.#entries.delete(op.key);
    }
    this.#revision = revision;
    notifyWatchers(this.#listeners, { revision, ops: effective }, this.#logger);
    return revision;
  }

  revision(): number {
    return this.#revision;
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return addWatcher(this.#listeners, listener);
  }
}
