import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncedConfig } from '../../agent/src/agent/synced-config.js';
import type { ConfigObject } from '../../agent/src/agent/config-source.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeConfigMessage, MAX_CONFIG_MESSAGE_BYTES, openConfigBundle, sealConfigBundle } from '../../src/core/wire-config.js';
import { createWireDecoder, encodeMessage } from '../../src/core/wire.js';

const VALUE = 'pw-' + randomBytes(8).toString('hex');
const key = randomBytes(32);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const objects = (password: string, version: string): ConfigObject[] => [
  { kind: 'Secret', name: 'db', data: { password }, version },
  { kind: 'ConfigMap', name: 'settings', data: { level: 'info' }, version: '3' },
];
const message = (revision: number, objs: ConfigObject[], o: { node?: string; key?: Buffer } = {}) =>
  sealConfigBundle({ cluster: 'c1', node: o.node ?? 'node-a', revision, issuedAt: '2026-01-01T00:00:00.000Z', objects: objs }, o.key ?? key);

describe('wire-config', () => {
  it('round trips; the message holds no plaintext', () => {
    const buf = message(5, objects(VALUE, '7'));
    expect(buf.includes(Buffer.from(VALUE))).toBe(false);
    expect(buf.includes(Buffer.from('password'))).toBe(false);
    const bundle = openConfigBundle(decodeConfigMessage(buf), key);
    expect(bundle).toMatchObject({ cluster: 'c1', node: 'node-a', revision: 5, objects: objects(VALUE, '7') });
  });

  it('refuses a wrong key, a message re-addressed to another node or revision, and altered bytes', () => {
    const decoded = decodeConfigMessage(message(5, objects(VALUE, '7')));
    expect(() => openConfigBundle(decoded, randomBytes(32))).toThrow(/rejoin/);
    expect(() => openConfigBundle({ ...decoded, node: 'node-b' }, key)).toThrow(/failed authentication/);
    expect(() => openConfigBundle({ ...decoded, revision: 6 }, key)).toThrow(/failed authentication/);
    const payload = Buffer.from(decoded.payload);
    payload[1] = payload[1]! ^ 1;
    expect(() => openConfigBundle({ ...decoded, payload }, key)).toThrow(/failed authentication/);
  });

  it('validates and size-limits both layers without echoing values', () => {
    expect(() => decodeConfigMessage(Buffer.alloc(MAX_CONFIG_MESSAGE_BYTES + 1))).toThrow(/exceeds the limit/);
    expect(() => decodeConfigMessage(Buffer.from([0xff]))).toThrow(/config bundle/);
    const raw = createWireDecoder().decode(message(5, [])) as Record<string, unknown>;
    expect(() => decodeConfigMessage(encodeMessage({ ...raw, node: 'Bad/Node' }))).toThrow(/node/);
    expect(() => decodeConfigMessage(encodeMessage({ ...raw, iv: Buffer.alloc(3) }))).toThrow(/iv: expected 12 bytes/);
    expect(() => decodeConfigMessage(encodeMessage({ ...raw, revision: 0 }))).toThrow(/revision/);
    const tooBig = objects('x'.repeat(1024 * 1024 + 1), '1');
    let err: unknown;
    try {
      openConfigBundle(decodeConfigMessage(message(5, tooBig)), key);
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/larger than 1048576 bytes/);
    expect(String(err)).not.toContain('xxxx');
    const badKey = [{ kind: 'Secret' as const, name: 'db', data: { 'no/slash': VALUE }, version: '1' }];
    expect(() => openConfigBundle(decodeConfigMessage(message(5, badKey)), key)).toThrow(/not a valid ConfigMap\/Secret key/);
    try {
      openConfigBundle(decodeConfigMessage(message(5, badKey)), key);
    } catch (e) {
      expect(String(e)).not.toContain(VALUE);
    }
  });
});

