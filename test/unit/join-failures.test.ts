/**
 * Failed joins per source address (src/server/join-failures.ts): counted in a window from the
 * first failure, 429 + Retry-After at the limit until the window passes, successes never
 * counted, memory bounded, and the log lines never carry the token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { JsonResponse } from '../../src/server/http.js';
import { JoinFailureLimiter, limitFailedJoins, sourceAddress } from '../../src/server/join-failures.js';
import { captureLog } from '../support/log-capture.js';

const TOKEN = 'grove1.insecure.0123abcd.' + 'S'.repeat(43);

function fakeHttp(address: string): { req: IncomingMessage; res: ServerResponse; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const req = { socket: { remoteAddress: address } } as unknown as IncomingMessage;
  const res = { setHeader: (k: string, v: string) => void (headers[k] = v) } as unknown as ServerResponse;
  return { req, res, headers };
}

describe('JoinFailureLimiter', () => {
  it('refuses an address after maxFailures within the window, until the window has passed', () => {
    let now = 1_000_000;
    const limiter = new JoinFailureLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    expect(limiter.recordFailure('10.0.0.5')).toBe(false);
    now += 10_000;
    expect(limiter.recordFailure('10.0.0.5')).toBe(false);
    expect(limiter.retryAfterSeconds('10.0.0.5')).toBe(0);
    expect(limiter.recordFailure('10.0.0.5')).toBe(true);
    expect(limiter.retryAfterSeconds('10.0.0.5')).toBe(50); // the window runs from the first failure
    expect(limiter.retryAfterSeconds('10.0.0.6')).toBe(0); // per address
    now += 49_500;
    expect(limiter.retryAfterSeconds('10.0.0.5')).toBe(1);
    now += 500;
    expect(limiter.retryAfterSeconds('10.0.0.5')).toBe(0);
    expect(limiter.recordFailure('10.0.0.5')).toBe(false); // a fresh window
  });

  it('remembers at most maxAddresses, forgetting the oldest windows first', () => {
    let now = 0;
    const limiter = new JoinFailureLimiter({ maxFailures: 1, maxAddresses: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      now++;
      limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
    expect(limiter.retryAfterSeconds('10.0.3.231')).toBeGreaterThan(0); // the latest is kept
    expect(limiter.retryAfterSeconds('10.0.0.0')).toBe(0);
  });

  it('one key for an IPv4 client whether it came in over IPv4 or IPv4-mapped IPv6', () => {
    expect(sourceAddress(fakeHttp('::ffff:192.168.1.7').req)).toBe('192.168.1.7');
    expect(sourceAddress(fakeHttp('fe80::1').req)).toBe('fe80::1');
  });
});

describe('limitFailedJoins', () => {
  it('logs refused joins without the token, answers 429 + Retry-After at the limit, and never counts successes', async () => {
    const limiter = new JoinFailureLimiter({ maxFailures: 10, windowMs: 60_000 });
    const { logger, text, lines: logLines } = captureLog();
    const refuse = async (): Promise<never> => {
      throw new GroveError(ErrorCode.PermissionDenied, 'join token not recognised');
    };
    // Successes from the same address before and between the failures are not limited.
    for (let i = 0; i < 20; i++) expect(await limitFailedJoins(limiter, fakeHttp('10.1.1.1'), logger, async () => 'joined')).toBe('joined');
    for (let i = 0; i < 10; i++) await expect(limitFailedJoins(limiter, fakeHttp('10.1.1.1'), logger, refuse)).rejects.toMatchObject({ code: ErrorCode.PermissionDenied });
    const http = fakeHttp('10.1.1.1');
    let ran = false;
    const limited = await limitFailedJoins(limiter, http, logger, async () => (ran = true));
    expect(ran).toBe(false);
    expect(limited).toBeInstanceOf(JsonResponse);
    expect((limited as JsonResponse).status).toBe(429);
    expect((limited as JsonResponse).body).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^too many failed joins from 10\.1\.1\.1: retry in \d+ s$/) } });
    expect(Number(http.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect(await limitFailedJoins(limiter, fakeHttp('10.1.1.2'), logger, async () => 'joined')).toBe('joined');

    // A body that is not JSON: the parser quotes its start, which would be the token.
    await expect(
      limitFailedJoins(limiter, fakeHttp('10.9.9.9'), logger, async () => {
        throw new GroveError(ErrorCode.InvalidArgument, `request body is not valid JSON: Unexpected token '${TOKEN.slice(0, 10)}'... "${TOKEN}" is not valid JSON`);
      }),
    ).rejects.toBeDefined();
    // Not the caller's fault: not counted, not logged as a refused join.
    await expect(limitFailedJoins(limiter, fakeHttp('10.9.9.8'), logger, async () => Promise.reject(new Error('disk on fire')))).rejects.toThrow();

    const lines = logLines();
    const refused = lines.filter((l) => l.msg === 'join refused');
    expect(refused).toHaveLength(11);
    expect(refused[0]).toMatchObject({ remote: '10.1.1.1', code: 'PERMISSION_DENIED', reason: 'join token not recognised' });
    expect(refused.at(-1)).toMatchObject({ remote: '10.9.9.9', reason: 'request body is not valid JSON' });
    expect(lines.filter((l) => String(l.msg).startsWith('too many failed joins'))).toHaveLength(1);
    expect(text()).not.toContain(TOKEN.slice(16, 40));
    expect(text()).not.toContain('10.9.9.8');
  });
});
