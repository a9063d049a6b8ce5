import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, isGroveError, isNoSpace, noSpaceError } from '../../../src/core/errors.js';
import { sleep as defaultSleep, writeFully } from './fs-util.js';

export interface BlobDownloadOptions {
  digest: string;
  /** Size from the descriptor; the download never accepts more bytes than this. */
  size: number;
  /** `<root>/ingest/<hex>.partial`: resumed from when it exists, verified in place. */
  partialPath: string;
  /**
   * Issues the GET (with `Range: bytes=<start>-` when start > 0) and returns the response,
   * auth and redirects already handled. A 200 means the server ignored the range.
   */
  open: (start: number, signal: AbortSignal) => Promise<Response>;
  logger: Logger;
  signal?: AbortSignal;
  onProgress?: (receivedBytes: number, totalBytes: number, resumedFrom?: number) => void;
  /** Attempts after a dropped connection (default 4), with exponential backoff. */
  retries?: number;
  backoffMs?: number;
  /** Abort an attempt that receives nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** Errors worth another attempt: network drops, idle timeouts, 5xx / 429; never a full disk. */
function retryable(err: unknown): boolean {
  if (isNoSpace(err)) return false;
  if (isGroveError(err)) return err.code === ErrorCode.RegistryUnavailable;
  return true;
}

/**
 * Downloads a blob into its `.partial` ingest file with streaming sha256 verification.
 *
 * - An existing partial file is re-hashed and the download continues from its size with an
 *   HTTP Range request; a 206 appends, a 200 (range ignored) truncates and restarts.
 * - A dropped connection is retried a few times with backoff, continuing where it stopped.
 * - On a digest mismatch (or more bytes than the descriptor says) the partial file is
 *   deleted and DigestMismatch is thrown: nothing reaches the content store.
 * - On abort or a final network failure the partial file is kept for the next pull.
 * - On a full disk (not retried) it is deleted, to give the space back: NoSpace names the file.
 * On success the file is complete, verified and fsynced; the caller commits it.
 */
export async function downloadBlob(opts: BlobDownloadOptions): Promise<{ resumedFrom?: number }> {
  const { digest, size, partialPath, logger } = opts;
  const retries = opts.retries ?? 4;
  const backoff = opts.backoffMs ?? 250;
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  const sleep = opts.sleep ?? defaultSleep;
  const log = logger.child({ digest });

  let hash = createHash('sha256');
  let offset = 0;
  try {
    const st = await fsp.stat(partialPath);
    if (st.size > size) {
      await fsp.rm(partialPath, { force: true });
    } else {
      await hashFile(partialPath, hash);
      offset = st.size;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const resumedFrom = offset > 0 ? offset : undefined;
  if (resumedFrom) log.info({ offset }, 'resuming blob download');

  const fh = await fsp.open(partialPath, offset > 0 ? 'r+' : 'w', 0o600);
  let keepPartial = true;
  try {
    let attempt = 0;
    while (offset < size) {
      opts.signal?.throwIfAborted();
      const ctl = new AbortController();
      const onAbort = (): void => ctl.abort(opts.signal!.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let idle: NodeJS.Timeout | undefined;
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => ctl.abort(new GroveError(ErrorCode.RegistryUnavailable, `no data for ${idleMs} ms`)), idleMs);
      };
      const before = offset;
      try {
        armIdle();
        const res = await opts.open(offset, ctl.signal);
        if (offset > 0 && res.status === 200) {
          log.info({ offset }, 'server ignored the Range request; restarting the blob from the beginning');
          offset = 0;
          hash = createHash('sha256');
          await fh.truncate(0);
        } else if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)?\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
          if (!m || Number(m[1]) !== offset) {
            await res.body?.cancel().catch(() => undefined);
            throw new GroveError(ErrorCode.RegistryError, `unexpected Content-Range "${res.headers.get('content-range')}" for offset ${offset}`);
          }
        } else if (res.status !== 200) {
          await res.body?.cancel().catch(() => undefined);
          throw new GroveError(ErrorCode.RegistryError, `blob ${digest}: unexpected HTTP ${res.status}`);
        }
        if (!res.body) throw new GroveError(ErrorCode.RegistryUnavailable, `blob ${digest}: empty response`);
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          armIdle();
          if (offset + chunk.length > size) {
            keepPartial = false;
            throw new GroveError(ErrorCode.DigestMismatch, `blob ${digest}: registry sent more than the ${size} bytes the manifest declares`);
          }
          await writeFully(fh, chunk, offset);
          hash.update(chunk);
          offset += chunk.length;
          opts.onProgress?.(offset, size, resumedFrom);
        }
        if (offset < size) throw new GroveError(ErrorCode.RegistryUnavailable, `connection closed after ${offset} of ${size} bytes`);
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (!keepPartial || !retryable(err)) throw err;
        if (offset > before) attempt = 0; // progress was made: the retry budget is per stall
        if (attempt >= retries) {
          throw new GroveError(
            ErrorCode.RegistryUnavailable,
            `blob ${digest}: download failed after ${retries + 1} attempts at ${offset}/${size} bytes: ${(err as Error).message}`,
            { cause: err },
          );
        }
        const delay = backoff * 2 ** attempt;
        attempt++;
        log.warn({ offset, size, attempt, delay, err: (err as Error).message }, 'blob download interrupted; retrying');
        await sleep(delay, opts.signal);
      } finally {
        clearTimeout(idle);
        opts.signal?.removeEventListener('abort', onAbort);
      }
    }
    await fh.truncate(size);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) {
      keepPartial = false;
      throw new GroveError(ErrorCode.DigestMismatch, `blob ${digest}: digest mismatch, downloaded content hashes to ${actual}`, {
        details: { expected: digest, actual },
      });
    }
    await fh.sync();
  } catch (err) {
    if (isGroveError(err, ErrorCode.DigestMismatch)) keepPartial = false;
    if (isNoSpace(err)) {
      keepPartial = false;
      throw noSpaceError(partialPath, err);
    }
    throw err;
  } finally {
    await fh.close();
    if (!keepPartial) await fsp.rm(partialPath, { force: true });
  }
  return resumedFrom ? { resumedFrom } : {};
}
