import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { assertDigest, digestHex, isDigest } from './digest.js';
import { fsyncDir, randomSuffix, writeFully } from './fs-util.js';

/**
 * Content-addressed blobs: `<root>/blobs/sha256/<hex>`. Everything arrives through
 * `<root>/ingest/` (written, verified, fsynced) and is then renamed into place, so a blob file
 * that exists is always complete and matches its name.
 */
export class ContentStore {
  readonly blobDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
    // Leftovers of interrupted puts and imports; `.partial` downloads are kept for resuming.
    for (const name of await fsp.readdir(this.ingestDir)) {
      if (name.endsWith('.tmp') || name.startsWith('import-')) {
        await fsp.rm(join(this.ingestDir, name), { recursive: true, force: true });
      }
    }
  }

  path(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  /** Where a resumable download of `digest` accumulates. */
  partialPath(digest: string): string {
    return join(this.ingestDir, `${digestHex(digest)}.partial`);
  }

  /** A fresh private temp file name in the ingest directory. */
  tempPath(): string {
    return join(this.ingestDir, `${randomSuffix()}.tmp`);
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.path(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async get(digest: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    const size = await this.size(digest);
    if (size === undefined) throw new GroveError(ErrorCode.ImageNotFound, `blob ${digest} is not in the content store`);
    if (size > maxBytes) throw new GroveError(ErrorCode.SizeLimit, `blob ${digest} is ${size} bytes, limit ${maxBytes}`);
    return fsp.readFile(this.path(digest));
  }

  open(digest: string): ReadStream {
    return createReadStream(this.path(digest));
  }

  /** Stores bytes, verifying them against `expected` when given. Returns the digest. */
  async put(data: Buffer, expected?: string): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (expected) assertDigest(expected, digest, 'blob');
    if (await this.has(digest)) return digest;
    const tmp = this.tempPath();
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.commit(tmp, digest);
    return digest;
  }

  /** Streams into the store, hashing on the way; the temp file is removed on any failure. */
  async putStream(source: Readable, expected?: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<{ digest: string; size: number }> {
    const tmp = this.tempPath();
    const hash = createHash('sha256');
    let size = 0;
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      for await (const chunk of source) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBytes) throw new GroveError(ErrorCode.SizeLimit, `blob exceeds ${maxBytes} bytes`);
        hash.update(buf);
        await writeFully(fh, buf);
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const digest = `sha256:${hash.digest('hex')}`;
    try {
      if (expected) assertDigest(expected, digest, 'blob');
      await this.commit(tmp, digest);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { digest, size };
  }

  /**
   * Moves an already verified and fsynced ingest file into place (atomic rename, then the
   * directory is fsynced). The caller guarantees the content hashes to `digest`.
   */
  async commit(ingestFile: string, digest: string): Promise<void> {
    const target = this.path(digest);
    await fsp.chmod(ingestFile, 0o644);
    await fsp.rename(ingestFile, target);
    await fsyncDir(this.blobDir);
  }

  async delete(digest: string): Promise<number> {
    const size = await this.size(digest);
    if (size === undefined) return 0;
    await fsp.rm(this.path(digest), { force: true });
    return size;
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.blobDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  /** Bytes used by all blobs. */
  async totalSize(): Promise<number> {
    let total = 0;
    for (const d of await this.list()) total += (await this.size(d)) ?? 0;
    return total;
  }

  /** Removes stale partial downloads; returns the bytes freed. */
  async clearPartials(): Promise<number> {
    let freed = 0;
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.ingestDir);
    } catch {
      return 0;
    }
    for (const name of names.filter((n) => n.endsWith('.partial'))) {
      const p = join(this.ingestDir, name);
      freed += (await fsp.stat(p).catch(() => ({ size: 0 }))).size;
      await fsp.rm(p, { force: true });
    }
    return freed;
  }
}
