/**
 * A reader for LevelDB's write-ahead log format, to find commits LevelDB would drop silently.
 *
 * The format: the file is a sequence of 32 KiB blocks; each block holds physical records with a
 * 7-byte header (masked CRC32C of type+data, 2-byte length, 1-byte type) and a tail of fewer
 * than 7 bytes is padding. A logical record (one WriteBatch) is one FULL record or a FIRST,
 * MIDDLEs and a LAST across blocks.
 *
 * replayLog() follows LevelDB's own log::Reader (db/log_reader.cc) step by step, so it
 * returns exactly the records LevelDB's recovery replays and the damage it skips. With
 * paranoid_checks off (classic-level's default) that damage is only reported in LevelDB's LOG
 * file: a checksum mismatch throws away the rest of its 32 KiB block, and a torn record left by
 * a failed write (a full disk) makes every later record in the block unreadable. auditLog()
 * then searches the bytes replay did not use for intact records: any found there are commits
 * that LevelDB would lose on open.
 *
 * Pure: bytes in, findings out. log-check.ts reads the files.
 */
import { crc32c, unmaskCrc } from './crc32c.js';

export const LOG_BLOCK_SIZE = 32 * 1024;
export const LOG_HEADER_SIZE = 7;

export const RecordType = { Zero: 0, Full: 1, First: 2, Middle: 3, Last: 4 } as const;

export interface PhysicalRecord {
  /** Offset of the header in the file. */
  offset: number;
  type: number;
  /** Payload bytes after the header. */
  length: number;
}

export interface LogicalRecord {
  /** Offset of its first fragment's header. */
  offset: number;
  data: Uint8Array;
  fragments: PhysicalRecord[];
}

export interface LogDamage {
  offset: number;
  bytes: number;
  reason: string;
}

export interface LogReplay {
  /** What LevelDB's recovery replays, in order. */
  records: LogicalRecord[];
  /** What it reports and skips, going on with the next record or block. */
  damage: LogDamage[];
  /** A record or header cut short at the end of the file: ignored without a report. */
  tornTail?: { offset: number; bytes: number };
}

type Physical = { kind: 'record'; record: PhysicalRecord } | { kind: 'eof' } | { kind: 'bad' };

function readHeader(bytes: Uint8Array, at: number): { crc: number; length: number; type: number } {
  const crc = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  return { crc, length: bytes[at + 4]! | (bytes[at + 5]! << 8), type: bytes[at + 6]! };
}

/** Whether a physical record with an intact checksum starts at `at` and fits before `end`. */
function intactAt(bytes: Uint8Array, at: number, end: number): PhysicalRecord | undefined {
  if (at + LOG_HEADER_SIZE > end) return undefined;
  const h = readHeader(bytes, at);
  if (at + LOG_HEADER_SIZE + h.length > end) return undefined;
  if (unmaskCrc(h.crc) !== crc32c(bytes, at + 6, at + LOG_HEADER_SIZE + h.length)) return undefined;
  return { offset: at, type: h.type, length: h.length };
}

