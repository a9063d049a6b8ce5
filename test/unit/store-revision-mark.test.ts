import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSlot, MARK_SLOT_BYTES, writeMark } from '../../src/store/mark-file.js';
import { lossAgainstMark, readMark, RevisionMark } from '../../src/store/revision-mark.js';

/** Timers fired by hand, and every write the mark makes. */
function harness(options: { failWrites?: () => boolean } = {}) {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const writes: number[] = [];
  const mark = new RevisionMark({
    file: '/nowhere/db.revision',
    intervalMs: 60_000,
    schedule: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => (t.cancelled = true);
    },
    write: async (_file, record) => {
      if (options.failWrites?.()) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      writes.push(record.revision);
    },
    now: () => new Date('2025-05-01T00:00:00.000Z'),
  });
  const pending = () => timers.filter((t) => !t.cancelled);
  const fire = async () => {
    const due = pending();
    for (const t of due) {
      t.cancelled = true;
      t.fn();
    }
    // Let the chained write settle.
    await new Promise((r) => setImmediate(r));
  };
  return { mark, timers, writes, pending, fire };
}

describe('RevisionMark', () => {
  it('writes at most once per interval after commits, with the latest revision', async () => {
    const { mark, writes, pending, fire } = harness();
    mark.start(10, 10);
    expect(pending()).toHaveLength(0);
    for (let r = 11; r <= 50; r++) mark.noteCommit(r);
    expect(pending()).toHaveLength(1);
    expect(pending()[0]!.ms).toBe(60_000);
    expect(writes).toEqual([]);
    await fire();
    expect(writes).toEqual([50]);
    expect(pending()).toHaveLength(0);
    mark.noteCommit(51);
    await fire();
    expect(writes).toEqual([50, 51]);
  });

  it('never writes when nothing changed', async () => {
    const { mark, writes, pending } = harness();
    mark.start(7, 7);
    mark.noteCommit(7);
    await mark.flush();
    expect(pending()).toHaveLength(0);
    expect(writes).toEqual([]);
    // A new store has nothing to record either.
    const fresh = harness();
    fresh.mark.start(0, undefined);
    await fresh.mark.flush();
    expect(fresh.writes).toEqual([]);
  });

  it('brings a file that lags (a crash) up to date, and writes at once on flush (a clean close)', async () => {
    const { mark, writes, pending } = harness();
    mark.start(12, 9);
    expect(pending()).toHaveLength(1);
    mark.noteCommit(13);
    await mark.flush();
    expect(writes).toEqual([13]);
    expect(pending()).toHaveLength(0);
    await mark.flush();
    expect(writes).toEqual([13]);
  });

  it('keeps trying after a failed write (a full disk) without giving up the revision', async () => {
    let fail = true;
    const { mark, writes, pending, fire } = harness({ failWrites: () => fail });
    mark.start(1, 1);
    mark.noteCommit(2);
    await fire();
    expect(writes).toEqual([]);
    expect(pending()).toHaveLength(1);
    fail = false;
    await fire();
    expect(writes).toEqual([2]);
  });
});

describe('revision mark file', () => {
  async function withFile(fn: (file: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'grove-mark-'));
    try {
      await fn(join(dir, 'db.revision'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const at = '2025-05-01T00:00:00.000Z';

  it('round-trips through two slots written in turn, in place', async () => {
    await withFile(async (file) => {
      expect(await readMark(file)).toEqual({});
      await writeMark(file, { revision: 41, at });
      expect((await readMark(file)).record).toEqual({ revision: 41, at });
      const inode = (await stat(file)).ino;
      await writeMark(file, { revision: 42, at });
      await writeMark(file, { revision: 43, at });
      expect((await readMark(file)).record).toEqual({ revision: 43, at });
      expect((await stat(file)).ino).toBe(inode);
      expect((await stat(file)).size).toBe(2 * MARK_SLOT_BYTES);
      const bytes = await readFile(file);
      expect(bytes.subarray(0, 60).toString()).toContain('"revision":43');
      expect(bytes.subarray(MARK_SLOT_BYTES, MARK_SLOT_BYTES + 60).toString()).toContain('"revision":42');
    });
  });

  it('falls back to the other slot when a write was torn, and calls a file without an intact record damaged', async () => {
    await withFile(async (file) => {
      await writeMark(file, { revision: 7, at });
      await writeMark(file, { revision: 8, at });
      // A power cut halfway through writing slot 0 (revision 9).
      const handle = await open(file, 'r+');
      await handle.write(encodeSlot({ revision: 9, at }).subarray(0, 20), 0, 20, 0);
      await handle.write(Buffer.from('xx'), 0, 2, 20);
      await handle.close();
      expect((await readMark(file)).record).toEqual({ revision: 8, at });
      for (const bad of ['{"revision": 5, "at": "x"}\n', 'garbage', 'x'.repeat(3 * MARK_SLOT_BYTES)]) {
        await writeFile(file, bad);
        const damaged = await readMark(file);
        expect(damaged.damage).toBeDefined();
        expect(lossAgainstMark(100, damaged, file)?.summary).toMatch(/revision record is damaged/);
      }
    });
  });

  it('is a loss when the store holds less than the recorded revision', () => {
    const read = { record: { revision: 41, at } };
    expect(lossAgainstMark(41, read, 'f')).toBeUndefined();
    expect(lossAgainstMark(50, read, 'f')).toBeUndefined();
    expect(lossAgainstMark(50, {}, 'f')).toBeUndefined();
    expect(lossAgainstMark(39, read, 'f')).toEqual({ summary: `LevelDB holds revision 39 but revision 41 was recorded in f at ${at}`, knownRevision: 41 });
  });
});
