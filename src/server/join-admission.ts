/**
 * Admission control for POST /v1/join. A fleet that boots together (a power cut, a rollout of
 * new boards) sends thousands of joins at once; served all together they hold thousands of
 * sockets, requests and pending store/broker work in the server's memory and each waits behind
 * all the others until the client gives up. Instead at most `maxInFlight` joins are worked on;
 * the rest are answered at once with 503 and a Retry-After that grows with the backlog, and the
 * join client (agent/src/agent/join-client.ts) waits that long, with jitter, and asks again.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCode, GroveError } from '../core/errors.js';
import { JsonResponse } from './http.js';

export interface JoinAdmissionOptions {
  /** Joins worked on at once (default 1000). */
  maxInFlight?: number;
  now?: () => number;
}

export const DEFAULT_MAX_JOINS_IN_FLIGHT = 1000;
/** Bounds of the Retry-After answer, seconds. */
const MIN_RETRY_S = 1;
const MAX_RETRY_S = 30;
/** Turned-away joins remembered for the Retry-After estimate: this window and the one before. */
const REFUSED_WINDOW_MS = 2_000;

export class JoinAdmission {
  readonly maxInFlight: number;
  private inFlight = 0;
  private readonly now: () => number;
  /** Joins finished in the current and the previous one-second bucket (throughput estimate). */
  private finished = new WindowCounter(1000);
  /** Callers turned away recently: they come back, so they are the backlog ahead of a newcomer. */
  private refused = new WindowCounter(REFUSED_WINDOW_MS);

  constructor(options: JoinAdmissionOptions = {}) {
    const max = options.maxInFlight ?? DEFAULT_MAX_JOINS_IN_FLIGHT;
    if (!Number.isInteger(max) || max < 1) throw new GroveError(ErrorCode.InvalidArgument, `maxInFlight must be a positive whole number, got ${max}`);
    this.maxInFlight = max;
    this.now = options.now ?? Date.now;
  }

  /** A release function when the join may proceed; undefined when the caller must come back later. */
  tryEnter(): (() => void) | undefined {
    if (this.inFlight >= this.maxInFlight) {
      this.refused.add(this.now());
      return undefined;
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.finished.add(this.now());
    };
  }

  get active(): number {
    return this.inFlight;
  }

  /**
   * Seconds a turned-away caller should wait: the backlog (joins in flight and callers recently
   * turned away) divided by the measured throughput; clients add jitter on top.
   */
  retryAfterSeconds(): number {
    const now = this.now();
    const backlog = this.inFlight + this.refused.count(now);
    // Early in a storm few joins have finished yet: assume at least half a full batch a second.
    // Guessing low would park the fleet idle; guessing high costs only another cheap 503.
    const rate = Math.max(this.finished.perSecond(now), this.maxInFlight / 2);
    return Math.min(MAX_RETRY_S, Math.max(MIN_RETRY_S, Math.ceil(backlog / rate)));
  }
}

/** Events in the current and the previous bucket of `bucketMs`. */
class WindowCounter {
  private current = 0;
  private previous = 0;
  private bucketStart = -Infinity;

  constructor(private readonly bucketMs: number) {}

  add(now: number): void {
    this.roll(now);
    this.current++;
  }

  count(now: number): number {
    this.roll(now);
    return this.current + this.previous;
  }

  /** Events per second over the previous bucket and the elapsed part of the current one. */
  perSecond(now: number): number {
    this.roll(now);
    const spanMs = this.bucketMs + (now - this.bucketStart);
    return ((this.current + this.previous) * 1000) / spanMs;
  }

  private roll(now: number): void {
    const elapsed = now - this.bucketStart;
    if (elapsed < this.bucketMs) return;
    this.previous = elapsed < 2 * this.bucketMs ? this.current : 0;
    this.current = 0;
    this.bucketStart = elapsed < 2 * this.bucketMs ? this.bucketStart + this.bucketMs : now;
  }
}

/**
 * Runs `join` when admitted; otherwise answers 503 with Retry-After without reading the body
 * (Node discards the rest of a small unread request body).
 */
export async function admitJoin<T>(admission: JoinAdmission, res: ServerResponse, join: () => Promise<T>): Promise<T | JsonResponse> {
  const release = admission.tryEnter();
  if (!release) {
    const seconds = admission.retryAfterSeconds();
    res.setHeader('retry-after', String(seconds));
    return new JsonResponse(503, { error: { code: ErrorCode.ServerUnavailable, message: `the server is busy with other joins: retry in ${seconds} s` } });
  }
  try {
    return await join();
  } finally {
    release();
  }
}
