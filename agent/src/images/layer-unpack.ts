import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as fsc, createReadStream, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, isNoSpace, noSpaceError } from '../../../src/core/errors.js';
import { cleanEntryPath, detectLayerFormat, drain, extractFailure, readHead, unsafe, type LayerFormat, type TarEntry } from './tar-util.js';

export { cleanEntryPath, detectLayerFormat, drain, type LayerFormat, type TarEntry };

/**
 * Applies one image layer (a tar, optionally gzip-compressed) onto a directory that holds the
 * layers below it, flattening as it goes. SECURITY CRITICAL — the rules:
 *
 * 1. Entry names are cleaned lexically: leading "/" and "." components are dropped (absolute
 *    names are relative to the target, as in docker/containerd); a ".." that would climb above
 *    the target is refused (UnsafeLayer); NUL bytes are refused.
 * 2. Parent components are resolved one by one with lstat and must be real directories
 *    (missing ones are created). A symbolic link in a parent position is refused (UnsafeLayer):
 *    we never write through a symlink, not even one that stays inside the target. This is
 *    stricter than containerd (which resolves in-root like a chroot); layers produced by
 *    docker/buildkit never need it, because their diffs are taken from real paths.
 * 3. The final component is never followed: anything already there (file, symlink, dir of a
 *    different type) is removed first, files are created with O_CREAT|O_EXCL|O_NOFOLLOW,
 *    directory metadata is applied through an O_NOFOLLOW|O_DIRECTORY descriptor, symlinks get
 *    lchown/lutimes.
 * 4. Hard links must name an existing non-directory inside the target, resolved by the same
 *    rules; anything else (e.g. "/etc/passwd" that is not in the tree, "../../x") is refused.
 * 5. Whiteouts are deletions (layers are flattened): ".wh.NAME" removes NAME from lower layers,
 *    ".wh..wh..opq" removes the lower-layer contents of its directory; entries of the current
 *    layer are kept (OCI: a whiteout only applies to lower layers). Removal never follows
 *    symlinks (rm of the link itself).
 * 6. Device nodes and fifos are skipped (the runtime provides /dev); xattrs are not applied.
 * 7. Limits: name length, per-component length, entry count, total uncompressed bytes
 *    (SizeLimit, counted as the stream is decompressed, so a gzip bomb stops there and not
 *    after it has filled the disk). The uncompressed stream's sha256 must equal the config's
 *    diff_id.
 * 8. A full filesystem is reported as NoSpace with the path being written, never as a damaged
 *    layer (tar-util.ts extractFailure).
 */

export interface UnpackOptions {
  logger: Logger;
  /** Uncompressed bytes allowed for this layer (default 8 GiB). */
  maxBytes?: number;
  /** The error for going past maxBytes (default: "layer is larger than N bytes uncompressed"). */
  tooLarge?: (maxBytes: number) => GroveError;
  /**
   * Awaited every `everyBytes` uncompressed bytes (the stream waits meanwhile); throwing stops
   * the unpack. snapshots.ts checks the free space with it.
   */
  progress?: { everyBytes: number; check: () => Promise<void> };
  /** Entries allowed in one layer (default 1,000,000). */
  maxEntries?: number;
  /** Longest entry path in bytes (default 4096); components are limited to 255 bytes. */
  maxNameLength?: number;
  /** sha256 of the uncompressed tar that the config's rootfs.diff_ids promises. */
  expectedDiffId?: string;
  /** chown entries to their uid/gid; default: only when running as root. */
  preserveOwnership?: boolean;
  signal?: AbortSignal;
}

export interface UnpackResult {
  diffId: string;
  bytes: number;
  entries: number;
  skipped: number;
}

export const DEFAULT_MAX_LAYER_BYTES = 8 * 1024 ** 3;
const OPAQUE = '.wh..wh..opq';
const WHITEOUT = '.wh.';

/** lstat that returns undefined for a missing path. */
function lstat(p: string): Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

