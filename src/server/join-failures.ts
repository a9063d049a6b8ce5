/**
 * Failed joins, per source address: each is logged (address, reason; never the token), and an
 * address with `maxFailures` failures within `windowMs` of its first is answered 429 with a
 * Retry-After until that window has passed. Guessing a token's 256-bit secret is hopeless
 * anyway; this keeps a misbehaving or hostile source from filling the logs and keeping the
 * server busy, and makes a leak that is being tried show up.
 *
 * Separate from join-admission.ts on purpose: that one protects the server from too many good
 * joins at once (503, everybody waits its turn); this one is about one source's bad joins (429,
 * only that source waits). Successful joins never count here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../core/errors.js';
import { JsonResponse, statusFor } from './http.js';

export interface JoinFailureLimitOptions {
  /** Failures within the window after which the address is refused (default 10). */
  maxFailures?: number;
  /** The window, from an address's first failure (default 60 s). */
  windowMs?: number;
  /** Addresses remembered at once; beyond that the oldest windows are forgotten (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

export const DEFAULT_MAX_JOIN_FAILURES = 10;
export const DEFAULT_JOIN_FAILURE_WINDOW_MS = 60_000;
const DEFAULT_MAX_ADDRESSES = 10_000;

interface Window {
  startMs: number;
  failures: number;
}

export class JoinFailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  /** Insertion order is window-start order: the first entry is always the oldest window. */
  private readonly windows = new Map<string, Window>();

  constructor(options: JoinFailureLimitOptions = {}) {
    this.maxFailures = options.maxFailures ?? DEFAULT_MAX_JOIN_FAILURES;
    this.windowMs = options.windowMs ?? DEFAULT_JOIN_FAILURE_WINDOW_MS;
    this.maxAddresses = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.maxFailures) || this.maxFailures < 1) throw new GroveError(ErrorCode.InvalidArgument, `maxFailures must be a positive whole number, got ${this.maxFailures}`);
    if (!(this.windowMs > 0)) throw new GroveError(ErrorCode.InvalidArgument, `windowMs must be positive, got ${this.windowMs}`);
  }

  /** Whole seconds until `address` may join again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.startMs + this.windowMs - this.now()) / 1000));
  }

  /** Counts a failure; true when this one reached the limit (the address is refused from now on). */
  recordFailure(address: string): boolean {
    let w = this.current(address);
    if (!w) {
      this.makeRoom();
      w = { startMs: this.now(), failures: 0 };
      this.windows.set(address, w);
    }
    w.failures++;
    return w.failures === this.maxFailures;
  }

  get size(): number {
    return this.windows.size;
  }

  private current(address: string): Window | undefined {
    const w = this.windows.get(address);
    if (w && this.now() - w.startMs >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [address, w] of this.windows) {
      if (this.windows.size < this.maxAddresses && now - w.startMs < this.windowMs) break;
      this.windows.delete(address);
    }
  }
}

/** The peer address, IPv4-mapped IPv6 written as plain IPv4 (one client, one key). */
export function sourceAddress(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? 'unknown';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}

/**
 * Why a join failed, fit for a log line. JSON.parse's message quotes the start of the body,
 * which would be the token: that reason is cut before the quote.
 */
function failureReason(err: unknown): string {
  const message = errorMessage(err);
  return message.startsWith('request body is not valid JSON') ? 'request body is not valid JSON' : message.slice(0, 200);
}

/**
 * Runs `join` for a request unless its source is over the failure limit (then 429 +
 * Retry-After, without reading the body). A join refused by the server (4xx: bad or used-up
 * token, name taken, bad body) is logged and counted; 5xx and a busy server (503) are not the
 * caller's failures.
 */
export async function limitFailedJoins<T>(
  limiter: JoinFailureLimiter,
  http: { req: IncomingMessage; res: ServerResponse },
  log: Logger,
  join: () => Promise<T>,
): Promise<T | JsonResponse> {
  const remote = sourceAddress(http.req);
  const wait = limiter.retryAfterSeconds(remote);
  if (wait > 0) {
    log.debug({ remote, retryAfterS: wait }, 'join refused: too many failed joins from this address');
    http.res.setHeader('retry-after', String(wait));
    return new JsonResponse(429, { error: { code: ErrorCode.RateLimited, message: `too many failed joins from ${remote}: retry in ${wait} s` } });
  }
  try {
    return await join();
  } catch (err) {
    const status = statusFor(err);
    if (status >= 400 && status < 500) {
      const limited = limiter.recordFailure(remote);
      log.warn({ remote, code: isGroveError(err) ? err.code : undefined, reason: failureReason(err) }, 'join refused');
      if (limited) log.warn({ remote, failures: limiter.maxFailures, windowS: limiter.windowMs / 1000 }, 'too many failed joins from this address: refusing its joins until the window passes');
    }
    throw err;
  }
}
