/**
 * LevelStore against lost commits (issue 12): refusal at open when the log lost commits or the
 * revision fell below the recorded one, an accepted loss that moves the revision on, a failed
 * write that makes the store reopen before its next write, and quarantine of corrupt entries.
 * The real full disk is in test/integration/storage-durability.test.ts.
 */
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { ErrorCode, isGroveError, type GroveError } from '../../src/core/errors.js';
import { LevelStore, type Db, type LevelStoreOptions } from '../../src/store/level-store.js';
import { replayLog } from '../../src/store/leveldb-log.js';
import { readMark } from '../../src/store/revision-mark.js';
import { writeMark } from '../../src/store/mark-file.js';
import type { StoreChange } from '../../src/store/store.js';

let dir: string;
let path: string;
const open: LevelStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-durable-'));
  path = join(dir, 'db');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<LevelStoreOptions> = {}): Promise<LevelStore> {
  const store = new LevelStore({ path, ...options });
  open.push(store);
  await store.open();
  return store;
}

async function closeAll(): Promise<void> {
  for (const s of open.splice(0)) await s.close();
}

async function fill(store: LevelStore, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await store.commit([{ type: 'put', key: `apps/a${i}`, value: { i, pad: 'x'.repeat(100) } }]);
}

async function logFile(): Promise<string> {
  const name = (await readdir(path)).find((n) => n.endsWith('.log'))!;
  return join(path, name);
}

async function refusal(options: Partial<LevelStoreOptions> = {}): Promise<GroveError> {
  const store = new LevelStore({ path, ...options });
  const err = await store.open().catch((e: unknown) => e);
  expect(isGroveError(err, ErrorCode.StoreError)).toBe(true);
  return err as GroveError;
}

describe('LevelStore: missing commits refuse the open', () => {
  it('a log truncated at a record boundary is caught by the recorded revision; accepting the loss moves past it', async () => {
    await fill(await openStore(), 6);
    await closeAll();
    expect((await readMark(`${path}.revision`)).record?.revision).toBe(6);
    const log = await logFile();
    const { records } = replayLog(await readFile(log));
    await truncate(log, records[2]!.offset);

    const err = await refusal({ acceptLossCommand: 'grove agent fsck --accept-loss' });
    expect(err.message).toMatch(/is missing commits: LevelDB holds revision 2 but revision 6 was recorded in .*db\.revision/);
    expect(err.message).toContain('`grove agent fsck --accept-loss`');
    expect(err.details).toMatchObject({ loss: true, knownRevision: 6 });
    // A refused open changes nothing: refused again, and the mark is as it was.
    expect((await refusal()).details).toMatchObject({ loss: true, knownRevision: 6 });
    expect((await readMark(`${path}.revision`)).record?.revision).toBe(6);

    const accepted = await openStore({ acceptLoss: true });
    expect(accepted.revision()).toBe(7);
    expect(accepted.acceptedLoss).toMatchObject({ revision: 7 });
    expect((await readMark(`${path}.revision`)).record?.revision).toBe(7);
    expect((await accepted.list('apps/')).map((e) => e.key)).toEqual(['apps/a1', 'apps/a2']);
    expect(await accepted.commit([{ type: 'put', key: 'apps/new', value: 1 }])).toBe(8);
    await closeAll();
    expect((await openStore()).revision()).toBe(8);
  });

  it('a damaged record in the middle of the log refuses the open before LevelDB replays it', async () => {
    await fill(await openStore(), 10);
    await closeAll();
    const log = await logFile();
    const bytes = await readFile(log);
    const { records } = replayLog(bytes);
    bytes[records[3]!.offset + 30]! ^= 0xff;
    await writeFile(log, bytes);

    const err = await refusal();
    expect(err.message).toMatch(/LevelDB log \d+\.log: 6 intact commit\(s\) .* would be dropped on open .*revision 10/);
    expect(err.message).toContain('`grove server fsck --accept-loss`');
    expect(await readFile(log)).toEqual(bytes);

    const accepted = await openStore({ acceptLoss: true });
    expect(accepted.revision()).toBe(11);
    expect(accepted.acceptedLoss?.keptLogs).toBeDefined();
    expect(await readdir(accepted.acceptedLoss!.keptLogs!)).toEqual([log.split('/').at(-1)]);
  });

  it('a write cut short at the end of the log (a crash) is no loss', async () => {
    await fill(await openStore(), 3);
    await closeAll();
    const log = await logFile();
    await truncate(log, (await stat(log)).size - 20);
    // As recorded before the last commit (the file lags commits by up to a minute).
    await rm(`${path}.revision`);
    await writeMark(`${path}.revision`, { revision: 2, at: '2025-05-01T00:00:00.000Z' });
    const store = await openStore();
    expect(store.revision()).toBe(2);
  });

  it('a damaged revision record refuses the open: missing commits cannot be ruled out', async () => {
    await fill(await openStore(), 2);
    await closeAll();
    await writeFile(`${path}.revision`, 'garbage');
    expect((await refusal()).message).toMatch(/revision record is damaged/);
    expect((await openStore({ acceptLoss: true })).revision()).toBe(3);
  });

  it('an open that fails after LevelDB opened (an unreadable revision record) releases the database', async () => {
    await fill(await openStore(), 2);
    await closeAll();
    await rm(`${path}.revision`);
    await mkdir(`${path}.revision`);
    const err = await new LevelStore({ path }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    await rm(`${path}.revision`, { recursive: true });
    expect((await openStore()).revision()).toBe(2);
  });
});

/** A LevelDB handle whose next batches fail as a full disk makes them fail. */
function flakyLevel(control: { fail: number; landThenFail?: boolean; opened: number }): (p: string) => Db {
  return (p) => {
    control.opened++;
    const db = new Level<string, Uint8Array>(p, { keyEncoding: 'utf8', valueEncoding: 'view' });
    const real = db.batch.bind(db) as (ops: unknown, options: unknown) => Promise<void>;
    (db as unknown as { batch: unknown }).batch = async (ops: unknown, options: unknown) => {
      if (control.fail > 0) {
        control.fail--;
        if (control.landThenFail) await real(ops, options);
        throw Object.assign(new Error(`IO error: ${p}/000003.log: No space left on device`), { code: 'LEVEL_IO_ERROR' });
      }
      return real(ops, options);
    };
    return db;
  };
}

describe('LevelStore: a failed write', () => {
  it('fails naming the full disk and makes the store reopen before its next write', async () => {
    const control = { fail: 0, opened: 0 };
    const store = await openStore({ openLevel: flakyLevel(control) });
    await store.commit([{ type: 'put', key: 'k', value: 1 }]);
    control.fail = 1;
    const err = await store.commit([{ type: 'put', key: 'k', value: 2 }]).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.NoSpace)).toBe(true);
    expect((err as Error).message).toBe(`cannot commit revision 2 to ${path}: no space left on device`);
    expect(control.opened).toBe(1);
    // Reads go on from the handle the failure left.
    expect((await store.get('k'))?.value).toBe(1);
    expect(await store.commit([{ type: 'put', key: 'k', value: 3 }])).toBe(2);
    expect(control.opened).toBe(2);
    expect(await store.commit([{ type: 'put', key: 'k', value: 4 }])).toBe(3);
    expect(control.opened).toBe(2);
  });

  it('does not try to reopen while the disk is still full, and reads keep working', async () => {
    const control = { fail: 1, opened: 0 };
    let free = 0;
    const store = await openStore({ openLevel: flakyLevel(control), freeSpace: async () => free });
    await store.commit([{ type: 'put', key: 'k', value: 1 }]).catch(() => undefined);
    control.fail = 0;
    for (let i = 0; i < 3; i++) {
      const err = await store.commit([{ type: 'put', key: 'k', value: 2 }]).catch((e: unknown) => e);
      expect((err as GroveError).message).toMatch(new RegExp(`^store at ${path} takes no writes until space is freed \\(0 bytes free, about \\d+ needed .*\\): no space left on device$`));
      expect(isGroveError(err, ErrorCode.NoSpace)).toBe(true);
    }
    expect(control.opened).toBe(1);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.list('')).toEqual([]);
    free = 100 * 1024 * 1024;
    expect(await store.commit([{ type: 'put', key: 'k', value: 2 }])).toBe(1);
    expect(control.opened).toBe(2);
  });

  it('keeps a write that reached the disk although it was reported failed, and tells watchers', async () => {
    const control = { fail: 0, opened: 0, landThenFail: true };
    const store = await openStore({ openLevel: flakyLevel(control) });
    const changes: StoreChange[] = [];
    store.watch((c) => changes.push(c));
    control.fail = 1;
    await expect(store.commit([{ type: 'put', key: 'ghost', value: 1 }])).rejects.toThrow(/no space left on device/);
    expect(await store.commit([{ type: 'put', key: 'next', value: 1 }])).toBe(2);
    expect(changes.map((c) => c.revision)).toEqual([1, 2]);
    expect((await store.get('ghost'))?.revision).toBe(1);
  });
});