function writeAllSync(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** Applies a layer file (gzip or plain tar, detected by magic bytes) onto `target`. */
export async function applyLayer(source: string | Buffer, target: string, options: UnpackOptions): Promise<UnpackResult> {
  const head = typeof source === 'string' ? await readHead(source) : source.subarray(0, 8);
  const format = detectLayerFormat(head);
  const input = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  const applier = new LayerApplier(await fsp.realpath(target), options);
  return applier.run(input, format);
}

class LayerApplier {
  private readonly log: Logger;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly maxName: number;
  private readonly chown: boolean;
  /** Relative paths known to be real directories (reset when directories are removed). */
  private readonly dirs = new Set<string>();
  /** Everything this layer created: whiteouts in the same layer must not delete them. */
  private readonly created = new Set<string>();
  /** Directory metadata, applied last so that writing children does not disturb mtimes. */
  private readonly dirMeta = new Map<string, DirMeta>();
  private entries = 0;
  private skipped = 0;
  /** The path of the entry being written, for naming it when the filesystem fails. */
  private writing: string | undefined;

  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
  ) {
    this.log = opts.logger;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_LAYER_BYTES;
    this.maxEntries = opts.maxEntries ?? 1_000_000;
    this.maxName = opts.maxNameLength ?? 4096;
    this.chown = opts.preserveOwnership ?? process.getuid?.() === 0;
  }

  async run(input: Readable, format: LayerFormat): Promise<UnpackResult> {
    const hash = createHash('sha256');
    let bytes = 0;
    const { maxBytes, opts } = this;
    const tooLarge = opts.tooLarge ?? ((max: number) => new GroveError(ErrorCode.SizeLimit, `layer is larger than ${max} bytes uncompressed`));
    const progress = opts.progress;
    let nextCheck = progress?.everyBytes ?? Infinity;
    const counter = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          cb(tooLarge(maxBytes));
          return;
        }
        hash.update(chunk);
        if (progress && bytes >= nextCheck) {
          nextCheck = bytes + progress.everyBytes;
          progress.check().then(
            () => cb(null, chunk),
            (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
          );
          return;
        }
        cb(null, chunk);
      },
    });
    // Loaded on first use: an idle agent pulls nothing, and tar-stream costs ~5 MiB resident.
    const { default: tar } = await import('tar-stream');
    const extract = tar.extract();
    const stages: NodeJS.ReadWriteStream[] = format === 'gzip' ? [createGunzip(), counter] : [counter];
    // Settles to the pipeline's error (or undefined): never an unhandled rejection.
    const feeding = pipeline([input, ...stages, extract as unknown as NodeJS.WritableStream], this.opts.signal ? { signal: this.opts.signal } : {}).then(
      () => undefined,
      (err: unknown) => err ?? new Error('layer stream failed'),
    );
    let loopError: unknown;
    try {
      for await (const entry of extract) {
        await this.entry(entry);
      }
    } catch (err) {
      loopError = err;
      input.destroy();
    }
    const failure = extractFailure(loopError, await feeding, {
      invalid: (message, cause) => new GroveError(ErrorCode.ArchiveInvalid, `layer is not a valid tar${format === 'gzip' ? '.gz' : ''}: ${message}`, { cause }),
      writing: () => this.writing ?? this.root,
      signal: this.opts.signal,
    });
    if (failure !== undefined) throw failure;
    try {
      this.applyDirMeta();
    } catch (err) {
      throw isNoSpace(err) ? noSpaceError(this.root, err) : err;
    }
    const diffId = `sha256:${hash.digest('hex')}`;
    if (this.opts.expectedDiffId && diffId !== this.opts.expectedDiffId) {
      throw new GroveError(ErrorCode.DigestMismatch, `layer diff_id mismatch: config says ${this.opts.expectedDiffId}, content is ${diffId}`, {
        details: { expected: this.opts.expectedDiffId, actual: diffId },
      });
    }
    return { diffId, bytes, entries: this.entries, skipped: this.skipped };
  }

  /**
   * Walks `parts` (directories) from the root. Missing components are created when `create`,
   * otherwise undefined is returned. Symlinks and non-directories are refused.
   */
  private resolveDir(parts: string[], entry: string, create: boolean): string | undefined {
    let dir = this.root;
    let rel = '';
    for (const part of parts) {
      rel = rel ? `${rel}/${part}` : part;
      const p = join(dir, part);
      if (!this.dirs.has(rel)) {
        const st = lstat(p);
        if (!st) {
          if (!create) return undefined;
          fs.mkdirSync(p, { mode: 0o755 });
        } else if (st.isSymbolicLink()) {
          throw unsafe(entry, `parent "${rel}" is a symbolic link; refusing to write through it`);
        } else if (!st.isDirectory()) {
          throw unsafe(entry, `parent "${rel}" is not a directory`);
        }
        this.dirs.add(rel);
      }
      // A path written by this layer implies its parents exist in this layer too.
      if (create) this.created.add(rel);
      dir = p;
    }
    return dir;
  }

  /** Removes whatever is at `full` without following it; forgets cached dirs below it. */
  private remove(full: string, rel: string, st: Stats): void {
    if (st.isDirectory()) {
      fs.rmSync(full, { recursive: true, force: true });
      this.forget(rel);
    } else {
      fs.unlinkSync(full);
    }
  }

  private forget(rel: string): void {
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d === rel || d.startsWith(prefix)) this.dirs.delete(d);
    for (const d of this.dirMeta.keys()) if (d === rel || d.startsWith(prefix)) this.dirMeta.delete(d);
  }

  private async entry(entry: TarEntry): Promise<void> {
    const h = entry.header;
    this.opts.signal?.throwIfAborted();
    if (++this.entries > this.maxEntries) {
      throw new GroveError(ErrorCode.SizeLimit, `layer has more than ${this.maxEntries} entries`);
    }
    const name = h.name;
    const parts = cleanEntryPath(name, this.maxName);
    const type = h.type ?? 'file';

    if (parts.length === 0) {
      // The root itself ("./"): its metadata belongs to the snapshot, not to the layer.
      if (type !== 'directory') throw unsafe(name, 'a non-directory entry cannot replace the root');
      return drain(entry);
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    const rel = parts.join('/');

    if (base.startsWith(WHITEOUT)) {
      await drain(entry);
      this.whiteout(name, parentParts, base);
      return;
    }

    switch (type) {
      case 'directory':
      case 'file':
      case 'contiguous-file':
      case 'symlink':
      case 'link':
        break;
      default:
        this.skipped++;
        this.log.debug({ entry: name, type }, 'skipping special file in layer');
        return drain(entry);
    }

    this.writing = join(this.root, rel);
    const parent = this.resolveDir(parentParts, name, true)!;
    const full = join(parent, base);
    const existing = lstat(full);
    const mode = (h.mode ?? (type === 'directory' ? 0o755 : 0o644)) & 0o7777;
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    const mtime = h.mtime ?? new Date(0);

    if (type === 'directory') {
      if (existing && !existing.isDirectory()) this.remove(full, rel, existing);
      if (!existing || !existing.isDirectory()) fs.mkdirSync(full, { mode: 0o700 });
      this.dirs.add(rel);
      this.created.add(rel);
      this.dirMeta.set(rel, { mode, uid, gid, mtime });
      return drain(entry);
    }

    if (type === 'link') {
      await drain(entry);
      const targetParts = cleanEntryPath(h.linkname ?? '', this.maxName);
      if (targetParts.length === 0) throw unsafe(name, 'hard link to the root directory');
      const targetDir = this.resolveDir(targetParts.slice(0, -1), name, false);
      const targetFull = targetDir === undefined ? undefined : join(targetDir, targetParts[targetParts.length - 1]!);
      const targetSt = targetFull === undefined ? undefined : lstat(targetFull);
      if (!targetSt || targetFull === undefined) throw unsafe(name, `hard link target "${h.linkname}" is not inside the layer tree`);
      if (targetSt.isDirectory()) throw unsafe(name, `hard link target "${h.linkname}" is a directory`);
      if (targetFull === full) return;
      if (existing) this.remove(full, rel, existing);
      fs.linkSync(targetFull, full);
      this.created.add(rel);
      return;
    }

    if (existing) this.remove(full, rel, existing);
    this.created.add(rel);

    if (type === 'symlink') {
      await drain(entry);
      fs.symlinkSync(h.linkname ?? '', full);
      if (this.chown) fs.lchownSync(full, uid, gid);
      fs.lutimesSync(full, mtime, mtime);
      return;
    }

    // Regular file: O_EXCL|O_NOFOLLOW, so nothing that appeared at `full` is ever written through.
    // Synchronous syscalls on purpose: per-file async round trips made unpacking ~20x slower.
    const fd = fs.openSync(full, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry) writeAllSync(fd, chunk as Buffer);
      if (this.chown) fs.fchownSync(fd, uid, gid);
      fs.fchmodSync(fd, mode); // after chown, which clears setuid/setgid
      fs.futimesSync(fd, mtime, mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  private whiteout(name: string, parentParts: string[], base: string): void {
    const dir = this.resolveDir(parentParts, name, false);
    if (dir === undefined) return; // nothing below to hide
    const dirRel = parentParts.join('/');
    if (base === OPAQUE) {
      this.purgeLower(dir, dirRel);
      return;
    }
    if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
      // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not content.
      this.skipped++;
      return;
    }
    const victim = base.slice(WHITEOUT.length);
    if (victim === '' || victim === '.' || victim === '..' || victim.includes('/')) throw unsafe(name, 'invalid whiteout');
    const victimRel = dirRel ? `${dirRel}/${victim}` : victim;
    if (this.created.has(victimRel)) return;
    const p = join(dir, victim);
    const st = lstat(p);
    if (st) this.remove(p, victimRel, st);
  }

  /**
   * Opaque directory: removes everything below `dir` that lower layers put there, keeping what
   * this layer created (recursing into directories this layer re-declared).
   */
  private purgeLower(dir: string, dirRel: string): void {
    for (const child of fs.readdirSync(dir)) {
      const childRel = dirRel ? `${dirRel}/${child}` : child;
      const p = join(dir, child);
      const st = lstat(p);
      if (!st) continue;
      if (this.created.has(childRel)) {
        if (st.isDirectory()) this.purgeLower(p, childRel);
        continue;
      }
      this.remove(p, childRel, st);
    }
  }

  /** Applies directory modes, owners and mtimes deepest first, never through a symlink. */
  private applyDirMeta(): void {
    const entries = [...this.dirMeta.entries()].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    this.dirs.clear(); // re-verify every parent from the filesystem
    for (const [rel, meta] of entries) {
      const parts = rel.split('/');
      const dir = this.resolveDir(parts.slice(0, -1), rel, false);
      if (dir === undefined) continue;
      let fd: number;
      try {
        fd = fs.openSync(join(dir, parts[parts.length - 1]!), fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') continue;
        throw err;
      }
      try {
        if (this.chown) fs.fchownSync(fd, meta.uid, meta.gid);
        fs.fchmodSync(fd, meta.mode);
        fs.futimesSync(fd, meta.mtime, meta.mtime);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}
