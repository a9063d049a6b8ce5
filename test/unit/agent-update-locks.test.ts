import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostUpdateLocks, LOCK_FILE } from '../../agent/src/agent/update-locks.js';
import { eventually } from '../support/grove-cli.js';
import { silentLogger } from '../../src/core/logger.js';

describe('HostUpdateLocks', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('creates a world-writable directory per app, sees the lock file and watches for its removal', async () => {
    const root = await mkdtemp(join(tmpdir(), 'grove-locks-'));
    dirs.push(root);
    const locks = new HostUpdateLocks(root, silentLogger());
    try {
      const dir = await locks.ensureDir('web');
      expect(dir).toBe(join(root, 'web'));
      expect((await stat(dir!)).mode & 0o777).toBe(0o777);
      expect(await locks.held('web')).toBe(false);
      await writeFile(join(dir!, LOCK_FILE), '');
      expect(await locks.held('web')).toBe(true);
      let changes = 0;
      locks.watch(['web'], () => changes++);
      await unlink(join(dir!, LOCK_FILE));
      await eventually(async () => changes > 0, 5000, 'a watch event');
      expect(await locks.held('web')).toBe(false);
    } finally {
      locks.close();
    }
  });

  it('never turns an unsafe app name into a path', async () => {
    const root = await mkdtemp(join(tmpdir(), 'grove-locks-'));
    dirs.push(root);
    const locks = new HostUpdateLocks(root, silentLogger());
    expect(await locks.ensureDir('../etc')).toBeUndefined();
    expect(await locks.held('../etc')).toBe(false);
  });

  it('prunes the directories of apps that are gone, lock file included', async () => {
    const root = await mkdtemp(join(tmpdir(), 'grove-locks-'));
    dirs.push(root);
    const locks = new HostUpdateLocks(root, silentLogger());
    await locks.prune(new Set()); // nothing created yet: no error
    const web = (await locks.ensureDir('web'))!;
    await locks.ensureDir('db');
    await writeFile(join(web, LOCK_FILE), '');
    await locks.prune(new Set(['db']));
    expect(existsSync(web)).toBe(false);
    expect(await locks.held('web')).toBe(false);
    expect(existsSync(join(root, 'db'))).toBe(true);
  });
});
