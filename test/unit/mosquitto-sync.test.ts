/**
 * mosquittoSync under a join storm: concurrent joins are written in batches, never
 * concurrently, and no joined node's password line is lost.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoSync } from '../../src/cli/roles/mosquitto-sync.js';
import { silentLogger } from '../../src/core/logger.js';
import { nodeUsername, SERVER_USERNAME } from '../../src/server/security/credentials.js';
import { MemoryStore } from '../../src/store/memory-store.js';

describe('mosquittoSync', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every password of 200 concurrent joins and writes them in few batches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-sync-'));
    const store = new MemoryStore();
    const sync = mosquittoSync({
      dir,
      cluster: 'lab',
      store,
      server: { username: SERVER_USERNAME, password: 'x'.repeat(40) },
      listener: { host: '127.0.0.1', port: 1883 },
      logger: silentLogger(),
    });
    await sync.writeAll();
    const names = Array.from({ length: 200 }, (_, i) => `n-${i}`);
    // The server stores each node before registering it with the broker.
    await store.commit(names.map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: { meta: { name: n } } })));
    await Promise.all(names.map((n) => sync.onJoin({ username: nodeUsername(n), password: `pw-${n}-${'y'.repeat(30)}` })));
    const passwd = await readFile(join(dir, 'passwd'), 'utf8');
    const users = new Set(passwd.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':'))));
    expect(users.size).toBe(201);
    for (const n of names) expect(users.has(nodeUsername(n))).toBe(true);
    // Every line carries a real hash, none was dropped to a bare user name.
    for (const line of passwd.split('\n').filter(Boolean)) expect(line).toMatch(/^[^:]+:\$7\$/);
  });
});
