/**
 * mosquittoSync under a join storm: concurrent joins are written in batches, never
 * concurrently, and no joined node's password line is lost. And Mosquitto's reloads: a SIGHUP
 * is followed by broker round trips that prove the reload done before the next one (a SIGHUP
 * during a reload is lost), node passwords are hashed cheaply, and a deleted node leaves the
 * files at the next rewrite.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoSync } from '../../src/cli/roles/mosquitto-sync.js';
import { silentLogger } from '../../src/core/logger.js';
import { nodeUsername, SERVER_USERNAME } from '../../src/server/security/credentials.js';
import { MemoryStore } from '../../src/store/memory-store.js';

function makeSync(dir: string, store: MemoryStore, pidFile?: string) {
  return mosquittoSync({
    dir,
    cluster: 'lab',
    store,
    server: { username: SERVER_USERNAME, password: 'x'.repeat(40) },
    listener: { host: '127.0.0.1', port: 1883 },
    ...(pidFile ? { pidFile } : {}),
    logger: silentLogger(),
  });
}

describe('mosquittoSync', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every password of 200 concurrent joins and writes them in few batches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-sync-'));
    const store = new MemoryStore();
    const sync = makeSync(dir, store);
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

describe('mosquittoSync reloads', () => {
  let dir: string | undefined;
  let onHup: (() => void) | undefined;
  afterEach(async () => {
    if (onHup) process.off('SIGHUP', onHup);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * This process plays Mosquitto (its pid file, its SIGHUP handler) for a sync that has written
   * its files; `events` records SIGHUPs and broker round trips from then on.
   */
  async function playMosquitto(): Promise<{ events: string[]; store: MemoryStore; sync: ReturnType<typeof makeSync>; dir: string }> {
    const d = (dir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-sync-')));
    const events: string[] = [];
    onHup = () => events.push('hup');
    process.on('SIGHUP', onHup);
    const pidFile = join(d, 'mosquitto.pid');
    await writeFile(pidFile, `${process.pid}\n`);
    const store = new MemoryStore();
    const sync = makeSync(d, store, pidFile);
    await sync.writeAll();
    // The signal handler runs on a later turn of the event loop: let it, before the "broker" answers.
    sync.setRoundTrip(() => new Promise((resolve) => setTimeout(() => resolve(void events.push('trip')), 20)));
    await new Promise((r) => setTimeout(r, 50));
    events.length = 0;
    return { events, store, sync, dir: d };
  }

  it('waits for two broker round trips after each SIGHUP, and drops a deleted node at the next rewrite', async () => {
    const { events, store, sync, dir } = await playMosquitto();
    await store.commit(['a', 'b'].map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: { meta: { name: n } } })));
    await Promise.all(['a', 'b'].map((n) => sync.onJoin({ username: nodeUsername(n), password: `pw-${n}-${'y'.repeat(30)}` })));
    // One or two batches (the first join is flushed at once); never a SIGHUP before the last reload is confirmed.
    expect(events.join(',')).toMatch(/^hup,trip,trip(,hup,trip,trip)?$/);
    const passwd = await readFile(join(dir, 'passwd'), 'utf8');
    // Random node passwords are hashed with one PBKDF2 iteration; the server's keeps 101.
    expect(passwd).toMatch(/^node\.a:\$7\$1\$/m);
    expect(passwd).toMatch(/^grove-server:\$7\$101\$/m);

    await store.commit([{ type: 'delete', key: 'nodes/a' }]);
    await store.commit([{ type: 'put', key: 'nodes/c', value: { meta: { name: 'c' } } }]);
    await sync.onJoin({ username: nodeUsername('c'), password: `pw-c-${'y'.repeat(30)}` });
    const users = (await readFile(join(dir, 'passwd'), 'utf8')).split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':')));
    expect(users.sort()).toEqual([SERVER_USERNAME, nodeUsername('b'), nodeUsername('c')].sort());
    expect(await readFile(join(dir, 'acl'), 'utf8')).not.toContain('user node.a');
    sync.close();
  });

  it('rewrites the files and reloads Mosquitto when a node is deleted, without waiting for a join', async () => {
    const { events, store, sync, dir } = await playMosquitto();
    await store.commit(['a', 'b'].map((n) => ({ type: 'put' as const, key: `nodes/${n}`, value: { meta: { name: n } } })));
    await Promise.all(['a', 'b'].map((n) => sync.onJoin({ username: nodeUsername(n), password: `pw-${n}-${'y'.repeat(30)}` })));
    await new Promise((r) => setTimeout(r, 100));
    events.length = 0;

    await store.commit([{ type: 'delete', key: 'nodes/a' }]); // grove node delete a
    const passwdHas = async (user: string) => (await readFile(join(dir, 'passwd'), 'utf8')).split('\n').some((l) => l.startsWith(`${user}:`));
    // The reload (SIGHUP) follows the writes of passwd and then acl: wait for it, then read both.
    for (let i = 0; i < 500 && !events.includes('hup'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(events[0]).toBe('hup');
    expect(await passwdHas(nodeUsername('a'))).toBe(false);
    expect(await passwdHas(nodeUsername('b'))).toBe(true);
    expect(await readFile(join(dir, 'acl'), 'utf8')).not.toContain('user node.a');
    sync.close();
  });
});
