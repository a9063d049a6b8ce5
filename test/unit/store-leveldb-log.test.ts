import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Level } from 'level';
import { crc32c, maskCrc, unmaskCrc } from '../../src/store/crc32c.js';
import { auditLog, LOG_BLOCK_SIZE, parseWriteBatch, RecordType, replayLog } from '../../src/store/leveldb-log.js';
import { judgeLog } from '../../src/store/log-check.js';
import { LogWriter, physicalRecord, writeBatch } from '../support/leveldb-log-writer.js';

const isBatch = (data: Uint8Array): boolean => parseWriteBatch(data) !== undefined;
/** A commit as our store makes it: one put and the revision record (a plain number here). */
const commit = (seq: number, key: string, size = 40): Buffer => writeBatch(seq, [[key, 'v'.repeat(size)], ['\x00meta/revision', String(seq)]]);
const keysOf = (data: Uint8Array): string[] => parseWriteBatch(data)!.ops.map((o) => Buffer.from(o.key).toString());
const revisionOf = (batch: { ops: { key: Uint8Array; value?: Uint8Array }[] }): number | undefined => {
  const op = batch.ops.find((o) => Buffer.from(o.key).toString() === '\x00meta/revision');
  return op?.value ? Number(Buffer.from(op.value).toString()) : undefined;
};

describe('crc32c', () => {
  it('matches the Castagnoli check value and masks like LevelDB', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    for (const v of [0, 1, 0xe3069283, 0xffffffff]) expect(unmaskCrc(maskCrc(v))).toBe(v);
    expect(maskCrc(0)).not.toBe(0);
  });
});

describe('replayLog', () => {
  it('reads back every record, small and spanning blocks, with no damage', () => {
    const records = [commit(1, 'a'), commit(2, 'b', 70_000), commit(3, 'c', LOG_BLOCK_SIZE - 7 - 200), commit(4, 'd')];
    const w = new LogWriter();
    for (const r of records) w.add(r);
    const replay = replayLog(w.bytes());
    expect(replay.damage).toEqual([]);
    expect(replay.tornTail).toBeUndefined();
    expect(replay.records.map((r) => Buffer.from(r.data))).toEqual(records);
    expect(replay.records[1]!.fragments.map((f) => f.type)).toEqual([RecordType.First, RecordType.Middle, RecordType.Last]);
  });

  it('reads a real LevelDB log the same way LevelDB wrote it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-ldblog-'));
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      await db.open();
      await db.put('first', 'x'.repeat(50_000), { sync: true });
      await db.batch([{ type: 'put', key: 'second', value: 'y' }, { type: 'del', key: 'first' }], { sync: true });
      const log = (await readdir(dir)).find((n) => n.endsWith('.log'))!;
      const replay = replayLog(await readFile(join(dir, log)));
      expect(replay.damage).toEqual([]);
      expect(replay.records.map((r) => keysOf(r.data))).toEqual([['first'], ['second', 'first']]);
      expect(parseWriteBatch(replay.records[1]!.data)!.ops.map((o) => o.type)).toEqual(['put', 'del']);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores a record cut short at the end of the file (a crash mid-write)', () => {
    const w = new LogWriter().add(commit(1, 'a')).add(commit(2, 'b'));
    const whole = w.bytes();
    for (const cut of [whole.length - 1, whole.length - 30, w.offsets[1]! + 3]) {
      const replay = replayLog(whole.subarray(0, cut));
      expect(replay.records).toHaveLength(1);
      expect(replay.damage).toEqual([]);
      expect(replay.tornTail).toMatchObject({ offset: w.offsets[1] });
    }
  });

  it('skips zeroed (preallocated) space without a report', () => {
    const w = new LogWriter().add(commit(1, 'a')).raw(Buffer.alloc(500));
    const replay = replayLog(w.bytes());
    expect(replay.records).toHaveLength(1);
    expect(replay.damage).toEqual([]);
  });
});

