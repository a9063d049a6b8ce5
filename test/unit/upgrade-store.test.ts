/**
 * The start hook over a store: a 0.1 store is upgraded in ONE commit with ONE log line, an
 * upgraded or fresh store is never written again, and a failed commit leaves the 0.1 data as
 * it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroveKeys } from '../../src/core/keys.js';
import { decodeBackup } from '../../src/store/backup.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreOp } from '../../src/store/store.js';
import { upgradeStoreAtStart, type UpgradeOptions } from '../../src/server/migrate/upgrade-store.js';
import { markIfFresh, STORE_SCHEMA_VERSION, storeIsCurrent } from '../../src/server/migrate/store-schema.js';
import { capturingLogger } from '../support/capture-logger.js';
import { REPO_ROOT } from '../support/grove-cli.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'migrate');
const backup = decodeBackup(readFileSync(join(FIXTURES, '0.1-store.backup')));
const secretKey = readFileSync(join(FIXTURES, '0.1-secrets.key'));

async function legacyStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.open();
  await store.commit(backup.entries.map((e): StoreOp => ({ type: 'put', key: e.key, value: e.value })));
  return store;
}

function options(): UpgradeOptions & { lines: () => Record<string, unknown>[] } {
  const { logger, lines } = capturingLogger();
  let n = 0;
  return { secretKey, context: { now: new Date('2030-01-01T00:00:00Z'), newUid: () => `u${++n}` }, log: logger, lines };
}

describe('upgradeStoreAtStart', () => {
  it('upgrades a 0.1 store in one commit and one log line, then never writes again', async () => {
    const store = await legacyStore();
    const before = store.revision();
    const opts = options();
    expect(await upgradeStoreAtStart(store, opts)).toBe('migrated');
    expect(store.revision()).toBe(before + 1);
    expect((await store.list('apps/')).length).toBe(0);
    expect((await store.get(GroveKeys.schemaVersion))?.value).toMatchObject({ version: 2, migratedFrom: '0.1' });
    expect((await store.get('deployments/default/web'))?.value).toMatchObject({ kind: 'Deployment' });
    const logged = opts.lines().filter((l) => String(l.msg).startsWith('store upgraded'));
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toBe(
      'store upgraded from Grove 0.1 in one commit: 8 workloads, 4 replicasets, 1 controllerrevisions, 10 pods, 2 nodes, 1 configmaps, 1 secrets, 2 tokens; 4 records of removed apps or Job history not carried over',
    );
    expect(opts.lines()).toHaveLength(1);

    expect(await upgradeStoreAtStart(store, options())).toBe('current');
    expect(store.revision()).toBe(before + 1);
  });

  it('marks a fresh store once, and writes nothing on later starts', async () => {
    const store = new MemoryStore();
    await store.open();
    expect(await upgradeStoreAtStart(store, options())).toBe('fresh');
    expect(store.revision()).toBe(1);
    expect(await upgradeStoreAtStart(store, options())).toBe('current');
    expect(store.revision()).toBe(1);
  });

  it('leaves the 0.1 data as it was when the commit fails', async () => {
    const store = await legacyStore();
    const snapshot = await store.snapshot();
    store.commit = () => Promise.reject(new Error('disk gone'));
    await expect(upgradeStoreAtStart(store, options())).rejects.toThrow('disk gone');
    expect(await store.snapshot()).toEqual(snapshot);
  });

  it('refuses a store it cannot read all of, writing nothing', async () => {
    const store = await legacyStore();
    await store.commit([{ type: 'put', key: 'widgets/x', value: {} }]);
    const revision = store.revision();
    await expect(upgradeStoreAtStart(store, options())).rejects.toThrow(/cannot upgrade the Grove 0\.1 store \(1 problem\(s\); nothing was changed\): widgets\/x: not a key/);
    expect(store.revision()).toBe(revision);
  });
});

describe('the start check without the migration (store-schema.ts)', () => {
  it('marks an empty store with the layout, as the upgrade would, and leaves any other alone', async () => {
    const empty = new MemoryStore();
    await empty.open();
    expect(await storeIsCurrent(empty)).toBe(false);
    expect(await markIfFresh(empty)).toBe(true);
    expect(await storeIsCurrent(empty)).toBe(true);
    expect((await empty.get(GroveKeys.schemaVersion))?.value).toEqual({ version: STORE_SCHEMA_VERSION });

    const legacy = await legacyStore();
    const revision = legacy.revision();
    expect(await markIfFresh(legacy)).toBe(false);
    expect(legacy.revision()).toBe(revision);
    expect(await storeIsCurrent(legacy)).toBe(false);
  });
});
