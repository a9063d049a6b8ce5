/**
 * Writes LevelDB write-ahead log bytes the way LevelDB's log::Writer does (32 KiB blocks,
 * zero trailers, FULL/FIRST/MIDDLE/LAST fragments), and WriteBatch payloads, so tests can
 * craft logs with torn writes and damage at exact places.
 */
import { crc32c, maskCrc } from '../../src/store/crc32c.js';
import { LOG_BLOCK_SIZE, LOG_HEADER_SIZE, RecordType } from '../../src/store/leveldb-log.js';

export function physicalRecord(type: number, data: Uint8Array): Buffer {
  const header = Buffer.alloc(LOG_HEADER_SIZE);
  const typed = Buffer.concat([Buffer.from([type]), data]);
  header.writeUInt32LE(maskCrc(crc32c(typed)), 0);
  header.writeUInt16LE(data.length, 4);
  header[6] = type;
  return Buffer.concat([header, data]);
}

/** Appends records as LevelDB's writer would, starting at `blockOffset` within a block. */
export class LogWriter {
  private readonly chunks: Buffer[] = [];
  /** Offsets where each added record's first fragment starts. */
  readonly offsets: number[] = [];
  private size = 0;

  constructor(private blockOffset = 0) {}

  add(record: Uint8Array): this {
    let left = record.length;
    let at = 0;
    let begin = true;
    do {
      const leftover = LOG_BLOCK_SIZE - this.blockOffset;
      if (leftover < LOG_HEADER_SIZE) {
        this.push(Buffer.alloc(leftover));
        this.blockOffset = 0;
      }
      if (begin) this.offsets.push(this.size);
      const avail = LOG_BLOCK_SIZE - this.blockOffset - LOG_HEADER_SIZE;
      const length = Math.min(left, avail);
      const end = length === left;
      const type = begin && end ? RecordType.Full : begin ? RecordType.First : end ? RecordType.Last : RecordType.Middle;
      this.push(physicalRecord(type, record.subarray(at, at + length)));
      this.blockOffset += LOG_HEADER_SIZE + length;
      at += length;
      left -= length;
      begin = false;
    } while (left > 0);
    return this;
  }

  /** Raw bytes behind the writer's back (a torn write): the writer's block position moves on as if all were written. */
  raw(bytes: Uint8Array, believed = bytes.length): this {
    this.push(Buffer.from(bytes));
    this.blockOffset = (this.blockOffset + believed) % LOG_BLOCK_SIZE;
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A WriteBatch payload: puts (value given) and deletes (value undefined). */
export function writeBatch(sequence: number, ops: [key: string | Uint8Array, value?: Uint8Array | string][]): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(sequence), 0);
  head.writeUInt32LE(ops.length, 8);
  const parts: Buffer[] = [head];
  for (const [k, v] of ops) {
    const key = Buffer.from(k);
    parts.push(Buffer.from([v === undefined ? 0 : 1]), varint(key.length), key);
    if (v !== undefined) {
      const value = Buffer.from(v);
      parts.push(varint(value.length), value);
    }
  }
  return Buffer.concat(parts);
}
