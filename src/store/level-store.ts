/**
 * Durable Store on LevelDB (classic-level via `level`). Each key holds the CBOR of
 * `{ value, revision }`; the store revision lives under META_REVISION_KEY and is written in the
 * same synced batch as the data, so a crash leaves either the whole commit or none of it.
 *
 * Edge boards run on SD cards and eMMC: a commit that changes nothing must not write at all, so
 * values are compared as canonical CBOR bytes (key order never matters) before anything is
 * queued for LevelDB.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import type { Decoder, Encoder } from 'cbor-x';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createWireDecoder, createWireEncoder, encodeCanonical } from '../core/wire.js';
import { collapseOps, addWatcher, nextRevision, notifyWatchers, replacementOps, validateKey } from './memory-store.js';
import type { Store, StoreChange, StoreEntry, StoreOp, StoreSnapshot } from './store.js';

/** Below every printable-ASCII key, so prefix scans never see it. */
export const META_REVISION_KEY = '\x00meta/revision';

export interface LevelStoreOptions {
  path: string;
  logger?: Logger;
}

type Db = Level<string, Uint8Array>;
/** A collapsed op with its value already canonically encoded. */
type Prepared = { op: StoreOp; bytes?: Buffer };
type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** Whether err or one of its causes carries this code (classic-level nests the real reason). */
function hasCode(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}

function storeError(message: string, cause?: unknown, details: Record<string, unknown> = {}): GroveError {
  return new GroveError(ErrorCode.StoreError, cause === undefined ? message : `${message}: ${errorMessage(cause)}`, {
    cause,
    details,
  });
}

