/**
 * Where log lines go when they must never take the process down. pino's own destination
 * (sonic-boom) emits 'error' when a write fails, and with nobody listening the daemon died
 * without a word as soon as its log file's filesystem filled up (the file shares it with the
 * data dir on most boards). This one writes each line synchronously, and when a write fails
 * (ENOSPC, EPIPE, EIO…) drops the line, counts it and keeps going; the first line that can be
 * written again is preceded by one saying how many were dropped and why.
 */
import { writeSync } from 'node:fs';
import { isNoSpace, NO_SPACE_TEXT } from './errors.js';

export interface DroppingDestinationOptions {
  /** Default 2 (stderr). */
  fd?: number;
  /** fs.writeSync of a buffer, returning the bytes written (tests fail it on purpose). */
  write?: (fd: number, data: Buffer) => number;
  now?: () => number;
}

/** EAGAIN (a full non-blocking pipe) is retried this often, 1 ms apart, before the line is dropped. */
const EAGAIN_RETRIES = 3;

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function reasonOf(err: unknown): string {
  if (isNoSpace(err)) return NO_SPACE_TEXT;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

export class DroppingDestination {
  readonly #fd: number;
  readonly #write: (fd: number, data: Buffer) => number;
  readonly #now: () => number;
  #dropped = 0;
  #reason = '';
  /** A line was cut short in the file: the next write starts on a new line. */
  #torn = false;

  constructor(options: DroppingDestinationOptions = {}) {
    this.#fd = options.fd ?? 2;
    this.#write = options.write ?? ((fd, data) => writeSync(fd, data));
    this.#now = options.now ?? Date.now;
  }

  /** Lines dropped since the last successful write. */
  get dropped(): number {
    return this.#dropped;
  }

  /** pino calls this with one serialised line (newline included). */
  write(line: string): void {
    if (this.#dropped > 0) {
      if (!this.#tryWrite(this.#note())) {
        this.#dropped++;
        return;
      }
      this.#dropped = 0;
    }
    if (!this.#tryWrite(line)) this.#dropped++;
  }

  #note(): string {
    const n = this.#dropped;
    const msg = `${n} log line${n === 1 ? ' was' : 's were'} dropped: writing the log failed (${this.#reason})`;
    return `${JSON.stringify({ level: 40, time: this.#now(), component: 'logger', dropped: n, msg })}\n`;
  }

  #tryWrite(text: string): boolean {
    const data = Buffer.from(this.#torn ? `\n${text}` : text, 'utf8');
    let offset = 0;
    let retries = 0;
    while (offset < data.length) {
      try {
        offset += this.#write(this.#fd, data.subarray(offset));
      } catch (err) {
        if ((err as { code?: unknown }).code === 'EAGAIN' && retries++ < EAGAIN_RETRIES) {
          pause(1);
          continue;
        }
        this.#reason = reasonOf(err);
        if (offset > 0) this.#torn = true;
        return false;
      }
    }
    this.#torn = false;
    return true;
  }
}

/**
 * A daemon's own stream writes (its "ready" line) must not kill it either: a failed write to a
 * file or pipe emits 'error', which without a listener is an uncaught exception. Any listener
 * already there is replaced: the CLI's (src/cli/closed-output.ts) rethrows everything but a
 * closed pipe, and exits on a closed stdout, which is right for a verb and wrong for a daemon.
 */
export function survivingStreamErrors(stream: NodeJS.WritableStream): void {
  stream.removeAllListeners('error');
  stream.on('error', () => undefined);
}
