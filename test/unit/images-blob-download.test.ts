import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { downloadBlob, type BlobDownloadOptions } from '../../agent/src/images/blob-download.js';

const logger = silentLogger();
const data = randomBytes(200_000);
const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
let dir: string;
let partial: string;

/** A response streaming `body`, optionally failing after `cutAt` bytes. */
function response(body: Buffer, status: number, headers: Record<string, string> = {}, cutAt?: number): Response {
  const end = cutAt ?? body.length;
  let pos = 0;
  // pull-based: an error() in start() would discard the chunks queued before it
  const stream = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (pos >= end) {
        if (cutAt !== undefined) ctl.error(new TypeError('terminated'));
        else ctl.close();
        return;
      }
      const next = Math.min(end, pos + 16_384);
      ctl.enqueue(new Uint8Array(body.subarray(pos, next)));
      pos = next;
    },
  });
  return new Response(stream, { status, headers });
}

/** open() of a well-behaved server honouring Range; `plan` can sabotage attempt n. */
function server(plan: (attempt: number, start: number) => Response | undefined = () => undefined) {
  const starts: number[] = [];
  const open: BlobDownloadOptions['open'] = async (start) => {
    starts.push(start);
    const custom = plan(starts.length, start);
    if (custom) return custom;
    if (start === 0) return response(data, 200);
    return response(data.subarray(start), 206, { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
  };
  return { open, starts };
}

function opts(open: BlobDownloadOptions['open'], extra: Partial<BlobDownloadOptions> = {}): BlobDownloadOptions {
  return { digest, size: data.length, partialPath: partial, open, logger, backoffMs: 1, sleep: async () => undefined, ...extra };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-dl-'));
  partial = join(dir, `${digest.slice(7)}.partial`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('downloadBlob', () => {
  it('downloads and verifies', async () => {
    const s = server();
    const progress: number[] = [];
    expect(await downloadBlob(opts(s.open, { onProgress: (r) => progress.push(r) }))).toEqual({});
    expect(readFileSync(partial).equals(data)).toBe(true);
    expect(s.starts).toEqual([0]);
    expect(progress.at(-1)).toBe(data.length);
  });

  it('continues a dropped connection with a Range request from where it stopped', async () => {
    const s = server((attempt) => (attempt === 1 ? response(data, 200, {}, 65_536) : undefined));
    await downloadBlob(opts(s.open));
    expect(s.starts).toEqual([0, 65_536]);
    expect(readFileSync(partial).equals(data)).toBe(true);
  });

  it('resumes from an existing partial file (re-hashing it first)', async () => {
    await writeFile(partial, data.subarray(0, 12_345));
    const s = server();
    expect(await downloadBlob(opts(s.open))).toEqual({ resumedFrom: 12_345 });
    expect(s.starts).toEqual([12_345]);
    expect(readFileSync(partial).equals(data)).toBe(true);
  });

  it('a complete partial file is only verified', async () => {
    await writeFile(partial, data);
    const s = server();
    await downloadBlob(opts(s.open));
    expect(s.starts).toEqual([]);
  });

  it('restarts from zero when the server ignores Range', async () => {
    await writeFile(partial, data.subarray(0, 5000));
    const s = server(() => response(data, 200));
    await downloadBlob(opts(s.open));
    expect(s.starts).toEqual([5000]);
    expect(readFileSync(partial).equals(data)).toBe(true);
  });

  it('a corrupt partial file is caught by the final digest check and deleted', async () => {
    await writeFile(partial, Buffer.alloc(5000, 1));
    const s = server();
    await expect(downloadBlob(opts(s.open))).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    expect(existsSync(partial)).toBe(false);
  });

  it('a tampered body is a DigestMismatch and leaves no partial file', async () => {
    const bad = Buffer.from(data);
    bad[100] = bad[100]! ^ 1;
    await expect(downloadBlob(opts(server(() => response(bad, 200)).open))).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    expect(existsSync(partial)).toBe(false);
  });

  it('refuses more bytes than the descriptor declares', async () => {
    const longer = Buffer.concat([data, Buffer.from('extra')]);
    await expect(downloadBlob(opts(server(() => response(longer, 200)).open))).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    expect(existsSync(partial)).toBe(false);
  });

  it('rejects a 206 for the wrong offset', async () => {
    await writeFile(partial, data.subarray(0, 1000));
    const s = server(() => response(data.subarray(10), 206, { 'content-range': `bytes 10-${data.length - 1}/${data.length}` }));
    await expect(downloadBlob(opts(s.open))).rejects.toMatchObject({ code: ErrorCode.RegistryError });
  });

  it('gives up after the retries, keeping the partial file for the next pull', async () => {
    const s = server((_n, start) => response(data.subarray(start), start ? 206 : 200, { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` }, 0));
    const err = (await downloadBlob(opts(s.open, { retries: 2 })).catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.RegistryUnavailable);
    expect(s.starts).toHaveLength(3);
    expect(existsSync(partial)).toBe(true);
  });

  it('an abort keeps the partial file', async () => {
    const ctl = new AbortController();
    const s = server((attempt) => {
      if (attempt === 1) {
        setTimeout(() => ctl.abort(new Error('stop')), 0);
        return response(data, 200, {}, 32_768);
      }
      return undefined;
    });
    await expect(downloadBlob(opts(s.open, { signal: ctl.signal, sleep: (ms) => new Promise((r) => setTimeout(r, ms + 20)) }))).rejects.toThrow('stop');
    expect(existsSync(partial)).toBe(true);
  });
});
