import { describe, expect, it } from 'vitest';
import { FrameReader, decodeHeaderBlock, encodeData, encodeHeaderBlock, encodePing, encodeRstStream, encodeSynReply } from '../../src/server/streams/spdy-frames.js';
import { HeaderCompression, spdyDictionary } from '../../src/server/streams/spdy-headers.js';
import { SpdyConnection, type SpdyStream } from '../../src/server/streams/spdy-connection.js';
import { capturingLogger } from '../support/capture-logger.js';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Waits (zlib works in the thread pool) until `done`, failing after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

/** A SYN_STREAM as a client writes it, its headers compressed with the dictionary. */
function synStream(streamId: number, block: Buffer, fin = false): Buffer {
  const payload = Buffer.concat([Buffer.alloc(10), block]);
  payload.writeUInt32BE(streamId, 0);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(1, 2);
  head[4] = fin ? 1 : 0;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

describe('SPDY/3 framing', () => {
  it('uses the dictionary client-go uses (1423 bytes, adler32 e3c6a7c2)', () => {
    const dict = spdyDictionary();
    expect(dict.length).toBe(1423);
    expect(adler32(dict).toString(16)).toBe('e3c6a7c2');
  });

  it('reads frames split anywhere across pieces', () => {
    const bytes = Buffer.concat([encodeData(1, Buffer.from('hello')), encodePing(7), encodeRstStream(3, 5), encodeData(1, Buffer.alloc(0), true)]);
    const reader = new FrameReader();
    const frames = [];
    for (let i = 0; i < bytes.length; i += 3) frames.push(...reader.push(bytes.subarray(i, i + 3)));
    expect(frames).toEqual([
      { kind: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
      { kind: 'ping', id: 7 },
      { kind: 'rstStream', streamId: 3, status: 5 },
      { kind: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) },
    ]);
  });

  it('refuses frames larger than its limits and other SPDY versions', () => {
    const big = Buffer.alloc(8);
    big.writeUInt32BE(1, 0);
    big.writeUIntBE(2 * 1024 * 1024, 5, 3);
    expect(() => new FrameReader().push(big)).toThrow('data frame of 2097152 bytes');
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    expect(() => new FrameReader().push(v2)).toThrow('SPDY version 2');
  });

  it('header blocks round-trip, names lowercased', () => {
    expect(decodeHeaderBlock(encodeHeaderBlock({ streamType: 'data', port: '8080', requestID: '0' }))).toEqual({ streamtype: 'data', port: '8080', requestid: '0' });
    expect(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9]))).toThrow('malformed');
  });

  it('inflates one zlib stream across blocks, primed with the dictionary', async () => {
    // The first block of a connection names the dictionary (zlib FDICT with its adler32).
    const client = new HeaderCompression();
    const server = new HeaderCompression();
    const first = await client.encode({ streamType: 'error', port: '80', requestID: '0' });
    expect(first.subarray(0, 6).toString('hex')).toBe('78bbe3c6a7c2');
    const second = await client.encode({ streamType: 'data', port: '80', requestID: '0' });
    expect({ ...(await server.decode(first)) }).toEqual({ streamtype: 'error', port: '80', requestid: '0' });
    // The second continues the first: it cannot be read on its own.
    expect({ ...(await server.decode(second)) }).toEqual({ streamtype: 'data', port: '80', requestid: '0' });
    await expect(new HeaderCompression().decode(second)).rejects.toThrow('SPDY header block');
    client.close();
    server.close();
  });
});

describe('SPDY server connection', () => {
  it('answers a stream with SYN_REPLY, relays data and FIN, echoes client pings', async () => {
    const client = new HeaderCompression();
    const written: Buffer[] = [];
    const streams: SpdyStream[] = [];
    const got: string[] = [];
    const log = capturingLogger();
    const conn = new SpdyConnection(
      { write: (d, done) => (written.push(d), done?.()), pause: () => undefined, resume: () => undefined, close: () => undefined },
      {
        logger: log.logger,
        onStream: (s) => {
          streams.push(s);
          s.onData = (d) => void got.push(d.toString());
          s.onEnd = () => void got.push('<fin>');
        },
      },
    );
    conn.receive(synStream(1, await client.encode({ streamType: 'data', port: '8080', requestID: '0' })));
    conn.receive(Buffer.concat([encodeData(1, Buffer.from('GET /')), encodeData(1, Buffer.alloc(0), true), encodePing(1), encodePing(2)]));
    await until(() => got.length === 2 && written.length === 2);
    expect(log.lines()).toEqual([]);
    expect(streams.map((s) => s.headers)).toEqual([{ streamtype: 'data', port: '8080', requestid: '0' }]);
    expect(got).toEqual(['GET /', '<fin>']);
    const replies = new FrameReader().push(Buffer.concat(written));
    expect(replies.map((f) => f.kind)).toEqual(['ignored', 'ping']);
    expect(written[0]!.readUInt16BE(2)).toBe(2); // SYN_REPLY
    streams[0]!.write(Buffer.from('200 OK'));
    streams[0]!.end();
    const out = new FrameReader().push(Buffer.concat(written.slice(2)));
    expect(out).toEqual([
      { kind: 'data', streamId: 1, fin: false, data: Buffer.from('200 OK') },
      { kind: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) },
    ]);
    conn.close();
    client.close();
  });

  it('resets even-numbered (server) stream ids from a client', async () => {
    const client = new HeaderCompression();
    const written: Buffer[] = [];
    const conn = new SpdyConnection({ write: (d) => void written.push(d), pause: () => undefined, resume: () => undefined, close: () => undefined }, { logger: capturingLogger().logger, onStream: () => undefined });
    conn.receive(synStream(2, await client.encode({ streamType: 'data' })));
    await until(() => written.length === 1);
    expect(new FrameReader().push(Buffer.concat(written))).toEqual([{ kind: 'rstStream', streamId: 2, status: 1 }]);
    conn.close();
    client.close();
  });

  it('encodes a SYN_REPLY header', () => {
    const f = encodeSynReply(5, Buffer.from([1, 2]));
    expect([...f.subarray(0, 8)]).toEqual([0x80, 3, 0, 2, 0, 0, 0, 6]);
  });
});
