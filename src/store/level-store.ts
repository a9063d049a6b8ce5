/**
 * Durable Store on LevelDB (classic-level via `level`). Each key holds the CBOR of
 * `{ value, revision }`; the store revision lives under META_REVISION_KEY and is written in the
 * same synced batch as the data, so a crash leaves either the whole commit or none of it.
 *
 * Edge boards run on SD cards and eMMC: a commit that changes nothing must not write at all, so
 * values are compared as canonical CBOR bytes (key order never matters) before anything is
 * queued for LevelDB.
 *
 * No acknowledged commit is lost to a failed write or a damaged log (docs/reliability.md):
 * - LevelDB does not stop taking writes after a log append fails (only after a failed sync), so
 *   the next write would land behind the torn record and be dropped at the next open, with
 *   every later one. A failed batch therefore marks the store broken, and before its next
 *   write the handle is closed and reopened: recovery drops the torn tail and starts a new log.
 *   While the disk is still too full to reopen, that is not even tried: commits fail naming
 *   "no space left on device" and reads go on from the old handle.
 * - open() checks the write-ahead logs before LevelDB replays them (log-check.ts) and compares
 *   the revision with the one recorded beside the database (revision-mark.ts); missing commits
 *   refuse the open (store-loss.ts) unless the operator accepted the loss (`fsck --accept-loss`).
 * - audit() and quarantine() find corrupt entries and set them aside (quarantine.ts).
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import type { Decoder, Encoder } from 'cbor-x';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createWireDecoder, createWireEncoder, encodeCanonical } from '../core/wire.js';
import { checkLogsBeforeOpen, freeBytes, inspectRecord, keepLogsCopy, reopenBlocker, revisionInBatch } from './level-open.js';
import { collapseOps, addWatcher, checkMinRevision, nextRevision, notifyWatchers, replacementOps, validateKey } from './memory-store.js';
import { decodeQuarantined, QUARANTINE_PREFIX, quarantineBatch, type Auditable, type EntryCheck, type EntryProblem, type QuarantinedEntry } from './quarantine.js';
import { lossAgainstMark, markFileFor, readMark, RevisionMark } from './revision-mark.js';
import { DEFAULT_ACCEPT_LOSS_COMMAND, highestKnownRevision, storeLossError, type StoreLoss } from './store-loss.js';
import type { Store, StoreChange, StoreEntry, StoreOp, StoreSnapshot } from './store.js';
import { hasCode, storeError } from './store-error.js';

/** Below every printable-ASCII key, so prefix scans never see it. */
export const META_REVISION_KEY = '\x00meta/revision';

export interface LevelStoreOptions {
  path: string;
  logger?: Logger;
  /** Named in the refusal when commits are missing (default `grove server fsck --accept-loss`). */
  acceptLossCommand?: string;
  /**
   * Open even though commits are missing (`fsck --accept-loss`): the damaged logs are copied to
   * `<path>.lost-<time>/`, LevelDB drops what it cannot replay, and the revision moves past the
   * highest one known to have existed, so it never goes backwards.
   */
  acceptLoss?: boolean;
  /** At most how often the revision mark beside the database is rewritten (default 60 s). */
  markIntervalMs?: number;
  /** Tests: how the LevelDB handle is made (to make writes fail), and the free space seen. */
  openLevel?: (path: string) => Db;
  freeSpace?: (path: string) => Promise<number>;
}

/** What an open with acceptLoss found and did. */
export interface AcceptedLoss {
  losses: StoreLoss[];
  /** The revision the store moved to. */
  revision: number;
  /** Where the damaged logs were copied, if any. */
  keptLogs?: string;
}

export type Db = Level<string, Uint8Array>;
/** A collapsed op with its value already canonically encoded. */
type Prepared = { op: StoreOp; bytes?: Buffer };
type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** The failed write that left the handle unusable. */
interface Broken {
  err: unknown;
  /** The revision before it, and the one it would have made (with its changes). */
  before: number;
  revision: number;
  ops: StoreOp[];
}

