import { describe, expect, it } from 'vitest';
import { bearerToken, errorBody, statusFor, tokenMatches } from '../../src/server/http.js';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import type { IncomingMessage } from 'node:http';

describe('http helpers', () => {
  it('compares tokens whatever their lengths', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
  });

  it('reads a bearer token', () => {
    const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
    expect(bearerToken(req('Bearer xyz'))).toBe('xyz');
    expect(bearerToken(req('bearer  xyz '))).toBe('xyz');
    expect(bearerToken(req('Basic xyz'))).toBeUndefined();
    expect(bearerToken(req())).toBeUndefined();
  });

  it('maps error codes to statuses and hides internal errors', () => {
    const e = (code: ErrorCode) => new GroveError(code, 'm');
    expect(statusFor(e(ErrorCode.InvalidArgument))).toBe(400);
    expect(statusFor(e(ErrorCode.Unauthenticated))).toBe(401);
    expect(statusFor(e(ErrorCode.PermissionDenied))).toBe(403);
    expect(statusFor(e(ErrorCode.NotFound))).toBe(404);
    expect(statusFor(e(ErrorCode.Conflict))).toBe(409);
    expect(statusFor(e(ErrorCode.SizeLimit))).toBe(413);
    expect(statusFor(e(ErrorCode.NodeUnavailable))).toBe(503);
    expect(statusFor(new Error('boom'))).toBe(500);
    expect(errorBody(new Error('secret internals'))).toEqual({ error: { code: 'INTERNAL', message: 'internal server error' } });
    expect(errorBody(e(ErrorCode.NotFound))).toEqual({ error: { code: 'NOT_FOUND', message: 'm' } });
  });
});
