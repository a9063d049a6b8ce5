import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, stat, lstat, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { applyLayer, cleanEntryPath, detectLayerFormat } from '../../agent/src/images/layer-unpack.js';
import { HOSTILE_KINDS, hostileLayer, tarBuffer, type HostileKind, type LayerEntry } from '../support/image-builder.js';

const logger = silentLogger();
const isRoot = process.getuid?.() === 0;

let tmp: string;
let target: string;
let sentinel: string;

/** Every path below `dir` with type, mode, size, mtime and content hash / link target. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      let extra = '';
      if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex');
      else if (st.isSymbolicLink()) extra = `-> ${readlinkSync(p)}`;
      out[r] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink} ${extra}`;
      if (st.isDirectory()) walk(p, r);
    }
  };
  const st = lstatSync(dir);
  out['.'] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
  walk(dir, '');
  return out;
}

async function apply(entries: LayerEntry[] | Buffer, opts: Partial<Parameters<typeof applyLayer>[2]> = {}) {
  const buf = Buffer.isBuffer(entries) ? entries : await tarBuffer(entries);
  return applyLayer(buf, target, { logger, ...opts });
}

async function expectCode(p: Promise<unknown>, code: string): Promise<GroveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GroveError);
  expect((err as GroveError).code).toBe(code);
  return err as GroveError;
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'grove-unpack-'));
  target = join(tmp, 'work', 'target');
  sentinel = join(tmp, 'sentinel');
  await mkdir(target, { recursive: true });
  await mkdir(sentinel);
  await writeFile(join(sentinel, 'secret'), 'original');
  await chmod(join(sentinel, 'secret'), 0o640);
  await utimes(sentinel, new Date('2020-01-01'), new Date('2020-01-01'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('cleanEntryPath', () => {
  it('normalises names', () => {
    expect(cleanEntryPath('./bin/sh')).toEqual(['bin', 'sh']);
    expect(cleanEntryPath('/etc/passwd')).toEqual(['etc', 'passwd']);
    expect(cleanEntryPath('a//b/./c/')).toEqual(['a', 'b', 'c']);
    expect(cleanEntryPath('a/b/../c')).toEqual(['a', 'c']);
    expect(cleanEntryPath('./')).toEqual([]);
  });
  it('refuses escapes and NUL', () => {
    expect(() => cleanEntryPath('../x')).toThrow(expect.objectContaining({ code: ErrorCode.UnsafeLayer }));
    expect(() => cleanEntryPath('a/../../x')).toThrow(expect.objectContaining({ code: ErrorCode.UnsafeLayer }));
    expect(() => cleanEntryPath('/../etc/x')).toThrow(expect.objectContaining({ code: ErrorCode.UnsafeLayer }));
    expect(() => cleanEntryPath('a\0b')).toThrow(expect.objectContaining({ code: ErrorCode.UnsafeLayer }));
  });
  it('limits name lengths', () => {
    expect(() => cleanEntryPath('a/'.repeat(3000))).toThrow(expect.objectContaining({ code: ErrorCode.SizeLimit }));
    expect(() => cleanEntryPath('x'.repeat(256))).toThrow(expect.objectContaining({ code: ErrorCode.SizeLimit }));
  });
});

describe('detectLayerFormat', () => {
  it('detects gzip, tar and refuses zstd/xz/bzip2', () => {
    expect(detectLayerFormat(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectLayerFormat(Buffer.from('bin/\0\0\0'))).toBe('tar');
    for (const magic of [[0x28, 0xb5, 0x2f, 0xfd], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x42, 0x5a, 0x68, 0x39]]) {
      expect(() => detectLayerFormat(Buffer.from(magic))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedMediaType }));
    }
  });
});

describe('applyLayer', () => {
  it('writes files, dirs, symlinks and hard links with metadata, and returns the diff_id', async () => {
    const mtime = new Date('2023-05-06T07:08:09Z');
    const entries: LayerEntry[] = [
      { name: 'bin/', type: 'directory', mode: 0o755, mtime },
      { name: 'bin/tool', content: 'hello', mode: 0o4755, uid: 1000, gid: 1001, mtime },
      { name: 'bin/alias', type: 'symlink', linkname: 'tool', mtime },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'etc/deep/file', content: 'implicit parents' },
      { name: 'ro/', type: 'directory', mode: 0o555, mtime },
      { name: 'ro/inside', content: 'written before the dir became read-only' },
    ];
    const tarBuf = await tarBuffer(entries);
    const res = await applyLayer(gzipSync(tarBuf), target, { logger });
    expect(res.diffId).toBe(`sha256:${createHash('sha256').update(tarBuf).digest('hex')}`);
    expect(res.bytes).toBe(tarBuf.length);
    expect(await readFile(join(target, 'bin/tool'), 'utf8')).toBe('hello');
    const st = await stat(join(target, 'bin/tool'));
    expect(st.mode & 0o7777).toBe(0o4755);
    expect(st.mtime.getTime()).toBe(mtime.getTime());
    if (isRoot) expect([st.uid, st.gid]).toEqual([1000, 1001]);
    expect(await readlink(join(target, 'bin/alias'))).toBe('tool');
    expect((await stat(join(target, 'bin/hard'))).ino).toBe(st.ino);
    expect(await readFile(join(target, 'etc/deep/file'), 'utf8')).toBe('implicit parents');
    const ro = await stat(join(target, 'ro'));
    expect(ro.mode & 0o7777).toBe(0o555);
    expect(ro.mtime.getTime()).toBe(mtime.getTime());
    expect((await stat(join(target, 'bin'))).mtime.getTime()).toBe(mtime.getTime());
    await chmod(join(target, 'ro'), 0o755); // so cleanup also works when not root
  });

  it('applies whiteouts and opaque directories from upper layers only', async () => {
    await apply([
      { name: 'a/', type: 'directory' },
      { name: 'a/keep', content: '1' },
      { name: 'a/gone', content: '1' },
      { name: 'a/subdir/x', content: '1' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/lower1', content: '1' },
      { name: 'opq/sub/lower2', content: '1' },
      { name: 'link', type: 'symlink', linkname: '/etc' },
    ]);
    await apply([
      { name: 'a/.wh.gone', content: '' },
      { name: 'a/.wh.subdir', content: '' },
      { name: '.wh.link', content: '' },
      { name: '.wh.missing', content: '' },
      // the upper layer's own entry survives its opaque marker, even when listed first
      { name: 'opq/sub/new', content: 'upper' },
      { name: 'opq/.wh..wh..opq', content: '' },
      { name: 'opq/upper', content: 'upper' },
      { name: 'b/new', content: 'x' },
      { name: 'b/.wh.new', content: '' },
    ]);
    expect(readdirSync(join(target, 'a')).sort()).toEqual(['keep']);
    expect(() => lstatSync(join(target, 'link'))).toThrow();
    expect(readdirSync(join(target, 'opq')).sort()).toEqual(['sub', 'upper']);
    expect(readdirSync(join(target, 'opq/sub'))).toEqual(['new']);
    expect(readdirSync(join(target, 'b'))).toEqual(['new']);
    expect(readdirSync(target)).not.toContain('.wh.missing');
  });

  it('replaces entries of another type (dir by file, file by dir, file by symlink)', async () => {
    await apply([
      { name: 'x/child', content: '1' },
      { name: 'y', content: 'file' },
      { name: 'z', content: 'file' },
    ]);
    await apply([
      { name: 'x', content: 'now a file' },
      { name: 'y/', type: 'directory' },
      { name: 'z', type: 'symlink', linkname: 'y' },
    ]);
    expect(await readFile(join(target, 'x'), 'utf8')).toBe('now a file');
    expect((await lstat(join(target, 'y'))).isDirectory()).toBe(true);
    expect(await readlink(join(target, 'z'))).toBe('y');
  });

  it('rejects a diff_id mismatch', async () => {
    await expectCode(apply([{ name: 'f', content: 'x' }], { expectedDiffId: `sha256:${'0'.repeat(64)}` }), ErrorCode.DigestMismatch);
  });

  it('enforces the uncompressed size limit (gzip bomb)', async () => {
    const big = gzipSync(await tarBuffer([{ name: 'zeros', content: Buffer.alloc(4 * 1024 * 1024) }]));
    expect(big.length).toBeLessThan(64 * 1024);
    await expectCode(applyLayer(big, target, { logger, maxBytes: 1024 * 1024 }), ErrorCode.SizeLimit);
  });

  it('enforces the entry limit', async () => {
    await expectCode(apply([{ name: 'a', content: '' }, { name: 'b', content: '' }, { name: 'c', content: '' }], { maxEntries: 2 }), ErrorCode.SizeLimit);
  });

  it('reports garbage as ArchiveInvalid and zstd as UnsupportedMediaType', async () => {
    await expectCode(applyLayer(Buffer.alloc(1024, 7), target, { logger }), ErrorCode.ArchiveInvalid);
    await expectCode(applyLayer(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), target, { logger }), ErrorCode.UnsupportedMediaType);
    const truncated = (await tarBuffer([{ name: 'f', content: Buffer.alloc(5000) }])).subarray(0, 2048);
    await expectCode(applyLayer(truncated, target, { logger }), ErrorCode.ArchiveInvalid);
  });
});

describe('hostile layers never change anything outside the target', () => {
  const expected: Record<HostileKind, string | null> = {
    'dotdot-file': ErrorCode.UnsafeLayer,
    'absolute-file': null,
    'absolute-symlink-write': ErrorCode.UnsafeLayer,
    'relative-symlink-write': ErrorCode.UnsafeLayer,
    'symlink-chain-write': ErrorCode.UnsafeLayer,
    'hardlink-etc-passwd': ErrorCode.UnsafeLayer,
    'hardlink-absolute-sentinel': ErrorCode.UnsafeLayer,
    'hardlink-dotdot': ErrorCode.UnsafeLayer,
    'hardlink-through-symlink': ErrorCode.UnsafeLayer,
    'file-over-symlink': null,
    'dir-over-symlink': null,
    'hardlink-to-symlink': null,
    'whiteout-through-symlink': ErrorCode.UnsafeLayer,
    'opaque-through-symlink': ErrorCode.UnsafeLayer,
    'whiteout-dotdot': ErrorCode.UnsafeLayer,
    'device-nodes': null,
    'long-name': ErrorCode.SizeLimit,
  };

  it.each(HOSTILE_KINDS)('%s', async (kind) => {
    const before = snapshotTree(tmp);
    const outsideBefore = Object.fromEntries(Object.entries(before).filter(([k]) => !k.startsWith('work/target/')));
    const layer = await hostileLayer(kind, sentinel);
    const code = expected[kind];
    if (code) await expectCode(applyLayer(layer, target, { logger }), code);
    else await applyLayer(layer, target, { logger });
    const after = snapshotTree(tmp);
    const outsideAfter = Object.fromEntries(Object.entries(after).filter(([k]) => !k.startsWith('work/target/')));
    // work/target's own line changes (mtime) when entries are added; everything else is identical.
    delete outsideBefore['work/target'];
    delete outsideAfter['work/target'];
    expect(outsideAfter).toEqual(outsideBefore);
    expect(readFileSync(join(sentinel, 'secret'), 'utf8')).toBe('original');
    expect(readdirSync(sentinel)).toEqual(['secret']);
  });

  it('absolute names land inside the target', async () => {
    await applyLayer(await hostileLayer('absolute-file', sentinel), target, { logger });
    expect(readFileSync(join(target, sentinel, 'pwned'), 'utf8')).toBe('pwned');
  });

  it('a file replacing a symlink replaces the link, not its target', async () => {
    await applyLayer(await hostileLayer('file-over-symlink', sentinel), target, { logger });
    const st = lstatSync(join(target, 'victim'));
    expect(st.isFile()).toBe(true);
    expect(readFileSync(join(target, 'victim'), 'utf8')).toBe('overwritten');
    expect(lstatSync(join(sentinel, 'secret')).mode & 0o777).toBe(0o640);
  });

  it('a directory replacing a symlink does not chmod the link target', async () => {
    await applyLayer(await hostileLayer('dir-over-symlink', sentinel), target, { logger });
    expect(lstatSync(join(target, 'd')).isDirectory()).toBe(true);
    expect(lstatSync(join(target, 'd')).mode & 0o777).toBe(0o777);
  });

  it('skips device nodes and fifos', async () => {
    const res = await applyLayer(await hostileLayer('device-nodes', sentinel), target, { logger });
    expect(res.skipped).toBe(3);
    expect(readdirSync(join(target, 'dev'))).toEqual([]);
    expect(readFileSync(join(target, 'ok'), 'utf8')).toBe('fine');
  });

  it('a symlink planted by a lower layer is not written through by an upper layer', async () => {
    await apply([{ name: 'etc', type: 'symlink', linkname: sentinel }]);
    await expectCode(apply([{ name: 'etc/secret', content: 'pwned' }]), ErrorCode.UnsafeLayer);
    await expectCode(apply([{ name: 'etc/new/', type: 'directory' }]), ErrorCode.UnsafeLayer);
    expect(readFileSync(join(sentinel, 'secret'), 'utf8')).toBe('original');
    expect(readdirSync(sentinel)).toEqual(['secret']);
  });

  it('a directory later replaced by a symlink does not receive the directory metadata', async () => {
    // dir "d" (mode 0700) is recorded, then replaced by a symlink to the sentinel in the same layer
    await apply([
      { name: 'd/', type: 'directory', mode: 0o700 },
      { name: 'd/sub/', type: 'directory', mode: 0o700 },
      { name: 'd', type: 'symlink', linkname: sentinel },
    ]);
    expect(lstatSync(join(target, 'd')).isSymbolicLink()).toBe(true);
    expect(lstatSync(sentinel).mode & 0o777).not.toBe(0o700);
    expect(readdirSync(sentinel)).toEqual(['secret']);
  });
});
