/**
 * Caps the size of incoming MQTT packets before aedes buffers them.
 *
 * aedes has no maximum packet size: its parser accumulates a packet until the length announced
 * in the fixed header has arrived, up to MQTT's 256 MiB. Any LAN peer, before authenticating,
 * could make a 1 GiB board swap itself to death that way. The guard reads only the framing
 * (type byte + variable-length "remaining length") and cuts the connection as soon as a
 * header announces more than the limit.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Largest packet accepted by default: a NodeTarget is capped at 1 MiB, the rest is headroom. */
export const DEFAULT_MAX_PACKET_BYTES = 2 * 1024 * 1024;

/** Incremental MQTT framing reader. `feed` returns an error text once a header is oversize. */
export class MqttFrameScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        i += 1;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const byte = chunk[i]!;
        i += 1;
        this.lengthBytes += 1;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        if (this.length > this.maxPacketBytes) return `packet of ${this.length}+ bytes exceeds the ${this.maxPacketBytes}-byte limit`;
        if (byte & 0x80) {
          if (this.lengthBytes >= 4) return 'malformed remaining length';
        } else {
          this.remaining = this.length;
          this.state = this.remaining === 0 ? 'type' : 'body';
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
      }
    }
    return undefined;
  }
}

/**
 * A Duplex over a socket that scans what it reads and destroys the socket on an oversize
 * packet. aedes only uses read/write/destroy/events on its connection, so it cannot tell the
 * difference from the socket itself.
 */
export class GuardedConnection extends Duplex {
  private readonly scanner: MqttFrameScanner;

  constructor(
    private readonly socket: Socket,
    maxPacketBytes: number,
    onViolation: (reason: string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new MqttFrameScanner(maxPacketBytes);
    socket.on('data', (chunk: Buffer) => {
      const violation = this.scanner.feed(chunk);
      if (violation !== undefined) {
        onViolation(violation);
        // With an error, so that aedes (which listens for 'end' and 'error') drops the client.
        this.destroy(new Error(violation));
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    // A close that aedes has not yet seen as 'end' must reach it as an error, or the client
    // would linger until its keepalive expires.
    socket.on('close', () => {
      if (!this.destroyed) this.destroy(this.readableEnded ? undefined : new Error('connection closed'));
    });
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) {
      callback(new Error('connection closed'));
      return;
    }
    // Hand back-pressure to the writer: complete only once the socket takes more data.
    if (this.socket.write(chunk)) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