describe('SyncedConfig (the agent ConfigSource)', () => {
  async function source(o: { key?: Buffer; fetchKey?: () => Promise<Buffer | undefined>; now?: () => number } = { key }) {
    const dir = await mkdtemp(join(tmpdir(), 'grove-synced-config-'));
    dirs.push(dir);
    const file = join(dir, 'config.bundle');
    const make = () => new SyncedConfig({ file, cluster: 'c1', node: 'node-a', logger: silentLogger(), ...o });
    return { file, make };
  }

  it('serves the bundle, keeps it encrypted on disk (0600), notifies what changed, and reloads it offline', async () => {
    const { file, make } = await source();
    const config = make();
    const seen: string[][] = [];
    config.onChange((changed) => seen.push(changed.map((c) => `${c.kind}/${c.name}`)));
    await config.handle(message(3, objects(VALUE, '7')));
    expect(config.get('Secret', 'db')?.data).toEqual({ password: VALUE });
    expect(config.get('Secret', 'nope')).toBeUndefined();
    expect(seen).toEqual([['Secret/db', 'ConfigMap/settings']]);
    const stored = await readFile(file);
    expect(stored.includes(Buffer.from(VALUE))).toBe(false);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const mtime = (await stat(file)).mtimeMs;

    // Not newer: ignored, no write, no notification.
    await config.handle(message(3, objects('other', '8')));
    await config.handle(message(2, objects('other', '8')));
    expect(config.get('Secret', 'db')?.data.password).toBe(VALUE);
    expect((await stat(file)).mtimeMs).toBe(mtime);

    // Only the changed object is reported; a removed one too.
    await config.handle(message(4, [{ kind: 'Secret', name: 'db', data: { password: 'new' }, version: '9' }]));
    expect(seen.at(-1)).toEqual(['Secret/db', 'ConfigMap/settings']);
    expect(config.get('ConfigMap', 'settings')).toBeUndefined();

    // A restart without any server: the stored bundle is served.
    const restarted = make();
    await restarted.load();
    expect(restarted.revision).toBe(4);
    expect(restarted.get('Secret', 'db')?.data).toEqual({ password: 'new' });
  });

  it('keeps objects of one name in two namespaces apart, and names the namespace of a change', async () => {
    const { make } = await source();
    const config = make();
    const seen: string[][] = [];
    config.onChange((changed) => seen.push(changed.map((c) => [c.kind, c.namespace, c.name].filter(Boolean).join('/'))));
    const both = (a: string, b: string): ConfigObject[] => [
      { kind: 'ConfigMap', name: 'settings', data: { level: a }, version: a },
      { kind: 'ConfigMap', namespace: 'team-a', name: 'settings', data: { level: b }, version: b },
    ];
    await config.handle(message(1, both('1', '2')));
    expect(config.get('ConfigMap', 'settings')?.data).toEqual({ level: '1' });
    expect(config.get('ConfigMap', 'settings', 'default')?.data).toEqual({ level: '1' });
    expect(config.get('ConfigMap', 'settings', 'team-a')?.data).toEqual({ level: '2' });
    expect(config.get('ConfigMap', 'settings', 'team-b')).toBeUndefined();
    await config.handle(message(2, both('1', '3')));
    expect(seen).toEqual([['ConfigMap/settings', 'ConfigMap/team-a/settings'], ['ConfigMap/team-a/settings']]);
  });

  it('keeps a Secret\'s type, and reports a Secret whose type arrives with the same version as changed', async () => {
    const { make } = await source();
    const config = make();
    const seen: string[][] = [];
    config.onChange((changed) => seen.push(changed.map((c) => `${c.kind}/${c.name}`)));
    const tls = (type?: string): ConfigObject[] => [{ kind: 'Secret', name: 'shop-tls', data: { 'tls.crt': 'c' }, version: '5', ...(type ? { type } : {}) }];
    await config.handle(message(1, tls()));
    expect(config.get('Secret', 'shop-tls')?.type).toBeUndefined();
    // A server upgraded to send types: the same version again, now with its type.
    await config.handle(message(2, tls('kubernetes.io/tls')));
    expect(config.get('Secret', 'shop-tls')?.type).toBe('kubernetes.io/tls');
    await config.handle(message(3, tls('kubernetes.io/tls')));
    expect(seen).toEqual([['Secret/shop-tls'], ['Secret/shop-tls']]);
  });

  it('drops bundles for another node, sealed with another key, or damaged, keeping the current one', async () => {
    const { make } = await source();
    const config = make();
    await config.handle(message(3, objects(VALUE, '7')));
    await config.handle(message(5, objects('evil', '8'), { node: 'node-b' }));
    await config.handle(message(6, objects('evil', '8'), { key: randomBytes(32) }));
    await config.handle(Buffer.from('garbage'));
    await config.handle(Buffer.alloc(0));
    expect(config.revision).toBe(3);
    expect(config.get('Secret', 'db')?.data.password).toBe(VALUE);
  });

  it('without a key from its join, fetches one at start, retrying when a bundle arrives after a failure', async () => {
    let calls = 0;
    let now = 0;
    const { make } = await source({ fetchKey: async () => (++calls === 1 ? Promise.reject(new Error('server away')) : key), now: () => now });
    const config = make();
    await config.load();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(1);
    // Within the minute: no new request, the bundle waits.
    await config.handle(message(1, objects(VALUE, '1')));
    expect(calls).toBe(1);
    expect(config.get('Secret', 'db')).toBeUndefined();
    now = 61_000;
    await config.handle(message(2, objects(VALUE, '1')));
    expect(calls).toBe(2);
    expect(config.get('Secret', 'db')?.data.password).toBe(VALUE);
  });
});