describe('auditLog', () => {
  it('finds nothing wrong in a clean log or one with a torn tail', () => {
    const w = new LogWriter().add(commit(1, 'a')).add(commit(2, 'b'));
    const torn = physicalRecord(RecordType.Full, commit(3, 'c')).subarray(0, 25);
    for (const bytes of [w.bytes(), Buffer.concat([w.bytes(), torn])]) {
      const audit = auditLog(bytes, isBatch);
      expect(audit.dropped).toEqual([]);
      expect(audit.damageBeforeRecords).toEqual([]);
    }
  });

  it('finds the commits LevelDB drops after a torn write that later writes were appended to (a full disk)', () => {
    // LevelDB's writer after a failed append: the torn bytes stay, its block position moves on as
    // if the whole record had been written, and later records follow the torn bytes.
    const failed = physicalRecord(RecordType.Full, commit(3, 'c', 3000));
    const w = new LogWriter().add(commit(1, 'a')).add(commit(2, 'b'));
    const tornAt = w.bytes().length;
    w.raw(failed.subarray(0, 1000), failed.length);
    for (let seq = 4; seq <= 8; seq++) w.add(commit(seq, `after-${seq}`));
    const audit = auditLog(w.bytes(), isBatch);
    // What LevelDB replays: the two commits before the torn one, then nothing.
    expect(audit.replay.records.map((r) => keysOf(r.data)[0])).toEqual(['a', 'b']);
    // …silently: in the last block the torn record looks like a write cut short by a crash.
    expect(audit.replay.damage).toEqual([]);
    expect(audit.replay.tornTail).toMatchObject({ offset: tornAt });
    expect(audit.dropped.map((d) => keysOf(d.data!)[0])).toEqual(['after-4', 'after-5', 'after-6', 'after-7', 'after-8']);
    expect(judgeLog('000003.log', w.bytes(), revisionOf).loss).toMatchObject({ knownRevision: 8 });
    expect(judgeLog('000003.log', w.bytes(), revisionOf).loss?.summary).toMatch(/000003\.log: 5 intact commit\(s\) .* would be dropped on open .*revision 8/);
  });

  it('finds the commits LevelDB drops when failed writes left nothing but put its writer out of step (ext4)', () => {
    // ext4 refuses a write it cannot allocate whole, so the failed records leave no bytes; the
    // writer still counts them, places later fragments for blocks that are not where it thinks,
    // and the first record across a real 32 KiB boundary breaks that block and the next.
    const w = new LogWriter().add(commit(1, 'a'));
    for (let i = 0; i < 10; i++) w.raw(Buffer.alloc(0), 4100);
    for (let seq = 2; seq <= 6; seq++) w.add(commit(seq, `after-${seq}`, 8000));
    const audit = auditLog(w.bytes(), isBatch);
    const replayed = audit.replay.records.map((r) => keysOf(r.data)[0]);
    expect(replayed.length).toBeLessThan(6);
    const lost = audit.dropped.filter((d) => d.data).map((d) => keysOf(d.data!)[0]);
    expect([...replayed, ...lost].sort()).toEqual(['a', 'after-2', 'after-3', 'after-4', 'after-5', 'after-6']);
  });

  it('finds damage in the middle: the rest of its block is dropped, later blocks replay', () => {
    const w = new LogWriter();
    for (let seq = 1; seq <= 400; seq++) w.add(commit(seq, `k${seq}`, 200));
    const bytes = w.bytes();
    bytes[w.offsets[9]! + 20]! ^= 0xff; // bit rot inside record 10
    const audit = auditLog(bytes, isBatch);
    // The checksum mismatch, then the second half of a record whose beginning was dropped with it.
    expect(audit.damageBeforeRecords.map((d) => d.reason)).toEqual(['checksum mismatch', 'missing start of fragmented record']);
    const replayed = new Set(audit.replay.records.map((r) => keysOf(r.data)[0]));
    expect(replayed.has('k9')).toBe(true);
    expect(replayed.has('k10')).toBe(false);
    expect(replayed.has('k400')).toBe(true);
    // The intact records after the damage in the same block are found; record 10 itself is not.
    const dropped = audit.dropped.map((d) => keysOf(d.data!)[0]);
    expect(dropped[0]).toBe('k11');
    expect(dropped.every((k) => !replayed.has(k))).toBe(true);
    const verdict = judgeLog('000005.log', bytes, revisionOf);
    expect(verdict.loss?.summary).toMatch(/are damaged \(checksum mismatch\) with commits after them/);
  });

  it('reports the LAST fragment of a record whose beginning is damaged, and skips a FIRST that never finished', () => {
    const big = commit(2, 'big', 40_000);
    const w = new LogWriter().add(commit(1, 'a')).add(big).add(commit(3, 'c'));
    const bytes = w.bytes();
    bytes[w.offsets[1]! + 10]! ^= 0x01; // the FIRST fragment of the big record
    const audit = auditLog(bytes, isBatch);
    expect(audit.dropped.some((d) => d.data === undefined)).toBe(true);

    const unfinished = new LogWriter().add(commit(1, 'a')).raw(physicalRecord(RecordType.First, Buffer.alloc(100, 7)));
    const clean = auditLog(unfinished.bytes(), isBatch);
    expect(clean.dropped).toEqual([]);
  });

  it('does not take checksummed garbage that is not a WriteBatch for a commit', () => {
    const w = new LogWriter().add(commit(1, 'a')).raw(Buffer.from('garbage!!'), 9).raw(physicalRecord(RecordType.Full, Buffer.from('not a batch at all')));
    expect(auditLog(w.bytes(), isBatch).dropped).toEqual([]);
  });

  it('stops searching at its byte budget and says so', () => {
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) & 0xff;
    const w = new LogWriter().add(commit(1, 'a')).raw(noise);
    expect(auditLog(w.bytes(), isBatch, 1000).searchIncomplete).toBe(true);
    expect(auditLog(w.bytes(), isBatch).searchIncomplete).toBe(false);
  });
});

describe('parseWriteBatch', () => {
  it('reads puts and deletes and refuses anything else', () => {
    const batch = parseWriteBatch(writeBatch(42, [['k', 'v'], ['gone']]))!;
    expect(batch.sequence).toBe(42n);
    expect(batch.ops.map((o) => [o.type, Buffer.from(o.key).toString(), o.value && Buffer.from(o.value).toString()])).toEqual([
      ['put', 'k', 'v'],
      ['del', 'gone', undefined],
    ]);
    const good = writeBatch(1, [['k', 'v']]);
    expect(parseWriteBatch(good.subarray(0, good.length - 1))).toBeUndefined();
    expect(parseWriteBatch(Buffer.concat([good, Buffer.from([0])]))).toBeUndefined();
    expect(parseWriteBatch(writeBatch(1, []))).toBeUndefined();
    expect(parseWriteBatch(Buffer.alloc(5))).toBeUndefined();
  });
});
