/**
 * The store revision recorded outside LevelDB, in a small file beside the database
 * (`<db>.revision`, format in mark-file.ts), so a log that lost its tail (truncated, or a card
 * that dropped writes) is caught at open: LevelDB then holds a revision below the recorded one.
 *
 * Flash is precious, so the file is not written per commit: at most once per interval after a
 * change (the first commit after a quiet spell arms a timer, later ones ride along), at a clean
 * close, and never when nothing changed. Commits in the last interval before a crash are not
 * covered by it; the log check (log-check.ts) and the nodes' reported revisions cover those.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isNoSpace, NO_SPACE_TEXT } from '../core/errors.js';
import { writeMark, type MarkRead, type RevisionMarkRecord } from './mark-file.js';
import type { StoreLoss } from './store-loss.js';

export { readMark, type MarkRead, type RevisionMarkRecord } from './mark-file.js';

export const DEFAULT_MARK_INTERVAL_MS = 60_000;

export function markFileFor(dbPath: string): string {
  return `${dbPath}.revision`;
}

/** The loss the recorded revision proves, if LevelDB holds less. */
export function lossAgainstMark(storeRevision: number, read: MarkRead, file: string): StoreLoss | undefined {
  if (read.damage !== undefined) return { summary: `the revision record is damaged, so missing commits cannot be ruled out (${read.damage})` };
  const mark = read.record;
  if (!mark || storeRevision >= mark.revision) return undefined;
  return {
    summary: `LevelDB holds revision ${storeRevision} but revision ${mark.revision} was recorded in ${file} at ${mark.at}`,
    knownRevision: mark.revision,
  };
}

export interface RevisionMarkOptions {
  file: string;
  intervalMs?: number;
  logger?: Logger;
  /** Runs fn after ms; returns a cancel function (tests pass their own). */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** Writes the record (mark-file.ts; tests count the writes). */
  write?: (file: string, record: RevisionMarkRecord) => Promise<void>;
  now?: () => Date;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

/** Keeps the mark file following the store's revision, throttled (see the module comment). */
export class RevisionMark {
  readonly file: string;
  readonly #interval: number;
  readonly #schedule: (fn: () => void, ms: number) => () => void;
  readonly #write: (file: string, record: RevisionMarkRecord) => Promise<void>;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  #written: number | undefined;
  #latest: number | undefined;
  #cancel: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();
  #failing = false;

  constructor(options: RevisionMarkOptions) {
    this.file = options.file;
    this.#interval = options.intervalMs ?? DEFAULT_MARK_INTERVAL_MS;
    this.#schedule = options.schedule ?? unrefTimer;
    this.#write = options.write ?? writeMark;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
  }

  /** The store opened at `current` with `recorded` in the file: a differing file is brought up to date. */
  start(current: number, recorded: number | undefined): void {
    // A new store (revision 0, no file) has nothing worth recording yet.
    this.#written = recorded ?? 0;
    this.#latest = current;
    this.#arm();
  }

  /** A commit reached `revision`. */
  noteCommit(revision: number): void {
    this.#latest = revision;
    this.#arm();
  }

  /** Writes now when the file is behind (a clean close); waits for a write in flight. */
  async flush(): Promise<void> {
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#writing;
    await this.#writeIfBehind();
  }

  /** Stops the timer without writing (the store closes after a failure it cannot record). */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #arm(): void {
    if (this.#cancel || this.#latest === this.#written) return;
    this.#cancel = this.#schedule(() => {
      this.#cancel = undefined;
      this.#writing = this.#writing.then(() => this.#writeIfBehind()).then(() => {
        // Commits during the write, or a failed write: try again one interval later.
        if (this.#latest !== this.#written) this.#arm();
      });
    }, this.#interval);
  }

  async #writeIfBehind(): Promise<void> {
    const revision = this.#latest;
    if (revision === undefined || revision === this.#written) return;
    try {
      await this.#write(this.file, { revision, at: this.#now().toISOString() });
      this.#written = revision;
      if (this.#failing) this.#logger?.info({ file: this.file, revision }, 'store revision recorded again');
      this.#failing = false;
    } catch (err) {
      // Logged once per failing spell: a full disk must not flood the log it may share.
      if (!this.#failing) {
        const reason = isNoSpace(err) ? NO_SPACE_TEXT : errorMessage(err);
        this.#logger?.warn({ file: this.file, revision, err: reason }, `cannot record the store revision in ${this.file}: ${reason}; retrying`);
      }
      this.#failing = true;
    }
  }
}