/** LevelDB's log::Reader over a whole file (see db/log_reader.cc: ReadPhysicalRecord, ReadRecord). */
export function replayLog(bytes: Uint8Array): LogReplay {
  const out: LogReplay = { records: [], damage: [] };
  // The current block: [bufStart, bufEnd) is what LevelDB's buffer_ still holds.
  let nextBlock = 0;
  let bufStart = 0;
  let bufEnd = 0;
  let eof = false;
  const corrupt = (offset: number, size: number, reason: string): void => {
    out.damage.push({ offset, bytes: size, reason });
  };

  const readPhysical = (): Physical => {
    for (;;) {
      if (bufEnd - bufStart < LOG_HEADER_SIZE) {
        if (!eof) {
          // A full block was read last: what is left of it is trailer padding.
          bufStart = nextBlock;
          bufEnd = Math.min(nextBlock + LOG_BLOCK_SIZE, bytes.length);
          nextBlock = bufEnd;
          if (bufEnd - bufStart < LOG_BLOCK_SIZE) eof = true;
          continue;
        }
        // A header cut short at the end of the file: the writer died writing it.
        if (bufEnd > bufStart) out.tornTail = { offset: bufStart, bytes: bufEnd - bufStart };
        bufStart = bufEnd;
        return { kind: 'eof' };
      }
      const at = bufStart;
      const h = readHeader(bytes, at);
      if (LOG_HEADER_SIZE + h.length > bufEnd - bufStart) {
        const drop = bufEnd - bufStart;
        bufStart = bufEnd;
        if (!eof) {
          corrupt(at, drop, 'bad record length');
          return { kind: 'bad' };
        }
        // A record cut short at the end of the file: not reported as corruption.
        out.tornTail = { offset: at, bytes: drop };
        return { kind: 'eof' };
      }
      if (h.type === RecordType.Zero && h.length === 0) {
        // Preallocated (zeroed) file space: the rest of the block is skipped without a report.
        bufStart = bufEnd;
        return { kind: 'bad' };
      }
      if (unmaskCrc(h.crc) !== crc32c(bytes, at + 6, at + LOG_HEADER_SIZE + h.length)) {
        // LevelDB drops the rest of the block: the length itself may be damaged.
        const drop = bufEnd - bufStart;
        bufStart = bufEnd;
        corrupt(at, drop, 'checksum mismatch');
        return { kind: 'bad' };
      }
      bufStart += LOG_HEADER_SIZE + h.length;
      return { kind: 'record', record: { offset: at, type: h.type, length: h.length } };
    }
  };

  const payload = (r: PhysicalRecord): Uint8Array => bytes.subarray(r.offset + LOG_HEADER_SIZE, r.offset + LOG_HEADER_SIZE + r.length);
  let fragments: PhysicalRecord[] = [];
  let inFragmented = false;
  const scratchSize = (): number => fragments.reduce((n, f) => n + f.length, 0);
  const emit = (parts: PhysicalRecord[]): void => {
    const data = parts.length === 1 ? payload(parts[0]!) : Buffer.concat(parts.map(payload));
    out.records.push({ offset: parts[0]!.offset, data, fragments: parts });
  };

  for (;;) {
    const p = readPhysical();
    if (p.kind === 'eof') return out;
    if (p.kind === 'bad') {
      if (inFragmented) corrupt(fragments[0]!.offset, scratchSize(), 'error in middle of record');
      inFragmented = false;
      fragments = [];
      continue;
    }
    const r = p.record;
    switch (r.type) {
      case RecordType.Full:
      case RecordType.First:
        // An empty FIRST at a block's end (an old writer bug) is forgiven, as LevelDB does.
        if (inFragmented && scratchSize() > 0) corrupt(fragments[0]!.offset, scratchSize(), 'partial record without end');
        inFragmented = r.type === RecordType.First;
        fragments = [r];
        if (r.type === RecordType.Full) {
          emit(fragments);
          fragments = [];
        }
        break;
      case RecordType.Middle:
      case RecordType.Last:
        if (!inFragmented) {
          corrupt(r.offset, r.length, 'missing start of fragmented record');
          break;
        }
        fragments.push(r);
        if (r.type === RecordType.Last) {
          emit(fragments);
          fragments = [];
          inFragmented = false;
        }
        break;
      default:
        corrupt(r.offset, r.length + (inFragmented ? scratchSize() : 0), `unknown record type ${r.type}`);
        inFragmented = false;
        fragments = [];
    }
  }
}

export interface LogAudit {
  replay: LogReplay;
  /** Damage followed by records LevelDB still replays: something in the middle of the log is lost. */
  damageBeforeRecords: LogDamage[];
  /**
   * Intact records LevelDB would not replay (they lie past damage in the same block, or past a
   * torn write it took for the end): `data` for a complete record, absent for the LAST fragment
   * of one whose beginning is damaged.
   */
  dropped: { offset: number; data?: Uint8Array }[];
  /** The search for dropped records hit its byte budget (a large unreadable region). */
  searchIncomplete: boolean;
}

/** Most bytes checksummed while searching the unreplayed regions of one file. */
export const DEFAULT_SEARCH_BUDGET = 256 * 1024 * 1024;

/**
 * Replays the log as LevelDB would and searches every byte range replay did not use for
 * intact records. `isCommit` says whether a complete record's payload is a real commit (a
 * well-formed WriteBatch), so a chance checksum match inside garbage is not taken for one.
 */
