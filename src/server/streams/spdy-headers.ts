/**
 * SPDY/3 header compression: every header block of a connection is one zlib stream per
 * direction, primed with the protocol's dictionary and sync-flushed after each block, as
 * client-go (moby/spdystream) writes and reads them.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { decodeHeaderBlock, encodeHeaderBlock } from './spdy-frames.js';

/** The header names the SPDY/3 dictionary opens with, each with its 4-byte length before it. */
const DICTIONARY_NAMES = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
/** …then status codes, reason phrases, dates and common values, as one run of text. */
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The SPDY/3 header dictionary (1423 bytes; Go's, without the draft's trailing NUL). */
export function spdyDictionary(): Buffer {
  const parts: Buffer[] = [];
  for (const name of DICTIONARY_NAMES) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(name.length, 0);
    parts.push(len, Buffer.from(name, 'latin1'));
  }
  parts.push(Buffer.from(DICTIONARY_TAIL, 'latin1'));
  return Buffer.concat(parts);
}

/** Decompressed header data one connection may produce in all (a header block is tens of bytes). */
const MAX_INFLATED_BYTES = 1024 * 1024;

/** Runs `block` through a zlib stream with a sync flush; what it produced. */
function through(stream: Inflate | Deflate, block: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new GroveError(ErrorCode.InvalidArgument, `SPDY header block: ${err.message}`, { cause: err }));
    stream.once('error', onError);
    stream.write(block);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('error', onError);
      const out: Buffer[] = [];
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) out.push(chunk);
      resolve(Buffer.concat(out));
    });
  });
}

export class HeaderCompression {
  private readonly inflate: Inflate;
  private readonly deflate: Deflate;
  private inChain: Promise<unknown> = Promise.resolve();
  private outChain: Promise<unknown> = Promise.resolve();
  private inflated = 0;

  constructor() {
    const dictionary = spdyDictionary();
    this.inflate = createInflate({ dictionary });
    this.deflate = createDeflate({ dictionary });
  }

  /** The headers of one compressed block, in the order blocks arrive. */
  decode(block: Buffer): Promise<Record<string, string>> {
    const run = this.inChain.then(async () => {
      const plain = await through(this.inflate, block);
      this.inflated += plain.length;
      if (this.inflated > MAX_INFLATED_BYTES) throw new GroveError(ErrorCode.SizeLimit, `SPDY headers of more than ${MAX_INFLATED_BYTES} bytes on one connection`);
      return decodeHeaderBlock(plain);
    });
    this.inChain = run.catch(() => undefined);
    return run;
  }

  /** One compressed block, in the order blocks are sent. */
  encode(headers: Readonly<Record<string, string>>): Promise<Buffer> {
    const run = this.outChain.then(() => through(this.deflate, encodeHeaderBlock(headers)));
    this.outChain = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.inflate.destroy();
    this.deflate.destroy();
  }
}
