import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContentStore } from '../../agent/src/images/content-store.js';
import { Snapshotter, type DiskSpace, type SnapshotterOptions } from '../../agent/src/images/snapshots.js';
import { extractFailure } from '../../agent/src/images/tar-util.js';
import { ErrorCode, GroveError, isGroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { storedImage } from '../support/bomb-image.js';
import { gzipBomb } from '../support/image-builder.js';

const MIB = 1024 * 1024;
const logger = silentLogger();
let tmp: string;
let store: ContentStore;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'grove-unpack-bounds-'));
  store = new ContentStore(join(tmp, 'store'));
  await store.init();
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function snapshotter(o: Partial<SnapshotterOptions> = {}): Promise<Snapshotter> {
  const s = new Snapshotter({ dir: join(tmp, 'snapshots'), store, logger, ...o });
  await s.init();
  return s;
}

async function failure(p: Promise<unknown>): Promise<GroveError> {
  const err = await p.then(() => new Error('expected a failure'), (e: unknown) => e);
  if (!isGroveError(err)) throw err;
  return err;
}

/** A disk with room to spare. */
const plenty = async (): Promise<DiskSpace> => ({ free: 100 * 1024 * MIB, total: 200 * 1024 * MIB });

describe('unpack bounds (Snapshotter)', () => {
  it('stops a gzip bomb at the image budget, with the image named, and leaves no snapshot behind', async () => {
    const bomb = gzipBomb(256 * MIB);
    expect(bomb.length).toBeLessThan(300 * 1024);
    const image = await storedImage(store, 'registry.lan/bomb:1', [bomb]);
    const s = await snapshotter({ maxImageBytes: 16 * MIB, diskSpace: plenty });
    const err = await failure(s.snapshot(image));
    expect(err.code).toBe(ErrorCode.SizeLimit);
    expect(err.message).toBe(`image registry.lan/bomb:1 unpacks to more than ${16 * MIB} bytes (limit 16MiB, imageMaxUnpackedBytes in config.json)`);
    expect(await readdir(join(tmp, 'snapshots'))).toEqual([]);
  });

  it('counts the budget over all the layers of an image', async () => {
    const layers = [gzipBomb(10 * MIB, 'a'), gzipBomb(10 * MIB, 'b')];
    const diffIds = layers.map((l) => `sha256:${createHash('sha256').update(gunzipSync(l)).digest('hex')}`);
    const image = await storedImage(store, 'two:1', layers, diffIds);
    const s = await snapshotter({ maxImageBytes: 16 * MIB, diskSpace: plenty });
    expect((await failure(s.snapshot(image))).message).toMatch(/^image two:1 unpacks to more than 16777216 bytes/);
    expect(await readdir(join(tmp, 'snapshots'))).toEqual([]);
  });

  it('refuses before writing anything when the compressed layers alone would eat into the free-space reserve', async () => {
    const image = await storedImage(store, 'big:1', [gzipBomb(4 * MIB)]);
    const s = await snapshotter({ minFreeBytes: 64 * MIB, diskSpace: async () => ({ free: 64 * MIB + 100, total: 1024 * MIB }) });
    const err = await failure(s.snapshot(image));
    expect(err.code).toBe(ErrorCode.NoSpace);
    expect(err.message).toMatch(new RegExp(`^not enough space on ${join(tmp, 'snapshots')} to unpack image big:1: 64MiB free, its layers need at least [0-9.]+KiB \\(compressed\\), and 64MiB must stay free \\(imageMinFreeBytes in config.json\\)$`));
    expect(await readdir(join(tmp, 'snapshots'))).toEqual([]);
  });

  it('looks at the free space again while writing and stops while the reserve is still free', async () => {
    const image = await storedImage(store, 'grows:1', [gzipBomb(200 * MIB)]);
    let checks = 0;
    // Plenty at first; from the third look on, below the 5 % reserve (default) of a 1 GiB disk.
    const diskSpace = async (): Promise<DiskSpace> => ({ free: ++checks < 3 ? 900 * MIB : 40 * MIB, total: 1024 * MIB });
    const s = await snapshotter({ diskSpace });
    const err = await failure(s.snapshot(image));
    expect(err.code).toBe(ErrorCode.NoSpace);
    expect(err.message).toMatch(/to unpack image grows:1: 40MiB free, and 51MiB must stay free/);
    expect(checks).toBe(3); // before, after 32 MiB, after 64 MiB
    expect(await readdir(join(tmp, 'snapshots'))).toEqual([]);
  });
});

describe('a full disk is named as such', () => {
  const premature = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  const ctx = { invalid: (m: string) => new GroveError(ErrorCode.ArchiveInvalid, `layer is not a valid tar.gz: ${m}`), writing: () => '/data/images/snapshots/x.tmp-1/rootfs/big' };
  const errno = (code: string, syscall: string) => Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall });

  it('ENOSPC while writing an entry, whatever the stream says after', () => {
    const err = extractFailure(errno('ENOSPC', 'write'), premature, ctx) as GroveError;
    expect(err).toMatchObject({ code: 'NO_SPACE', message: 'no space left on device writing /data/images/snapshots/x.tmp-1/rootfs/big' });
  });

  it('another filesystem error is not the layer’s fault either; a parse error is', () => {
    expect(extractFailure(errno('EIO', 'write'), premature, ctx)).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/^cannot write \/data\/images\/snapshots\/x.tmp-1\/rootfs\/big: EIO/) });
    expect(extractFailure(undefined, new Error('invalid tar header'), ctx)).toMatchObject({ code: 'ARCHIVE_INVALID', message: 'layer is not a valid tar.gz: invalid tar header' });
    expect(extractFailure(undefined, undefined, ctx)).toBeUndefined();
  });
});
