/**
 * The on-disk form of the recorded store revision (revision-mark.ts): two 4 KiB slots in one
 * file, each `<crc32c hex> {"revision":N,"at":TIME}\n` padded with zeros. A write overwrites the
 * slot that does not hold the newest record, in place, and fdatasyncs: one data block reaches
 * the card, where a new file renamed over the old costs two journal commits (about five times
 * the writes, measured in docs/reliability.md). A write torn by a power cut leaves the other slot
 * intact, so a reader always finds a whole record, at worst the one before.
 */
import { open } from 'node:fs/promises';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import { crc32c } from './crc32c.js';
import { writeFileAtomic } from './durable-file.js';

export const MARK_SLOT_BYTES = 4096;
const MARK_FILE_BYTES = 2 * MARK_SLOT_BYTES;

export interface RevisionMarkRecord {
  revision: number;
  /** When it was written (ISO), for the operator reading a refusal. */
  at: string;
}

/** What the file holds: a record, nothing (no file yet), or damage (it cannot be trusted either way). */
export type MarkRead = { record?: RevisionMarkRecord; damage?: string };

export function encodeSlot(record: RevisionMarkRecord): Buffer {
  const json = JSON.stringify({ revision: record.revision, at: record.at });
  const line = `${crc32c(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
  const slot = Buffer.alloc(MARK_SLOT_BYTES);
  slot.write(line, 'utf8');
  return slot;
}

/** The record in one slot, or undefined when the slot is empty, torn or not ours. */
export function decodeSlot(slot: Uint8Array): RevisionMarkRecord | undefined {
  const text = Buffer.from(slot).toString('utf8');
  const m = /^([0-9a-f]{8}) (\{[^\n]{1,200}\})\n/.exec(text);
  if (!m || parseInt(m[1]!, 16) !== crc32c(Buffer.from(m[2]!))) return undefined;
  let o: { revision?: unknown; at?: unknown };
  try {
    o = JSON.parse(m[2]!) as typeof o;
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(o.revision) || (o.revision as number) < 0 || typeof o.at !== 'string') return undefined;
  return { revision: o.revision as number, at: o.at };
}

/** Both slots of the file's bytes: the newer whole record, and which slot the next write takes. */
function pick(bytes: Uint8Array): { record?: RevisionMarkRecord; nextSlot: number } {
  const slots = [0, 1].map((i) => decodeSlot(bytes.subarray(i * MARK_SLOT_BYTES, (i + 1) * MARK_SLOT_BYTES)));
  const newer = slots[1] && (!slots[0] || slots[1].revision > slots[0].revision) ? 1 : 0;
  const record = slots[newer];
  return { ...(record ? { record } : {}), nextSlot: record ? 1 - newer : 0 };
}

async function readBytes(file: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GroveError(ErrorCode.StoreError, `cannot read ${file}: ${errorMessage(err)}`, { cause: err, details: { file } });
  }
  try {
    const buffer = Buffer.alloc(MARK_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function readMark(file: string): Promise<MarkRead> {
  const bytes = await readBytes(file);
  if (bytes === undefined) return {};
  if (bytes.length > MARK_FILE_BYTES) return { damage: `${file} is larger than a revision record can be` };
  const { record } = pick(bytes);
  return record ? { record } : { damage: `${file} holds no intact revision record` };
}

/** Records `record` (see the module comment); the first write creates the file atomically. */
export async function writeMark(file: string, record: RevisionMarkRecord): Promise<void> {
  const bytes = await readBytes(file).catch(() => undefined);
  if (bytes === undefined) {
    await writeFileAtomic(file, Buffer.concat([encodeSlot(record), Buffer.alloc(MARK_SLOT_BYTES)]), 0o600);
    return;
  }
  const handle = await open(file, 'r+');
  try {
    await handle.write(encodeSlot(record), 0, MARK_SLOT_BYTES, pick(bytes).nextSlot * MARK_SLOT_BYTES);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
