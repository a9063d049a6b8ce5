/**
 * A backup taken by Grove 0.1 restores through the same migration as a 0.1 data dir, and the
 * new version's backups record their store layout.
 */
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroveKeys } from '../../src/core/keys.js';
import { isSealed } from '../../src/core/seal.js';
import { decodeBackup, encodeBackup } from '../../src/store/backup.js';
import { entriesToRestore } from '../../src/cli/roles/server-backup.js';
import { REPO_ROOT } from '../support/grove-cli.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'migrate');
const NOW = new Date('2030-01-01T00:00:00Z');

describe('restoring a 0.1 backup', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function serverDirWithKey(): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'grove-restore-'));
    await copyFile(join(FIXTURES, '0.1-secrets.key'), join(dir, 'secrets.key'));
    await chmod(join(dir, 'secrets.key'), 0o600);
    return dir;
  }

  it('writes the object layout, sealed with the data dir key, without the published-target records', async () => {
    const backup = decodeBackup(await readFile(join(FIXTURES, '0.1-store.backup')));
    expect(backup.header.storeSchema).toBeUndefined();
    const restore = await entriesToRestore(backup.entries, await serverDirWithKey(), NOW);
    expect(restore.migrated).toBe(true);
    const keys = restore.entries.map((e) => e.key);
    expect(keys).toContain('deployments/default/web');
    expect(keys).toContain(GroveKeys.schemaVersion);
    expect(keys.filter((k) => k.startsWith('apps/') || k.startsWith('targets/') || k.startsWith(GroveKeys.targetPrefix))).toEqual([]);
    expect(isSealed(restore.entries.find((e) => e.key === 'secrets/default/web-secret')!.value)).toBe(true);
  });

  it('refuses a 0.1 backup with sealed records when the data dir has no secrets key', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-restore-'));
    const backup = decodeBackup(await readFile(join(FIXTURES, '0.1-store.backup')));
    await expect(entriesToRestore(backup.entries, dir, NOW)).rejects.toThrow(/is sealed but there is no secrets key/);
  });

  it('restores a backup of this version as it is, and records its layout in the header', async () => {
    const entries = [
      { key: GroveKeys.schemaVersion, value: { version: 2 }, revision: 1 },
      { key: 'configmaps/default/a', value: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } }, revision: 2 },
      { key: GroveKeys.target('n'), value: { revision: 2 }, revision: 2 },
    ];
    const bytes = encodeBackup({ revision: 2, entries }, { cluster: 'edge', createdAt: NOW });
    const decoded = decodeBackup(bytes);
    expect(decoded.header.storeSchema).toBe(2);
    const restore = await entriesToRestore(decoded.entries, (dir = await mkdtemp(join(tmpdir(), 'grove-restore-'))), NOW);
    expect(restore).toEqual({ migrated: false, entries: entries.slice(0, 2).map(({ key, value }) => ({ key, value })) });
  });
});
