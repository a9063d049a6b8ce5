/**
 * The two halves of a stream session's bookkeeping over MQTT (docs/protocol.md "Stream
 * sessions"), the same on the server and on the node:
 *
 * - InOrder: messages are numbered from 0; QoS 1 may deliver one twice, or (across a reconnect)
 *   out of order. Each is handed on once, in order; a bounded number may come early.
 * - SendWindow: a sender may have at most `windowBytes` not yet acknowledged by the receiver,
 *   which acknowledges what it has passed on (to the process, the socket, the client). A slow
 *   reader therefore holds back the writer at the other end instead of filling the broker and
 *   the server's memory.
 *
 * Pure: no timers, no I/O.
 */
import { ErrorCode, GroveError } from './errors.js';

export class InOrder<T> {
  private next = 0;
  private readonly early = new Map<number, T>();

  constructor(private readonly maxAhead: number) {}

  /**
   * The messages that can be handed on now, in order: none for a duplicate or an early one
   * (kept), several when `seq` fills a gap. Throws when `seq` is further ahead than allowed.
   */
  accept(seq: number, message: T): T[] {
    if (seq < this.next || this.early.has(seq)) return [];
    if (seq > this.next) {
      if (seq - this.next > this.maxAhead || this.early.size >= this.maxAhead) {
        throw new GroveError(ErrorCode.WireInvalid, `stream message ${seq} arrived while ${this.next} was expected (at most ${this.maxAhead} may come early)`);
      }
      this.early.set(seq, message);
      return [];
    }
    const ready = [message];
    this.next++;
    for (let m = this.early.get(this.next); m !== undefined; m = this.early.get(this.next)) {
      this.early.delete(this.next);
      ready.push(m);
      this.next++;
    }
    return ready;
  }

  /** Messages held early (tests, bounds). */
  get held(): number {
    return this.early.size;
  }
}

export class SendWindow {
  private sent = 0;
  private acked = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly windowBytes: number) {}

  /** Bytes that may be sent now without waiting. */
  get available(): number {
    return Math.max(0, this.windowBytes - (this.sent - this.acked));
  }

  /** Counts `bytes` as sent (call before sending them). */
  consume(bytes: number): void {
    this.sent += bytes;
  }

  /**
   * The receiver's running total of bytes passed on. A total that goes back or beyond what was
   * sent is ignored (a duplicate or a confused peer).
   */
  acknowledge(total: number): void {
    if (total <= this.acked || total > this.sent) return;
    this.acked = total;
    if (this.available > 0) this.wake();
  }

  /** Resolves once some bytes may be sent (at once when the window is open). */
  opened(): Promise<void> {
    if (this.available > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Lets every waiter go (the session ended: they find it closed). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Counts bytes passed on and says when to acknowledge them: after a quarter of the window, so
 * acknowledgements cost a few messages per window rather than one per chunk.
 */
export class AckCounter {
  private total = 0;
  private reported = 0;

  constructor(private readonly windowBytes: number) {}

  /** Records `bytes` passed on; the running total to acknowledge now, or undefined. */
  passed(bytes: number): number | undefined {
    this.total += bytes;
    if (this.total - this.reported < this.windowBytes / 4) return undefined;
    this.reported = this.total;
    return this.total;
  }

  /** The total not yet acknowledged, if any (sent with the next message that goes anyway). */
  pending(): number | undefined {
    if (this.total === this.reported) return undefined;
    this.reported = this.total;
    return this.total;
  }
}
