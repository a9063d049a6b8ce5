/**
 * The server side of a SPDY/3.1 connection, as much as port-forward needs: streams the client
 * opens (answered at once with SYN_REPLY, which client-go waits for), their data and
 * half-closes both ways, resets, PINGs answered, GOAWAY. Frames are handled one after another
 * in arrival order; while one waits (its data not yet taken), the transport is paused, so a
 * slow node holds the client back instead of filling the server's memory.
 *
 * SPDY's own flow control (WINDOW_UPDATE) is not used: client-go neither sends nor honours it,
 * and TCP plus the node session's window do that job.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.js';
import { FrameReader, RstStatus, encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynReply, type SpdyFrame } from './spdy-frames.js';
import { HeaderCompression } from './spdy-headers.js';

/** The bytes a connection rides on: a WebSocket tunnel or an upgraded socket. */
export interface SpdyTransport {
  /** `done` once the bytes are handed to the network (flow control). */
  write(data: Buffer, done?: () => void): void;
  pause(): void;
  resume(): void;
  close(): void;
}

/** A stream the client opened. */
export class SpdyStream {
  /** Client data, in order; the returned promise holds the connection until the data is taken. */
  onData: (data: Buffer) => Promise<void> | void = () => undefined;
  /** The client will send no more. */
  onEnd: () => void = () => undefined;
  /** The client reset the stream, or the connection went away. */
  onReset: () => void = () => undefined;
  private sentFin = false;
  gone = false;

  constructor(
    readonly id: number,
    readonly headers: Readonly<Record<string, string>>,
    private readonly connection: SpdyConnection,
  ) {}

  write(data: Buffer, done?: () => void): void {
    if (this.sentFin || this.gone) return done?.();
    // SPDY data frames carry at most 16 MiB; pieces of 64 KiB keep frames small for the client.
    for (let offset = 0; offset < data.length; offset += 64 * 1024) {
      const last = offset + 64 * 1024 >= data.length;
      this.connection.send(encodeData(this.id, data.subarray(offset, offset + 64 * 1024)), last ? done : undefined);
    }
  }

  /** Half-closes our side (FIN). */
  end(): void {
    if (this.sentFin || this.gone) return;
    this.sentFin = true;
    this.connection.send(encodeData(this.id, Buffer.alloc(0), true));
  }

  reset(status: number = RstStatus.cancel): void {
    if (this.gone) return;
    this.gone = true;
    this.connection.send(encodeRstStream(this.id, status));
    this.connection.forget(this.id);
  }
}

export interface SpdyConnectionOptions {
  logger: Logger;
  onStream: (stream: SpdyStream) => void;
  /** Streams open at once (more are refused with RST_STREAM). */
  maxStreams?: number;
  onClose?: () => void;
}

export class SpdyConnection {
  private readonly reader = new FrameReader();
  private readonly compression = new HeaderCompression();
  private readonly streams = new Map<number, SpdyStream>();
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private lastStreamId = 0;

  constructor(
    private readonly transport: SpdyTransport,
    private readonly opts: SpdyConnectionOptions,
  ) {}

  /** Bytes from the transport. */
  receive(bytes: Buffer): void {
    if (this.closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.reader.push(bytes);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const frame of frames) {
      this.queued++;
      if (this.queued === 1) this.transport.pause();
      this.chain = this.chain
        .then(() => this.handle(frame))
        .catch((err: unknown) => this.fail(err))
        .finally(() => {
          this.queued--;
          if (this.queued === 0 && !this.closed) this.transport.resume();
        });
    }
    // The frames of this piece wait their turn; reading resumes once they are handled.
  }

  /** The transport went away: every stream is reset. */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      s.gone = true;
      s.onReset();
    }
    this.streams.clear();
    this.compression.close();
    this.opts.onClose?.();
  }

  /** Ends the connection: GOAWAY, then the transport closes. */
  close(): void {
    if (this.closed) return;
    this.send(encodeGoAway(this.lastStreamId));
    this.transport.close();
    this.transportClosed();
  }

  send(frame: Buffer, done?: () => void): void {
    if (this.closed) return done?.();
    this.transport.write(frame, done);
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  private fail(err: unknown): void {
    this.opts.logger.debug({ err: errorMessage(err) }, 'SPDY connection failed');
    this.close();
  }

  private async handle(frame: SpdyFrame): Promise<void> {
    if (this.closed) return;
    switch (frame.kind) {
      case 'synStream': {
        const headers = await this.compression.decode(frame.headerBlock);
        // Client streams are odd and rising (SPDY): anything else is a protocol error.
        if (frame.streamId % 2 !== 1 || frame.streamId <= this.lastStreamId) {
          this.send(encodeRstStream(frame.streamId, RstStatus.protocolError));
          return;
        }
        this.lastStreamId = frame.streamId;
        if (this.streams.size >= (this.opts.maxStreams ?? 128)) {
          this.send(encodeRstStream(frame.streamId, RstStatus.refusedStream));
          return;
        }
        const stream = new SpdyStream(frame.streamId, headers, this);
        this.streams.set(frame.streamId, stream);
        this.send(encodeSynReply(frame.streamId, await this.compression.encode({})));
        this.opts.onStream(stream);
        if (frame.fin) stream.onEnd();
        return;
      }
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (frame.data.length > 0) await stream.onData(frame.data);
        if (frame.fin) stream.onEnd();
        return;
      }
      case 'headers':
        // Trailing headers carry nothing port-forward uses; their block must still be read to keep the zlib stream in step.
        await this.compression.decode(frame.headerBlock);
        if (frame.fin) this.streams.get(frame.streamId)?.onEnd();
        return;
      case 'rstStream': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.gone = true;
        this.streams.delete(frame.streamId);
        stream.onReset();
        return;
      }
      case 'ping':
        // Ours would be even; the client's (odd) are echoed.
        if (frame.id % 2 === 1) this.send(encodePing(frame.id));
        return;
      case 'goAway':
        this.close();
        return;
      case 'ignored':
        return;
    }
  }
}
