/**
 * The paranoid check of a LevelDB directory's write-ahead logs, run before LevelDB opens it
 * (opening replays the logs and rewrites them, after which dropped commits are gone for good).
 * See leveldb-log.ts for the format and what counts as damage.
 */
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { auditLog, parseWriteBatch, type WriteBatch } from './leveldb-log.js';
import type { StoreLoss } from './store-loss.js';

/** LevelDB rolls its log over at its 4 MiB write buffer; anything far larger is not one of its logs. */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;

export interface LogFileCheck {
  file: string;
  bytes: number;
  /** Bytes of a write cut short at the end (a crash or a full disk): never acknowledged, harmless. */
  tornTailBytes: number;
  loss?: StoreLoss;
  /** Why the file was not checked (too large to be a LevelDB log). */
  skipped?: string;
}

/** LevelDB's numbered log files in `dir` (none for a new store). */
export async function logFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => /^\d+\.log$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** What one log's bytes say; `revisionOf` reads the store revision a commit set, if any. */
export function judgeLog(file: string, bytes: Uint8Array, revisionOf: (batch: WriteBatch) => number | undefined): LogFileCheck {
  const audit = auditLog(bytes, (data) => parseWriteBatch(data) !== undefined);
  const out: LogFileCheck = { file, bytes: bytes.length, tornTailBytes: audit.replay.tornTail?.bytes ?? 0 };
  const problems: string[] = [];
  if (audit.dropped.length > 0) {
    problems.push(`${audit.dropped.length} intact commit(s) at byte ${audit.dropped[0]!.offset} and later lie past damage LevelDB stops at, and would be dropped on open`);
  }
  if (audit.damageBeforeRecords.length > 0) {
    const d = audit.damageBeforeRecords[0]!;
    problems.push(`${d.bytes} bytes at byte ${d.offset} are damaged (${d.reason}) with commits after them`);
  }
  if (audit.searchIncomplete) problems.push('a large unreadable region could not be searched for commits');
  if (problems.length === 0) return out;
  const revisions = audit.dropped.map((d) => (d.data ? revisionOf(parseWriteBatch(d.data)!) : undefined)).filter((r): r is number => r !== undefined);
  const knownRevision = revisions.length ? Math.max(...revisions) : undefined;
  out.loss = {
    summary: `LevelDB log ${file}: ${problems.join('; ')}${knownRevision !== undefined ? ` (the dropped commits reach revision ${knownRevision})` : ''}`,
    ...(knownRevision !== undefined ? { knownRevision } : {}),
  };
  return out;
}

/** Checks every log file of the LevelDB directory `dir`. */
export async function checkLogs(dir: string, revisionOf: (batch: WriteBatch) => number | undefined): Promise<LogFileCheck[]> {
  const out: LogFileCheck[] = [];
  for (const name of await logFiles(dir)) {
    const path = join(dir, name);
    const size = (await stat(path)).size;
    if (size > MAX_LOG_BYTES) {
      out.push({ file: name, bytes: size, tornTailBytes: 0, skipped: `larger than ${MAX_LOG_BYTES} bytes` });
      continue;
    }
    out.push(judgeLog(name, await readFile(path), revisionOf));
  }
  return out;
}

/** Total bytes of the log files: about what LevelDB writes to reopen (its memtable becomes a table). */
export async function logBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await logFiles(dir)) total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  return total;
}

/**
 * Copies the damaged logs to `into` before an accepted loss lets LevelDB discard them, so the
 * dropped commits can still be examined by hand.
 */
export async function keepDamagedLogs(dir: string, files: string[], into: string): Promise<void> {
  await mkdir(into, { recursive: true, mode: 0o700 });
  for (const name of files) await copyFile(join(dir, name), join(into, name));
}