export class LevelStore implements Store {
  readonly #path: string;
  readonly #logger: Logger | undefined;
  /** Created in open(): a Level instance opens itself on the next tick, before our mkdir. */
  #dbHandle: Db | undefined;
  readonly #listeners = new Set<(change: StoreChange) => void>();
  // cbor-x codecs keep scratch buffers: one pair per store instance, never shared.
  readonly #encoder: Encoder = createWireEncoder();
  readonly #decoder: Decoder = createWireDecoder();
  #revision = 0;
  /** Tail of the commit chain: commits run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LevelStoreOptions) {
    this.#path = options.path;
    this.#logger = options.logger?.child({ component: 'level-store' });
  }

  get #db(): Db {
    if (!this.#dbHandle) throw storeError(`store at ${this.#path} is not open`, undefined, { path: this.#path });
    return this.#dbHandle;
  }

  get path(): string {
    return this.#path;
  }

  async open(): Promise<void> {
    try {
      // The store holds secrets and node credential hashes: owner-only from the start.
      await mkdir(this.#path, { recursive: true, mode: 0o700 });
      this.#dbHandle ??= new Level<string, Uint8Array>(this.#path, { keyEncoding: 'utf8', valueEncoding: 'view' });
      await this.#dbHandle.open();
    } catch (err) {
      if (hasCode(err, 'LEVEL_LOCKED')) {
        throw storeError(`store at ${this.#path} is in use by another process (is grove server running?)`, undefined, {
          path: this.#path,
          locked: true,
        });
      }
      throw storeError(`cannot open store at ${this.#path}`, err, { path: this.#path });
    }
    const raw = await this.#read(META_REVISION_KEY);
    if (raw === undefined) {
      this.#revision = 0;
    } else {
      const revision = this.#decode(META_REVISION_KEY, raw);
      if (!Number.isSafeInteger(revision) || (revision as number) < 0) {
        throw storeError(`corrupt store entry ${JSON.stringify(META_REVISION_KEY)}: not a revision`, undefined, {
          key: META_REVISION_KEY,
        });
      }
      this.#revision = revision as number;
    }
    this.#logger?.debug({ path: this.#path, revision: this.#revision }, 'store opened');
  }

  /**
   * Compacts the whole database, so overwritten values leave the files on disk (LevelDB keeps
   * old versions in its log and tables until then): run after plaintext Secrets were sealed.
   */
  async compact(): Promise<void> {
    await this.#queue.catch(() => undefined);
    // `level` resolves to classic-level under Node, whose compactRange its browser-neutral type omits.
    await (this.#db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('', '\uffff');
  }

  async close(): Promise<void> {
    // Let queued commits finish (their callers still get their results) before closing.
    await this.#queue.catch(() => undefined);
    try {
      await this.#dbHandle?.close();
    } catch (err) {
      throw storeError(`cannot close store at ${this.#path}`, err, { path: this.#path });
    }
  }

  async get<T>(key: string): Promise<StoreEntry<T> | undefined> {
    validateKey(key);
    const raw = await this.#read(key);
    return raw === undefined ? undefined : this.#entry<T>(key, raw);
  }

  async list<T>(prefix: string): Promise<StoreEntry<T>[]> {
    validateKey(prefix, 'prefix');
    const out: StoreEntry<T>[] = [];
    try {
      // Keys are printable ASCII, so '\xff' (bytes C3 BF) sorts after every key under the prefix.
      for await (const [key, raw] of this.#db.iterator({ gte: prefix || ' ', lt: `${prefix}\xff` })) {
        out.push(this.#entry<T>(key, raw));
      }
    } catch (err) {
      if (err instanceof GroveError) throw err;
      throw storeError(`cannot list ${JSON.stringify(prefix)}`, err, { prefix });
    }
    return out;
  }

  commit(ops: StoreOp[]): Promise<number> {
    let prepared: Prepared[];
    try {
      prepared = this.#prepare(ops);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue(() => this.#commit(prepared, 0));
  }

  async snapshot(): Promise<StoreSnapshot> {
    let revision = 0;
    const entries: StoreEntry[] = [];
    try {
      // One iterator reads one implicit LevelDB snapshot: the revision key (sorted first) and
      // every entry are as of the same instant, whatever commits run meanwhile.
      for await (const [key, raw] of this.#db.iterator()) {
        if (key === META_REVISION_KEY) revision = this.#decode(key, raw) as number;
        else if (key >= ' ') entries.push(this.#entry(key, raw));
      }
    } catch (err) {
      if (err instanceof GroveError) throw err;
      throw storeError('cannot read a snapshot of the store', err, { path: this.#path });
    }
    return { revision, entries };
  }

  replaceAll(entries: { key: string; value: unknown }[], minRevision = 0): Promise<number> {
    try {
      nextRevision(this.#revision, minRevision);
      // Checked up front so a bad entry fails the call before it waits in the queue.
      this.#prepare(replacementOps([], entries));
    } catch (err) {
      return Promise.reject(err);
    }
    // The current keys are read inside the queue, so no commit can slip in between.
    return this.#enqueue(async () => {
      const current = await this.list('');
      return this.#commit(this.#prepare(replacementOps(current.map((e) => e.key), entries)), minRevision);
    });
  }

  revision(): number {
    return this.#revision;
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return addWatcher(this.#listeners, listener);
  }

  /** Total bytes of the files in the database directory (for `grove server status`). */
  async sizeOnDisk(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.#path)) {
      const info = await stat(join(this.#path, name)).catch(() => undefined);
      if (info?.isFile()) total += info.size;
    }
    return total;
  }

  /**
   * Values are encoded now, not when the queue reaches the commit, so a caller mutating its
   * value after calling commit() cannot change what gets stored.
   */
  #prepare(ops: StoreOp[]): Prepared[] {
    return collapseOps(ops).map((op) => (op.type === 'put' ? { op, bytes: this.#canonical(op.key, op.value) } : { op }));
  }

  /** Commits run one at a time, in call order. */
  #enqueue(step: () => Promise<number>): Promise<number> {
    const result = this.#queue.then(step);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #commit(prepared: Prepared[], minRevision: number): Promise<number> {
    const currentRaw = prepared.length === 0 ? [] : await this.#readMany(prepared.map(({ op }) => op.key));
    const revision = nextRevision(this.#revision, minRevision);
    const batch: BatchOp[] = [];
    const effective: StoreOp[] = [];
    prepared.forEach(({ op, bytes: valueBytes }, i) => {
      const raw = currentRaw[i];
      if (op.type === 'delete') {
        if (raw === undefined) return;
        batch.push({ type: 'del', key: op.key });
        effective.push(op);
        return;
      }
      if (valueBytes === undefined) return;
      if (raw !== undefined && this.#canonical(op.key, this.#entry(op.key, raw).value).equals(valueBytes)) return;
      // The record embeds the value already canonicalised, so re-encoding it on the next
      // comparison gives identical bytes.
      const value = this.#decoder.decode(valueBytes);
      batch.push({ type: 'put', key: op.key, value: this.#encoder.encode({ value, revision }) });
      effective.push({ type: 'put', key: op.key, value });
    });
    if (batch.length === 0) return this.#revision;

    batch.push({ type: 'put', key: META_REVISION_KEY, value: this.#encoder.encode(revision) });
    try {
      await this.#db.batch(batch, { sync: true });
    } catch (err) {
      throw storeError(`cannot commit revision ${revision} to ${this.#path}`, err, { path: this.#path, revision });
    }
    this.#revision = revision;
    notifyWatchers(this.#listeners, { revision, ops: effective }, this.#logger);
    return revision;
  }

  #canonical(key: string, value: unknown): Buffer {
    try {
      return encodeCanonical(value, this.#encoder);
    } catch (err) {
      throw new GroveError(ErrorCode.InvalidArgument, `store put of ${key}: value cannot be encoded (${errorMessage(err)})`, {
        cause: err,
      });
    }
  }

  async #read(key: string): Promise<Uint8Array | undefined> {
    try {
      return (await this.#db.get(key)) ?? undefined;
    } catch (err) {
      throw storeError(`cannot read ${JSON.stringify(key)}`, err, { key });
    }
  }

  async #readMany(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    try {
      return await this.#db.getMany(keys);
    } catch (err) {
      throw storeError('cannot read store entries', err, { keys });
    }
  }

  #decode(key: string, raw: Uint8Array): unknown {
    try {
      return this.#decoder.decode(raw);
    } catch (err) {
      throw storeError(`corrupt store entry ${JSON.stringify(key)}`, err, { key });
    }
  }

  /** Decodes and checks one record: a damaged card must surface as an error, not bad state. */
  #entry<T>(key: string, raw: Uint8Array): StoreEntry<T> {
    const record = this.#decode(key, raw) as { value?: unknown; revision?: unknown } | null;
    const ok =
      typeof record === 'object' &&
      record !== null &&
      !Array.isArray(record) &&
      'value' in record &&
      Number.isSafeInteger(record.revision) &&
      (record.revision as number) >= 1;
    if (!ok) throw storeError(`corrupt store entry ${JSON.stringify(key)}: not a {value, revision} record`, undefined, { key });
    const { value, revision } = record as { value: T; revision: number };
    return { key, value, revision };
  }
}
