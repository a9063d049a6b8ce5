/**
 * The checks around opening (and reopening) a LevelStore, apart from its read/write path:
 * the write-ahead log check before LevelDB replays the logs, a copy of damaged logs before an
 * accepted loss lets LevelDB discard them, the free-space test before a reopen after a failed
 * write, and the decoding of one stored record.
 */
import { statfs } from 'node:fs/promises';
import type { Decoder } from 'cbor-x';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NO_SPACE_TEXT } from '../core/errors.js';
import type { WriteBatch } from './leveldb-log.js';
import { checkLogs, keepDamagedLogs, logBytes } from './log-check.js';
import { storeLossError, type StoreLoss } from './store-loss.js';
import type { StoreEntry } from './store.js';

/** Free space wanted beyond the logs' size before a reopen is tried (LevelDB writes a table, a manifest, a log). */
export const REOPEN_MARGIN_BYTES = 1024 * 1024;

export interface LogCheckOptions {
  path: string;
  logger: Logger | undefined;
  acceptLoss: boolean;
  acceptCommand: string;
  revisionOf: (batch: WriteBatch) => number | undefined;
}

/** The logs' losses; throws the refusal (before anything is touched) unless acceptLoss. */
export async function checkLogsBeforeOpen(o: LogCheckOptions): Promise<{ file: string; loss: StoreLoss }[]> {
  const checks = await checkLogs(o.path, o.revisionOf);
  for (const c of checks) {
    if (c.tornTailBytes > 0) {
      o.logger?.warn({ file: c.file, bytes: c.tornTailBytes }, `LevelDB log ${c.file} ends in a write cut short (a crash or a full disk); it was never acknowledged and is dropped`);
    }
    if (c.skipped) o.logger?.warn({ file: c.file }, `LevelDB log ${c.file} not checked: ${c.skipped}`);
  }
  const losses = checks.flatMap((c) => (c.loss ? [{ file: c.file, loss: c.loss }] : []));
  if (losses.length > 0 && !o.acceptLoss) throw storeLossError(o.path, losses.map((l) => l.loss), o.acceptCommand);
  return losses;
}

/** Copies the damaged logs to `<path>.lost-<time>/`; returns where, or undefined when it could not. */
export async function keepLogsCopy(path: string, files: string[], now: Date, logger: Logger | undefined): Promise<string | undefined> {
  const into = `${path}.lost-${now.toISOString().replace(/[:.]/g, '-')}`;
  try {
    await keepDamagedLogs(path, files, into);
    return into;
  } catch (err) {
    logger?.warn({ into, err: errorMessage(err) }, 'could not keep a copy of the damaged logs');
    return undefined;
  }
}

/** Free bytes for an unprivileged writer on the filesystem holding `path` (Infinity when unknown). */
export async function freeBytes(path: string): Promise<number> {
  return statfs(path).then(
    (s) => s.bavail * s.bsize,
    () => Infinity,
  );
}

/**
 * Why a reopen after a failed write must not be tried yet, or undefined when it may: with the
 * disk still full, reopening would fail halfway and take the readable handle with it.
 */
export async function reopenBlocker(path: string, free: (path: string) => Promise<number>): Promise<string | undefined> {
  const needed = (await logBytes(path).catch(() => 0)) + REOPEN_MARGIN_BYTES;
  const available = await free(path);
  if (available >= needed) return undefined;
  return `store at ${path} takes no writes until space is freed (${available} bytes free, about ${needed} needed to reopen it after a failed write): ${NO_SPACE_TEXT}`;
}

/** The store revision a logged batch set (every commit puts the revision record in its batch). */
export function revisionInBatch(batch: WriteBatch, revisionKey: string, decoder: Decoder): number | undefined {
  const op = batch.ops.find((o) => o.type === 'put' && Buffer.from(o.key).toString('utf8') === revisionKey);
  try {
    const revision: unknown = op?.value ? decoder.decode(op.value) : undefined;
    return Number.isSafeInteger(revision) ? (revision as number) : undefined;
  } catch {
    return undefined;
  }
}

/** One stored record decoded and checked: a damaged card must surface as a reason, not bad state. */
export function inspectRecord<T>(key: string, raw: Uint8Array, decoder: Decoder): { entry: StoreEntry<T> } | { reason: string } {
  let record: { value?: unknown; revision?: unknown } | null;
  try {
    record = decoder.decode(raw) as typeof record;
  } catch (err) {
    return { reason: `undecodable CBOR (${errorMessage(err)})` };
  }
  const ok =
    typeof record === 'object' &&
    record !== null &&
    !Array.isArray(record) &&
    'value' in record &&
    Number.isSafeInteger(record.revision) &&
    (record.revision as number) >= 1;
  if (!ok) return { reason: 'not a {value, revision} record' };
  const { value, revision } = record as { value: T; revision: number };
  return { entry: { key, value, revision } };
}