export class LevelStore implements Store, Auditable {
  readonly #path: string;
  readonly #options: LevelStoreOptions;
  readonly #logger: Logger | undefined;
  #dbHandle: Db | undefined;
  readonly #listeners = new Set<(change: StoreChange) => void>();
  // cbor-x codecs keep scratch buffers: one pair per store instance, never shared.
  readonly #encoder: Encoder = createWireEncoder();
  readonly #decoder: Decoder = createWireDecoder();
  readonly #mark: RevisionMark;
  #revision = 0;
  /** Tail of the commit chain: commits run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  #broken: Broken | undefined;
  #recovering: Promise<void> | undefined;
  #acceptedLoss: AcceptedLoss | undefined;

  constructor(options: LevelStoreOptions) {
    this.#path = options.path;
    this.#options = options;
    this.#logger = options.logger?.child({ component: 'level-store' });
    this.#mark = new RevisionMark({
      file: markFileFor(options.path),
      ...(options.markIntervalMs !== undefined ? { intervalMs: options.markIntervalMs } : {}),
      ...(this.#logger ? { logger: this.#logger } : {}),
    });
  }

  get #db(): Db {
    if (!this.#dbHandle) throw storeError(`store at ${this.#path} is not open`, undefined, { path: this.#path });
    return this.#dbHandle;
  }

  get path(): string {
    return this.#path;
  }

  /** Set when an open with acceptLoss found commits missing (what fsck reports). */
  get acceptedLoss(): AcceptedLoss | undefined {
    return this.#acceptedLoss;
  }

