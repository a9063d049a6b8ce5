import { Readable } from 'node:stream';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { parseImageRef } from '../../src/core/image-ref.js';
import { ContentStore } from '../../agent/src/images/content-store.js';
import { chainId, sha256Digest } from '../../agent/src/images/digest.js';
import { ImageIndex } from '../../agent/src/images/image-index.js';
import { ImageStore } from '../../agent/src/images/image-store.js';
import type { ImageRecord } from '../../agent/src/images/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-cs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ContentStore', () => {
  it('puts, verifies, lists and deletes blobs', async () => {
    const cs = new ContentStore(dir);
    await cs.init();
    const d = await cs.put(Buffer.from('hello'));
    expect(d).toBe(sha256Digest('hello'));
    expect(readFileSync(join(dir, 'blobs/sha256', d.slice(7)), 'utf8')).toBe('hello');
    expect(await cs.has(d)).toBe(true);
    expect(await cs.size(d)).toBe(5);
    expect((await cs.get(d)).toString()).toBe('hello');
    await expect(cs.get(d, 4)).rejects.toMatchObject({ code: ErrorCode.SizeLimit });
    await expect(cs.put(Buffer.from('x'), d)).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    const s = await cs.putStream(Readable.from([Buffer.from('ab'), Buffer.from('c')]));
    expect(s).toEqual({ digest: sha256Digest('abc'), size: 3 });
    await expect(cs.putStream(Readable.from([Buffer.from('abc')]), sha256Digest('abd'))).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    await expect(cs.putStream(Readable.from([Buffer.alloc(10)]), undefined, 5)).rejects.toMatchObject({ code: ErrorCode.SizeLimit });
    expect(readdirSync(cs.ingestDir)).toEqual([]);
    expect((await cs.list()).sort()).toEqual([d, s.digest].sort());
    expect(await cs.totalSize()).toBe(8);
    expect(await cs.delete(d)).toBe(5);
    expect(await cs.delete(d)).toBe(0);
    expect(await cs.list()).toEqual([s.digest]);
    expect(statSync(join(dir, 'blobs/sha256', s.digest.slice(7))).mode & 0o777).toBe(0o644);
  });

  it('refuses malformed digests as file names', () => {
    const cs = new ContentStore(dir);
    expect(() => cs.path('sha256:../../etc/passwd')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => cs.path(`sha512:${'a'.repeat(128)}`)).toThrow();
  });
});

const rec = (digest: string, names: string[]): ImageRecord => ({
  names,
  digest,
  configDigest: digest.replace(/.$/, 'c'),
  platform: { os: 'linux', architecture: 'amd64' },
  config: { env: [], entrypoint: [], cmd: ['sh'], workingDir: '', user: '', labels: {} },
  layers: [],
  diffIds: [],
  size: 1,
  createdAt: '2024-01-01T00:00:00.000Z',
});

describe('ImageIndex', () => {
  it('moves a name to the newest image and writes only on change', async () => {
    const file = join(dir, 'images.json');
    const idx = new ImageIndex(file);
    await idx.load();
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    idx.put(rec(a, ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1']));
    expect(await idx.save()).toBe(true);
    expect(await idx.save()).toBe(false);
    const mtime = statSync(file).mtimeMs;
    idx.put(rec(b, ['docker.io/library/busybox:latest']));
    expect(idx.byDigest(a)!.names).toEqual(['docker.io/library/busybox:1']);
    expect(idx.byName('docker.io/library/busybox:latest')!.digest).toBe(b);
    // re-putting keeps createdAt and merges names
    idx.put({ ...rec(b, ['x.io/y:z']), createdAt: '2030-01-01T00:00:00.000Z' });
    expect(idx.byDigest(b)!.names).toEqual(['docker.io/library/busybox:latest', 'x.io/y:z']);
    expect(idx.byDigest(b)!.createdAt).toBe('2024-01-01T00:00:00.000Z');
    expect(idx.untag('x.io/y:z')!.names).toEqual(['docker.io/library/busybox:latest']);
    expect(await idx.save()).toBe(true);
    expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(mtime);
    const again = new ImageIndex(file);
    await again.load();
    expect(again.all().map((r) => r.digest).sort()).toEqual([a, b]);
    expect(await again.save()).toBe(false);
    expect(readdirSync(dir)).toEqual(['images.json']); // no temp files left
    expect(again.delete(a)).toBe(true);
    expect(again.byDigest(a)).toBeUndefined();
  });
});

describe('names and IDs', () => {
  it('records references under their canonical name (digest wins over tag)', () => {
    expect(ImageStore.recordName(parseImageRef('busybox'))).toBe('docker.io/library/busybox:latest');
    expect(ImageStore.recordName(parseImageRef('127.0.0.1:5000/app:1.2'))).toBe('127.0.0.1:5000/app:1.2');
    const d = `sha256:${'d'.repeat(64)}`;
    expect(ImageStore.recordName(parseImageRef(`busybox:1.36@${d}`))).toBe(`docker.io/library/busybox@${d}`);
  });

  it('computes OCI chain IDs', () => {
    const l1 = sha256Digest('l1');
    const l2 = sha256Digest('l2');
    expect(chainId([l1])).toBe(l1);
    expect(chainId([l1, l2])).toBe(sha256Digest(`${l1} ${l2}`));
  });
});
