import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decrypt, encrypt, keyId, seal, unseal } from '../../src/core/seal.js';
import { hasSealedRecords, SealedStore } from '../../src/server/sealed-store.js';
import { loadSecretKey, secretKeyPath } from '../../src/server/security/secret-key.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../support/manual-clock.js';
import { encodeBackup, decodeBackup } from '../../src/store/backup.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'grove-secrets-unit-'));
  dirs.push(d);
  return d;
}

const VALUE = 's3cr3t-' + randomBytes(6).toString('hex');
const b64 = (v: string) => Buffer.from(v).toString('base64');
const secret = (name: string, value = VALUE) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: { password: b64(value) } }) as unknown as AnyObject;
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v' } } as unknown as AnyObject;

/** Objects over `store` (the default namespace made) and a way to apply them as the server does. */
async function objectsOver(store: Store) {
  const objects = new ObjectStore({ store, clock: new ManualClock() });
  await ensureDefaultNamespace(objects);
  const apply = (...list: AnyObject[]) => objects.commit(list.map((object) => ({ op: 'put' as const, object })));
  const password = async (name: string) => Buffer.from(((await objects.get({ kind: 'Secret', namespace: 'default', name }))!.data as Record<string, string>).password!, 'base64').toString();
  return { objects, apply, password };
}

describe('seal: AES-256-GCM with authenticated data', () => {
  const key = randomBytes(32);

  it('round trips, and refuses a wrong key, altered bytes or other authenticated data', () => {
    const sealed = seal(key, Buffer.from(VALUE), 'grove-store/secrets/db');
    expect(JSON.stringify(sealed)).not.toContain(VALUE);
    expect(sealed.keyId).toBe(keyId(key));
    expect(unseal(key, sealed, 'grove-store/secrets/db').toString()).toBe(VALUE);
    // The same record under another name does not open: records cannot be swapped.
    expect(() => unseal(key, sealed, 'grove-store/secrets/other')).toThrow(/failed authentication/);
    expect(() => unseal(randomBytes(32), sealed, 'grove-store/secrets/db')).toThrow(/sealed with key/);
    const parts = encrypt(key, Buffer.from(VALUE), 'a');
    const flipped = Buffer.from(parts.ciphertext);
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decrypt(key, { ...parts, ciphertext: flipped }, 'a')).toThrow(/failed authentication/);
    const badTag = Buffer.from(parts.tag);
    badTag[3] = badTag[3]! ^ 0x80;
    expect(() => decrypt(key, { ...parts, tag: badTag }, 'a')).toThrow(/failed authentication/);
    expect(decrypt(key, parts, 'a').toString()).toBe(VALUE);
  });

  it('uses a fresh IV per seal', () => {
    const a = seal(key, Buffer.from('x'), 'k');
    const b = seal(key, Buffer.from('x'), 'k');
    expect(a.iv).not.toBe(b.iv);
  });
});

describe('secrets key file', () => {
  it('is created 0600 with 32 bytes and read back the same', async () => {
    const dir = await tempDir();
    const created = await loadSecretKey(dir, true);
    expect(created.created).toBe(true);
    expect((await stat(secretKeyPath(dir))).mode & 0o777).toBe(0o600);
    expect((await readFile(secretKeyPath(dir))).length).toBe(32);
    const again = await loadSecretKey(dir, true);
    expect(again).toMatchObject({ created: false, id: created.id });
    expect(again.key.equals(created.key)).toBe(true);
  });

  it('refuses a group-readable key, a key of the wrong size, and a missing key over sealed data', async () => {
    const dir = await tempDir();
    await loadSecretKey(dir, true);
    await chmod(secretKeyPath(dir), 0o640);
    await expect(loadSecretKey(dir, true)).rejects.toThrow(/mode 640.*chmod 600/);
    await writeFile(secretKeyPath(dir), randomBytes(16), { mode: 0o600 });
    await chmod(secretKeyPath(dir), 0o600);
    await expect(loadSecretKey(dir, true)).rejects.toThrow(/holds 16 bytes, expected 32/);
    const empty = await tempDir();
    await expect(loadSecretKey(empty, false)).rejects.toThrow(/missing but the store holds encrypted Secrets/);
  });
});

describe('SealedStore', () => {
  it('keeps only ciphertext in the store and in backups; the API still reads the Secret; re-apply writes nothing', async () => {
    const raw = new MemoryStore();
    await raw.open();
    const store = new SealedStore(raw, randomBytes(32));
    const { apply, password } = await objectsOver(store);
    await apply(secret('db'), configMap);
    const rawEntry = (await raw.get('secrets/default/db'))!;
    for (const hidden of [VALUE, b64(VALUE), 'password']) expect(JSON.stringify(rawEntry.value)).not.toContain(hidden);
    expect(rawEntry.value).toMatchObject({ sealed: 1, keyId: store.keyId });
    // ConfigMaps are not secret: stored as they are.
    expect((await raw.get('configmaps/default/c'))!.value).toMatchObject({ data: { k: 'v' } });
    expect(await password('db')).toBe(VALUE);
    const backup = encodeBackup(await store.snapshot(), { cluster: 'c', createdAt: new Date() });
    expect(backup.includes(Buffer.from(VALUE))).toBe(false);
    expect(backup.includes(Buffer.from(b64(VALUE)))).toBe(false);
    expect(decodeBackup(backup).entries.find((e) => e.key === 'secrets/default/db')!.value).toMatchObject({ sealed: 1 });
    const revision = raw.revision();
    const again = await apply(secret('db'));
    expect(again.results[0]!.outcome).toBe('unchanged');
    expect(raw.revision()).toBe(revision);
  });

  it('a sealed record moved under another name does not open', async () => {
    const raw = new MemoryStore();
    await raw.open();
    const store = new SealedStore(raw, randomBytes(32));
    await (await objectsOver(store)).apply(secret('db'));
    await raw.commit([{ type: 'put', key: 'secrets/default/stolen', value: (await raw.get('secrets/default/db'))!.value }]);
    await expect(store.get('secrets/default/stolen')).rejects.toThrow(/cannot be decrypted/);
  });

  it('migrates plaintext records in one commit and refuses a store sealed with another key', async () => {
    const raw = new MemoryStore();
    await raw.open();
    await (await objectsOver(raw)).apply(secret('a'), secret('b', 'other-value'));
    expect(await hasSealedRecords(raw)).toBe(false);
    const key = randomBytes(32);
    const store = new SealedStore(raw, key);
    const before = raw.revision();
    expect(await store.migrate()).toEqual({ sealed: 2 });
    expect(raw.revision()).toBe(before + 1);
    expect(await hasSealedRecords(raw)).toBe(true);
    expect(JSON.stringify((await raw.snapshot()).entries)).not.toContain(b64(VALUE));
    expect(await (await objectsOver(store)).password('b')).toBe('other-value');
    // Nothing left to do: no write.
    expect(await store.migrate()).toEqual({ sealed: 0 });
    expect(raw.revision()).toBe(before + 1);
    await expect(new SealedStore(raw, randomBytes(32)).migrate()).rejects.toThrow(/encrypted with key .* refusing to start/);
  });
});
