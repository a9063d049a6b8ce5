import { promises as fsp, type Stats } from 'node:fs';
import type tar from 'tar-stream';
import { ErrorCode, GroveError, errorMessage, isNoSpace, noSpaceError } from '../../../src/core/errors.js';

/** Layer/tar helpers: compression detection, entry-name cleaning, draining entries. */

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2_MAGIC = [0x42, 0x5a, 0x68];

/** One entry of tar-stream's extract iterator (a streamx Readable with its header). */
export type TarEntry = ReturnType<typeof tar.extract> extends AsyncIterable<infer E> ? E : never;

export function unsafe(entry: string, why: string): GroveError {
  return new GroveError(ErrorCode.UnsafeLayer, `unsafe layer entry "${entry.slice(0, 200)}": ${why}`, { details: { entry } });
}

function startsWith(buf: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

export type LayerFormat = 'gzip' | 'tar';

/** Compression from magic bytes; zstd/xz/bzip2 are refused with UnsupportedMediaType. */
export function detectLayerFormat(head: Buffer): LayerFormat {
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  const other = startsWith(head, ZSTD_MAGIC) ? 'zstd' : startsWith(head, XZ_MAGIC) ? 'xz' : startsWith(head, BZIP2_MAGIC) ? 'bzip2' : undefined;
  if (other) throw new GroveError(ErrorCode.UnsupportedMediaType, `${other}-compressed layers are not supported (only gzip and uncompressed tar)`);
  return 'tar';
}

export async function readHead(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Cleans an entry path into components relative to the target. Returns [] for the target
 * itself. Throws UnsafeLayer for NUL bytes or a ".." escaping the target, SizeLimit for
 * over-long names.
 */
export function cleanEntryPath(name: string, maxNameLength = 4096): string[] {
  if (name.includes('\0')) throw unsafe(name, 'NUL byte in name');
  if (Buffer.byteLength(name) > maxNameLength) {
    throw new GroveError(ErrorCode.SizeLimit, `layer entry name is longer than ${maxNameLength} bytes`, { details: { entry: name.slice(0, 200) } });
  }
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw unsafe(name, '".." escapes the root');
      out.pop();
      continue;
    }
    if (Buffer.byteLength(part) > 255) throw new GroveError(ErrorCode.SizeLimit, `layer entry name component longer than 255 bytes`, { details: { entry: name.slice(0, 200) } });
    out.push(part);
  }
  return out;
}

export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // discard
  }
}

export interface ExtractFailureContext {
  /** The archive is damaged: the GroveError to report it with (ArchiveInvalid). */
  invalid: (message: string, cause: unknown) => GroveError;
  /** What was being written when a filesystem error struck (the entry's path, else the target). */
  writing: () => string;
  signal?: AbortSignal | undefined;
}

/**
 * The one error to report for an extraction: an `for await (entry of extract)` loop that writes
 * files (`loopError`), fed by a pipeline that decompresses and parses (`feedError`). When the
 * loop fails it destroys the input, so the pipeline then fails too, with a bare "premature
 * close": which side failed first says nothing, what failed does. A filesystem error (it has a
 * syscall: ENOSPC, EIO, EACCES …) is never the archive's fault, and a full disk is named as
 * such; our own GroveErrors (limits, unsafe entries) come next; only what is left is a damaged
 * archive. Undefined when nothing failed.
 */
export function extractFailure(loopError: unknown, feedError: unknown, ctx: ExtractFailureContext): unknown {
  if (loopError === undefined && feedError === undefined) return undefined;
  if (isNoSpace(loopError) || isNoSpace(feedError)) return noSpaceError(ctx.writing(), isNoSpace(loopError) ? loopError : feedError);
  if (loopError instanceof GroveError) return loopError;
  if (feedError instanceof GroveError) return feedError;
  if (ctx.signal?.aborted) return ctx.signal.reason;
  const fsError = [loopError, feedError].find((e) => typeof (e as NodeJS.ErrnoException | undefined)?.syscall === 'string');
  if (fsError !== undefined) return new GroveError(ErrorCode.Internal, `cannot write ${ctx.writing()}: ${errorMessage(fsError)}`, { cause: fsError });
  const failure = feedError ?? loopError;
  return ctx.invalid(errorMessage(failure), failure);
}

