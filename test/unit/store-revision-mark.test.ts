import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMark, encodeMark, lossAgainstMark, readMark, RevisionMark } from '../../src/store/revision-mark.js';

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
    write: async (_file, text) => {
      if (options.failWrites?.()) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      writes.push(decodeMark(text, 'f').revision);
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
  it('round-trips, and a loss is a store revision below the recorded one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-mark-'));
    try {
      const file = join(dir, 'db.revision');
      expect(await readMark(file)).toEqual({});
      await writeFile(file, encodeMark({ revision: 41, at: '2025-05-01T00:00:00.000Z' }));
      const read = await readMark(file);
      expect(read.record).toEqual({ revision: 41, at: '2025-05-01T00:00:00.000Z' });
      expect(lossAgainstMark(41, read, file)).toBeUndefined();
      expect(lossAgainstMark(50, read, file)).toBeUndefined();
      expect(lossAgainstMark(39, read, file)).toEqual({
        summary: `LevelDB holds revision 39 but revision 41 was recorded in ${file} at 2025-05-01T00:00:00.000Z`,
        knownRevision: 41,
      });
      for (const bad of ['{"revision": -1, "at": "x"}', 'not json', '{"revision": 1.5, "at": "x"}', 'x'.repeat(5000)]) {
        await writeFile(file, bad);
        const damaged = await readMark(file);
        expect(damaged.damage).toBeDefined();
        expect(lossAgainstMark(100, damaged, file)?.summary).toMatch(/revision record is damaged/);
      }
      expect(await readFile(file, 'utf8')).toHaveLength(5000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