  async open(): Promise<void> {
    if (this.#dbHandle?.status === 'open') return;
    try {
      // The store holds secrets and node credential hashes: owner-only from the start.
      await mkdir(this.#path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw storeError(`cannot open store at ${this.#path}`, err, { path: this.#path });
    }
    const acceptLoss = this.#options.acceptLoss === true;
    // Before LevelDB replays the logs: once it has, what it dropped is gone.
    const logLosses = await this.#checkLogs(acceptLoss);
    const keptLogs = logLosses.length > 0 ? await keepLogsCopy(this.#path, logLosses.map((l) => l.file), new Date(), this.#logger) : undefined;
    await this.#openHandle();
    // A fresh open replays the log: a failure before an earlier close is behind us.
    this.#broken = undefined;
    try {
      const read = await readMark(this.#mark.file);
      const markLoss = lossAgainstMark(this.#revision, read, this.#mark.file);
      if (markLoss && !acceptLoss) throw storeLossError(this.#path, [markLoss], this.#acceptCommand);
      this.#mark.start(this.#revision, read.record?.revision);
      const losses = [...logLosses.map((l) => l.loss), ...(markLoss ? [markLoss] : [])];
      if (losses.length > 0) await this.#acceptLoss(losses, keptLogs);
    } catch (err) {
      // A failed open leaves nothing open: not the handle (LevelDB's lock), not the mark's timer.
      this.#mark.stop();
      await this.#closeHandle().catch(() => undefined);
      throw err;
    }
    this.#logger?.debug({ path: this.#path, revision: this.#revision }, 'store opened');
  }

  get #acceptCommand(): string {
    return this.#options.acceptLossCommand ?? DEFAULT_ACCEPT_LOSS_COMMAND;
  }

  #checkLogs(acceptLoss: boolean): Promise<{ file: string; loss: StoreLoss }[]> {
    return checkLogsBeforeOpen({
      path: this.#path,
      logger: this.#logger,
      acceptLoss,
      acceptCommand: this.#acceptCommand,
      revisionOf: (batch) => revisionInBatch(batch, META_REVISION_KEY, this.#decoder),
    }).catch((err: unknown) => {
      throw err instanceof GroveError ? err : storeError(`cannot check the logs of the store at ${this.#path}`, err, { path: this.#path });
    });
  }

  async #acceptLoss(losses: StoreLoss[], keptLogs: string | undefined): Promise<void> {
    const floor = Math.max(this.#revision, highestKnownRevision(losses) ?? this.#revision);
    const revision = await this.#advance(floor);
    // Recorded at once: the next open must not find the old mark above the new revision.
    await this.#mark.flush();
    this.#acceptedLoss = { losses, revision, ...(keptLogs ? { keptLogs } : {}) };
    this.#logger?.warn({ path: this.#path, revision, losses: losses.map((l) => l.summary) }, 'store opened with commits missing (loss accepted); revision moved past the highest known');
  }

  async #openHandle(): Promise<void> {
    const db = this.#options.openLevel?.(this.#path) ?? new Level<string, Uint8Array>(this.#path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      if (hasCode(err, 'LEVEL_LOCKED')) {
        throw storeError(`store at ${this.#path} is in use by another process (is grove server running?)`, undefined, {
          path: this.#path,
          locked: true,
        });
      }
      throw storeError(`cannot open store at ${this.#path}`, err, { path: this.#path });
    }
    this.#dbHandle = db;
    try {
      this.#revision = this.#readRevision(await db.get(META_REVISION_KEY));
    } catch (err) {
      await this.#closeHandle();
      throw err instanceof GroveError ? err : storeError(`cannot read the revision of the store at ${this.#path}`, err, { path: this.#path });
    }
  }

  #readRevision(raw: Uint8Array | undefined): number {
    if (raw === undefined) return 0;
    const revision = this.#decode(META_REVISION_KEY, raw);
    if (!Number.isSafeInteger(revision) || (revision as number) < 0) {
      throw storeError(`corrupt store entry ${JSON.stringify(META_REVISION_KEY)}: not a revision`, undefined, { key: META_REVISION_KEY });
    }
    return revision as number;
  }

  async #closeHandle(): Promise<void> {
    const db = this.#dbHandle;
    this.#dbHandle = undefined;
    await db?.close();
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
    await this.#recovering?.catch(() => undefined);
    // The last acknowledged revision, recorded for the next open (a no-op when unchanged).
    await this.#mark.flush();
    this.#mark.stop();
    try {
      await this.#closeHandle();
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
      for await (const [key, raw] of (await this.#readable()).iterator({ gte: prefix || ' ', lt: `${prefix}\xff` })) {
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
      for await (const [key, raw] of (await this.#readable()).iterator()) {
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

  advanceRevision(min: number): Promise<number> {
    try {
      checkMinRevision(min);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue(async () => {
      await this.#recover();
      return this.#advance(min);
    });
  }

  revision(): number {
    return this.#revision;
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return addWatcher(this.#listeners, listener);
  }

  /** Every entry that cannot be read back, or that `check` finds wrong (corrupt values on a damaged card). */
  async audit(check?: EntryCheck): Promise<EntryProblem[]> {
    const problems: EntryProblem[] = [];
    for await (const [key, raw] of (await this.#readable()).iterator({ gte: ' ' })) {
      const inspected = this.#inspect(key, raw);
      const reason = 'reason' in inspected ? inspected.reason : check?.(inspected.entry);
      if (reason !== undefined) problems.push({ key, reason });
    }
    return problems;
  }

  /** How many entries the store holds, readable or not (fsck's summary). */
  async countEntries(): Promise<number> {
    let n = 0;
    for await (const _key of (await this.#readable()).keys({ gte: ' ' })) n++;
    return n;
  }

  /** Moves each entry's raw bytes under the quarantine prefix in one commit; returns the revision. */
  quarantine(problems: EntryProblem[]): Promise<number> {
    try {
      for (const p of problems) validateKey(p.key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue(async () => {
      await this.#recover();
      const raws = problems.length ? await this.#readMany(problems.map((p) => p.key)) : [];
      const revision = nextRevision(this.#revision);
      const { batch, ops } = quarantineBatch(problems, raws, revision, new Date(), this.#encoder);
      if (ops.length === 0) return this.#revision;
      await this.#write(batch, revision, ops);
      return revision;
    });
  }

  async listQuarantined(): Promise<QuarantinedEntry[]> {
    const out: QuarantinedEntry[] = [];
    for await (const [key, raw] of (await this.#readable()).iterator({ gte: QUARANTINE_PREFIX, lt: `${QUARANTINE_PREFIX}\xff` })) {
      out.push(decodeQuarantined(key, raw, this.#decoder));
    }
    return out;
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
    await this.#recover();
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
    await this.#write(batch, revision, effective);
    return revision;
  }

  /** Moves the revision past `floor` with a batch holding only the revision record. */
  async #advance(floor: number): Promise<number> {
    if (this.#revision > floor) return this.#revision;
    const revision = floor + 1;
    await this.#write([], revision, []);
    return revision;
  }

  /** One synced batch plus the revision record; a failure leaves the store broken until reopened. */
  async #write(batch: BatchOp[], revision: number, ops: StoreOp[]): Promise<void> {
    // Outside the try: a store that is simply closed is not broken.
    const db = this.#db;
    try {
      await db.batch([...batch, { type: 'put', key: META_REVISION_KEY, value: this.#encoder.encode(revision) }], { sync: true });
    } catch (err) {
      this.#broken = { err, before: this.#revision, revision, ops };
      const error = storeError(`cannot commit revision ${revision} to ${this.#path}`, err, { path: this.#path, revision });
      this.#logger?.error({ path: this.#path, revision, err: error.message }, 'store write failed; the store reopens before its next write');
      throw error;
    }
    this.#revision = revision;
    this.#mark.noteCommit(revision);
    if (ops.length > 0) notifyWatchers(this.#listeners, { revision, ops }, this.#logger);
  }

  /** The usable handle for reads: the old one while a failed write is not repaired yet. */
  async #readable(): Promise<Db> {
    await this.#recovering?.catch(() => undefined);
    if (!this.#dbHandle && this.#broken) await this.#recover();
    return this.#db;
  }

  /** Repairs a broken store (see the module comment); throws while it cannot. */
  #recover(): Promise<void> {
    if (!this.#broken) return Promise.resolve();
    this.#recovering ??= this.#reopenAfterFailure().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  async #reopenAfterFailure(): Promise<void> {
    const failed = this.#broken!;
    const blocker = await reopenBlocker(this.#path, this.#options.freeSpace ?? freeBytes);
    if (blocker !== undefined) throw new GroveError(ErrorCode.NoSpace, blocker, { cause: failed.err, details: { path: this.#path } });
    await this.#closeHandle().catch((err: unknown) => this.#logger?.warn({ err: errorMessage(err) }, 'closing the store after a failed write failed'));
    try {
      await this.#checkLogs(false);
      await this.#openHandle();
    } catch (err) {
      throw err instanceof GroveError && err.details.loss ? err : storeError(`cannot reopen the store at ${this.#path} after a failed write`, err, { path: this.#path });
    }
    this.#broken = undefined;
    if (this.#revision === failed.before) {
      this.#logger?.info({ path: this.#path, revision: this.#revision }, 'store reopened after a failed write: the torn record was dropped, writes go to a new log');
    } else if (this.#revision === failed.revision) {
      // The write reached the disk after all (a sync that failed late): keep it and tell watchers.
      this.#logger?.warn({ revision: failed.revision }, `commit ${failed.revision}, reported as failed, was found complete when the store reopened; it stays`);
      this.#mark.noteCommit(failed.revision);
      if (failed.ops.length > 0) notifyWatchers(this.#listeners, { revision: failed.revision, ops: failed.ops }, this.#logger);
    } else {
      this.#logger?.error({ before: failed.before, now: this.#revision }, 'store revision changed unexpectedly across a reopen');
    }
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
      return (await (await this.#readable()).get(key)) ?? undefined;
    } catch (err) {
      if (err instanceof GroveError) throw err;
      throw storeError(`cannot read ${JSON.stringify(key)}`, err, { key });
    }
  }

  async #readMany(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    try {
      return await (await this.#readable()).getMany(keys);
    } catch (err) {
      if (err instanceof GroveError) throw err;
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
    const inspected = this.#inspect<T>(key, raw);
    if ('reason' in inspected) throw storeError(`corrupt store entry ${JSON.stringify(key)}: ${inspected.reason}`, undefined, { key });
    return inspected.entry;
  }

  #inspect<T>(key: string, raw: Uint8Array): { entry: StoreEntry<T> } | { reason: string } {
    return inspectRecord<T>(key, raw, this.#decoder);
  }
}
