import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Level } from 'level';
import { LevelStore, META_REVISION_KEY } from '../../src/store/level-store.js';
import type { Store } from '../../src/store/store.js';
import { ErrorCode, isGroveError, type GroveError } from '../../src/core/errors.js';
import { storeContract } from '../contract/store.contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'grove-level-'));
}

storeContract('LevelStore', async () => {
  const dir = await tempDir();
  const path = join(dir, 'db');
  const open: LevelStore[] = [new LevelStore({ path })];
  return {
    store: open[0]!,
    async reopen(): Promise<Store> {
      await open.at(-1)!.close();
      const next = new LevelStore({ path });
      open.push(next);
      await next.open();
      return next;
    },
    async cleanup() {
      for (const s of open) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** name → size:mtime of every file in the database directory. */
async function snapshot(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path)).sort()) {
    const info = await stat(join(path, name));
    out[name] = `${info.size}:${info.mtimeMs}`;
  }
  return out;
}

async function withStore(fn: (store: LevelStore, path: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  const path = join(dir, 'nested', 'db');
  const store = new LevelStore({ path });
  try {
    await store.open();
    await fn(store, path, dir);
  } finally {
    await store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

describe('LevelStore', () => {
  it('creates its directory owner-only', async () => {
    await withStore(async (_store, path) => {
      expect((await stat(path)).mode & 0o777).toBe(0o700);
    });
  });

  it('writes nothing to disk for 100 no-op commits', async () => {
    await withStore(async (store, path) => {
      const value = { kind: 'App', meta: { name: 'web', labels: { a: '1' } }, spec: { replicas: 2 } };
      await store.commit([
        { type: 'put', key: 'apps/web', value },
        { type: 'put', key: 'nodes/pi-1', value: { cordoned: false } },
      ]);
      // Let LevelDB settle anything it does right after a write before taking the baseline.
      await new Promise((r) => setTimeout(r, 200));
      const before = await snapshot(path);
      const sizeBefore = await store.sizeOnDisk();
      for (let i = 0; i < 100; i++) {
        const rev = await store.commit([
          { type: 'put', key: 'apps/web', value: { spec: { replicas: 2 }, meta: { labels: { a: '1' }, name: 'web' }, kind: 'App' } },
          { type: 'put', key: 'nodes/pi-1', value: { cordoned: false } },
          { type: 'delete', key: 'pods/absent' },
        ]);
        expect(rev).toBe(1);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(await snapshot(path)).toEqual(before);
      expect(await store.sizeOnDisk()).toBe(sizeBefore);
      expect(sizeBefore).toBeGreaterThan(0);
      // Control: a real change does touch the files.
      await store.commit([{ type: 'put', key: 'nodes/pi-1', value: { cordoned: true } }]);
      expect(await snapshot(path)).not.toEqual(before);
    });
  });

  it('reports a corrupt entry as StoreError naming the key', async () => {
    await withStore(async (store, path) => {
      await store.commit([{ type: 'put', key: 'apps/web', value: { ok: true } }]);
      await store.close();
      const raw = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
      await raw.open();
      await raw.put('apps/bad', Uint8Array.from([0xa5, 0x01]));
      await raw.put('apps/shape', Uint8Array.from([0x01]));
      await raw.close();
      await store.open();
      for (const key of ['apps/bad', 'apps/shape']) {
        const err = await store.get(key).catch((e: unknown) => e);
        expect(isGroveError(err, ErrorCode.StoreError)).toBe(true);
        expect((err as Error).message).toContain(JSON.stringify(key));
      }
      await expect(store.list('apps/')).rejects.toThrow(/corrupt store entry "apps\/bad"/);
      expect((await store.get('apps/web'))?.value).toEqual({ ok: true });
    });
  });

  it('refuses to open on a corrupt revision record', async () => {
    await withStore(async (store, path) => {
      await store.close();
      const raw = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
      await raw.open();
      await raw.put(META_REVISION_KEY, Uint8Array.from([0x63, 0x61, 0x62, 0x63]));
      await raw.close();
      const err = await store.open().catch((e: unknown) => e);
      expect(isGroveError(err, ErrorCode.StoreError)).toBe(true);
    });
  });

  it('keeps the revision record out of prefix scans', async () => {
    await withStore(async (store) => {
      await store.commit([{ type: 'put', key: ' space', value: 1 }]);
      expect((await store.list('')).map((e) => e.key)).toEqual([' space']);
    });
  });

  it('surfaces a failed open as StoreError', async () => {
    const dir = await tempDir();
    try {
      const first = new LevelStore({ path: join(dir, 'db') });
      await first.open();
      // LevelDB holds an exclusive lock on its directory.
      const second = new LevelStore({ path: join(dir, 'db') });
      const err = await second.open().catch((e: unknown) => e);
      expect(isGroveError(err, ErrorCode.StoreError)).toBe(true);
      expect((err as GroveError).details).toMatchObject({ locked: true });
      expect((err as Error).message).toMatch(/in use by another process/);
      await first.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly before open and reopens the same instance', async () => {
    const dir = await tempDir();
    try {
      const store = new LevelStore({ path: join(dir, 'db') });
      const err = await store.get('a').catch((e: unknown) => e);
      expect(isGroveError(err, ErrorCode.StoreError)).toBe(true);
      expect((err as Error).message).toMatch(/is not open/);
      await store.open();
      await store.commit([{ type: 'put', key: 'a', value: { n: 1 } }]);
      await store.close();
      await store.open();
      expect(store.revision()).toBe(1);
      expect(await store.get('a')).toEqual({ key: 'a', value: { n: 1 }, revision: 1 });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
