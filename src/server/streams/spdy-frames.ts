/**
 * SPDY/3.1 framing, the part kubectl's port-forward speaks (client-go's SPDY connection, over a
 * WebSocket tunnel or a plain HTTP upgrade): frames are read from a byte stream in whatever
 * pieces it arrives, and the few a server sends are encoded. Header blocks stay compressed
 * here (spdy-headers.ts inflates them). Pure.
 *
 *   control frame: 1 | version(15) = 3 | type(16) | flags(8) | length(24) | payload
 *   data frame:    0 | stream id(31)             | flags(8) | length(24) | payload
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;

/** RST_STREAM status codes used here. */
export const RstStatus = { protocolError: 1, refusedStream: 3, cancel: 5, internalError: 6 } as const;

export type SpdyFrame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'synStream'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'rstStream'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goAway' }
  | { kind: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  /** SYN_REPLY, SETTINGS, WINDOW_UPDATE and unknown types: nothing for a port-forward server to do. */
  | { kind: 'ignored'; type: number };

export interface FrameLimits {
  /** A control frame's payload (header blocks are small: a few names and values). */
  maxControlBytes: number;
  /** A data frame's payload (client-go writes at most 32 KiB at a time). */
  maxDataBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({ maxControlBytes: 64 * 1024, maxDataBytes: 1024 * 1024 });

const HEADER_BYTES = 8;
const streamIdAt = (b: Buffer, offset: number): number => b.readUInt32BE(offset) & 0x7fffffff;

/** Reads frames from the bytes of a connection, kept across pieces; throws on a protocol error. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS) {}

  push(bytes: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length === 0 ? bytes : Buffer.concat([this.buffered, bytes]);
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= HEADER_BYTES) {
      const b = this.buffered;
      const control = (b[0]! & 0x80) !== 0;
      const flags = b[4]!;
      const length = b.readUIntBE(5, 3);
      const max = control ? this.limits.maxControlBytes : this.limits.maxDataBytes;
      if (length > max) throw new GroveError(ErrorCode.SizeLimit, `SPDY ${control ? 'control' : 'data'} frame of ${length} bytes (at most ${max})`);
      if (b.length < HEADER_BYTES + length) break;
      const payload = b.subarray(HEADER_BYTES, HEADER_BYTES + length);
      this.buffered = b.subarray(HEADER_BYTES + length);
      frames.push(control ? controlFrame(b.readUInt16BE(0) & 0x7fff, b.readUInt16BE(2), flags, payload) : { kind: 'data', streamId: streamIdAt(b, 0), fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(payload) });
    }
    return frames;
  }
}

function need(payload: Buffer, bytes: number, what: string): void {
  if (payload.length < bytes) throw new GroveError(ErrorCode.InvalidArgument, `SPDY ${what} frame too short (${payload.length} bytes)`);
}

function controlFrame(version: number, type: number, flags: number, payload: Buffer): SpdyFrame {
  if (version !== SPDY_VERSION) throw new GroveError(ErrorCode.InvalidArgument, `SPDY version ${version} is not spoken here (only 3)`);
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case FrameType.synStream:
      need(payload, 10, 'SYN_STREAM');
      return { kind: 'synStream', streamId: streamIdAt(payload, 0), fin, headerBlock: Buffer.from(payload.subarray(10)) };
    case FrameType.rstStream:
      need(payload, 8, 'RST_STREAM');
      return { kind: 'rstStream', streamId: streamIdAt(payload, 0), status: payload.readUInt32BE(4) };
    case FrameType.ping:
      need(payload, 4, 'PING');
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.goAway:
      return { kind: 'goAway' };
    case FrameType.headers:
      need(payload, 4, 'HEADERS');
      return { kind: 'headers', streamId: streamIdAt(payload, 0), fin, headerBlock: Buffer.from(payload.subarray(4)) };
    default:
      return { kind: 'ignored', type };
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return control(FrameType.synReply, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return control(FrameType.rstStream, 0, u32(streamId & 0x7fffffff, status));
}

export function encodePing(id: number): Buffer {
  return control(FrameType.ping, 0, u32(id));
}

export function encodeGoAway(lastStreamId: number, status = 0): Buffer {
  return control(FrameType.goAway, 0, u32(lastStreamId & 0x7fffffff, status));
}

export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = fin ? FLAG_FIN : 0;
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

/** A header block before compression: count, then (name length, name, value length, value) pairs. */
export function encodeHeaderBlock(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Reads an uncompressed header block (names lowercased; several values joined by NUL as SPDY does). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const bad = (): GroveError => new GroveError(ErrorCode.InvalidArgument, 'SPDY header block is malformed');
  if (block.length < 4) throw bad();
  const count = block.readUInt32BE(0);
  if (count > 256) throw new GroveError(ErrorCode.InvalidArgument, `SPDY header block with ${count} headers (at most 256)`);
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let at = 4;
  const take = (): string => {
    if (at + 4 > block.length) throw bad();
    const len = block.readUInt32BE(at);
    at += 4;
    if (at + len > block.length) throw bad();
    const s = block.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    headers[name] = take();
  }
  return headers;
}