export function auditLog(bytes: Uint8Array, isCommit: (data: Uint8Array) => boolean, budget = DEFAULT_SEARCH_BUDGET): LogAudit {
  const replay = replayLog(bytes);
  const used = replay.records.flatMap((r) => r.fragments).sort((a, b) => a.offset - b.offset);
  const lastUsedEnd = used.length ? used.at(-1)!.offset + LOG_HEADER_SIZE + used.at(-1)!.length : 0;
  const damageBeforeRecords = replay.damage.filter((d) => d.offset < lastUsedEnd);

  const found: PhysicalRecord[] = [];
  let spent = 0;
  let searchIncomplete = false;
  let cursor = 0;
  const search = (from: number, to: number): void => {
    for (let at = from; at + LOG_HEADER_SIZE <= to && !searchIncomplete; ) {
      const type = bytes[at + 6]!;
      // Cheap filters first: a real record has a known type and fits in a block.
      const length = bytes[at + 4]! | (bytes[at + 5]! << 8);
      if (type < RecordType.Full || type > RecordType.Last || length > LOG_BLOCK_SIZE - LOG_HEADER_SIZE) {
        at++;
        continue;
      }
      spent += length;
      if (spent > budget) searchIncomplete = true;
      const r = intactAt(bytes, at, to);
      if (r) {
        found.push(r);
        at += LOG_HEADER_SIZE + r.length;
      } else {
        at++;
      }
    }
  };
  for (const r of used) {
    search(cursor, r.offset);
    cursor = Math.max(cursor, r.offset + LOG_HEADER_SIZE + r.length);
  }
  search(cursor, bytes.length);
  return { replay, damageBeforeRecords, dropped: assemble(bytes, found, isCommit), searchIncomplete };
}

/** Found fragments → the complete records they make (FIRST, MIDDLEs, LAST a block trailer apart at most). */
function assemble(bytes: Uint8Array, found: PhysicalRecord[], isCommit: (data: Uint8Array) => boolean): LogAudit['dropped'] {
  const payload = (r: PhysicalRecord): Uint8Array => bytes.subarray(r.offset + LOG_HEADER_SIZE, r.offset + LOG_HEADER_SIZE + r.length);
  const end = (r: PhysicalRecord): number => r.offset + LOG_HEADER_SIZE + r.length;
  const out: LogAudit['dropped'] = [];
  for (let i = 0; i < found.length; i++) {
    const r = found[i]!;
    if (r.type === RecordType.Full) {
      if (isCommit(payload(r))) out.push({ offset: r.offset, data: payload(r) });
    } else if (r.type === RecordType.Last) {
      // Its beginning is damaged: a commit existed, its contents are lost.
      out.push({ offset: r.offset });
    } else if (r.type === RecordType.First) {
      const chain = [r];
      let j = i + 1;
      while (j < found.length && found[j]!.offset - end(chain.at(-1)!) < LOG_HEADER_SIZE && found[j]!.type === RecordType.Middle) chain.push(found[j++]!);
      const last = found[j];
      if (last && last.type === RecordType.Last && last.offset - end(chain.at(-1)!) < LOG_HEADER_SIZE) {
        const data = Buffer.concat([...chain, last].map(payload));
        if (isCommit(data)) out.push({ offset: r.offset, data });
        i = j;
      } else {
        // A FIRST (and MIDDLEs) never finished: a write that failed, never acknowledged.
        i = j - 1;
      }
    }
  }
  return out;
}

export interface BatchOp {
  type: 'put' | 'del';
  key: Uint8Array;
  value?: Uint8Array;
}

export interface WriteBatch {
  sequence: bigint;
  ops: BatchOp[];
}

function readVarint32(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; shift <= 28 && i < bytes.length; shift += 7, i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/**
 * A log record's payload as LevelDB's WriteBatch: 8-byte sequence, 4-byte count, then `count`
 * entries (1 = put key value, 0 = delete key; lengths as varint32). Undefined when the bytes
 * are not exactly one well-formed batch.
 */
export function parseWriteBatch(data: Uint8Array): WriteBatch | undefined {
  if (data.length < 12) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sequence = view.getBigUint64(0, true);
  const count = view.getUint32(8, true);
  const ops: BatchOp[] = [];
  let at = 12;
  const slice = (): Uint8Array | undefined => {
    const len = readVarint32(data, at);
    if (!len || len.next + len.value > data.length) return undefined;
    at = len.next + len.value;
    return data.subarray(len.next, at);
  };
  for (let i = 0; i < count; i++) {
    const tag = data[at++];
    if (tag !== 0 && tag !== 1) return undefined;
    const key = slice();
    if (!key) return undefined;
    if (tag === 0) {
      ops.push({ type: 'del', key });
      continue;
    }
    const value = slice();
    if (!value) return undefined;
    ops.push({ type: 'put', key, value });
  }
  return count > 0 && at === data.length ? { sequence, ops } : undefined;
}