describe('LevelStore: audit and quarantine', () => {
  it('finds undecodable and malformed entries, sets them aside, and the names work again', async () => {
    let store = await openStore();
    await store.commit([
      { type: 'put', key: 'configmaps/ok', value: { data: {} } },
      { type: 'put', key: 'configmaps/wrong', value: { data: 5 } },
    ]);
    await closeAll();
    const raw = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.open();
    await raw.put('configmaps/bad', Uint8Array.from([0xa5, 0x01]));
    await raw.put('secrets/shape', Uint8Array.from([0x01]));
    await raw.close();
    store = await openStore();
    const check = (e: { key: string; value: unknown }) => (e.key === 'configmaps/wrong' ? 'data is not a map' : undefined);
    const problems = await store.audit(check);
    expect(problems.map((p) => p.key)).toEqual(['configmaps/bad', 'configmaps/wrong', 'secrets/shape']);
    expect(problems[0]!.reason).toMatch(/^undecodable CBOR/);
    expect(problems[2]!.reason).toBe('not a {value, revision} record');
    const changes: StoreChange[] = [];
    store.watch((c) => changes.push(c));
    const rev = await store.quarantine(problems);
    expect(rev).toBe(2);
    expect(changes).toEqual([{ revision: 2, ops: problems.map((p) => ({ type: 'delete', key: p.key })) }]);
    expect((await store.list('')).map((e) => e.key)).toEqual(['configmaps/ok']);
    expect((await store.snapshot()).entries.map((e) => e.key)).toEqual(['configmaps/ok']);
    expect(await store.audit(check)).toEqual([]);
    const quarantined = await store.listQuarantined();
    expect(quarantined.map((q) => [q.key, q.revision])).toEqual([
      ['configmaps/bad', 2],
      ['configmaps/wrong', 2],
      ['secrets/shape', 2],
    ]);
    expect(Buffer.from(quarantined[0]!.raw)).toEqual(Buffer.from([0xa5, 0x01]));
    expect(await store.commit([{ type: 'put', key: 'configmaps/bad', value: { data: {} } }])).toBe(3);
    // Nothing to quarantine writes nothing.
    expect(await store.quarantine([{ key: 'configmaps/absent', reason: 'x' }])).toBe(3);
  });
});
