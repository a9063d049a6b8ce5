import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerToken, errorBody, JsonListResponse, sendJsonList, statusFor, tokenMatches } from '../../src/server/http.js';
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

describe('sendJsonList', () => {
  it('writes a List in pieces (chunked, no length) that parse as the whole object', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ metadata: { name: `pod-${i}` }, spec: { note: 'x'.repeat(60) } }));
    const answers = [new JsonListResponse(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '7' } }, items), new JsonListResponse(200, {}, []), new JsonListResponse(200, {}, items.slice(0, 2))];
    let next = 0;
    let writes = 0;
    const server = createServer((_req, res) => {
      const write = res.write.bind(res);
      res.write = ((...args: Parameters<typeof res.write>) => (writes++, write(...args))) as typeof res.write;
      void sendJsonList(res, answers[next++]!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const first = await fetch(url);
      expect(first.headers.get('content-length')).toBeNull();
      expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await first.json()).toEqual({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '7' }, items });
      // ~300 KB of JSON: several pieces of ~64 KiB, not one text.
      expect(writes).toBeGreaterThan(3);
      expect(await (await fetch(url)).json()).toEqual({ items: [] });
      expect(await (await fetch(url)).json()).toEqual({ items: items.slice(0, 2) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
