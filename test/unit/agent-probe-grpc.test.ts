import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkGrpc, decodeHealthCheckResponse, encodeHealthCheckRequest, MAX_RESPONSE_BYTES } from '../../agent/src/agent/probe-grpc.js';
import { checkNetwork } from '../../agent/src/agent/probe-net.js';

/** A framed HealthCheckResponse with `status` (field 1, varint). */
const answer = (status: number): Buffer => Buffer.from([0, 0, 0, 0, 2, 0x08, status]);

/** A tiny grpc.health.v1 server: `statusOf(service)` says what it answers. */
async function healthServer(statusOf: (service: string) => number | 'unimplemented' | 'flood'): Promise<{ port: number; server: Http2Server; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const service = body.length > 7 ? body.subarray(7).toString('utf8') : '';
      asked.push(`${String(headers[':path'])} ${service}`);
      const status = statusOf(service);
      if (status === 'unimplemented') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown%20service' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(status === 'flood' ? Buffer.alloc(MAX_RESPONSE_BYTES + 10) : answer(status));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, asked };
}

describe('grpc health check messages', () => {
  it('frames the request with the service name as field 1', () => {
    expect([...encodeHealthCheckRequest('')]).toEqual([0, 0, 0, 0, 0]);
    expect([...encodeHealthCheckRequest('db')]).toEqual([0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]);
  });

  it('reads the serving status, skipping unknown fields, and refuses malformed answers', () => {
    expect(decodeHealthCheckResponse(answer(1))).toBe(1);
    expect(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 0]))).toBe(0);
    // field 2 (length-delimited "x") before field 1
    expect(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 5, 0x12, 1, 0x78, 0x08, 2]))).toBe(2);
    expect(() => decodeHealthCheckResponse(Buffer.from([0, 0, 0]))).toThrow(/no gRPC message/);
    expect(() => decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 9, 0x08]))).toThrow(/truncated/);
    expect(() => decodeHealthCheckResponse(Buffer.from([1, 0, 0, 0, 2, 0x08, 1]))).toThrow(/compressed/);
  });
});

describe('grpc probe against a node:http2 health server', () => {
  let server: Http2Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('succeeds on SERVING and fails on anything else, asking for the named service', async () => {
    const s = await healthServer((svc) => (svc === 'db' ? 2 : svc === 'gone' ? 'unimplemented' : 1));
    server = s.server;
    expect(await checkNetwork({ grpc: { port: s.port } }, 2000)).toEqual({ ok: true, message: 'SERVING' });
    expect(await checkGrpc({ port: s.port, service: 'db' }, '127.0.0.1', 2000)).toEqual({ ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    const gone = await checkGrpc({ port: s.port, service: 'gone' }, '127.0.0.1', 2000);
    expect(gone).toEqual({ ok: false, message: 'health rpc failed: gRPC status 12: unknown service' });
    expect(s.asked).toEqual(['/grpc.health.v1.Health/Check ', '/grpc.health.v1.Health/Check db', '/grpc.health.v1.Health/Check gone']);
  });

  it('stops reading an oversized answer', async () => {
    const s = await healthServer(() => 'flood');
    server = s.server;
    expect(await checkGrpc({ port: s.port }, '127.0.0.1', 2000)).toEqual({ ok: false, message: `health rpc answered more than ${MAX_RESPONSE_BYTES} bytes` });
  });

  it('fails when nothing listens', async () => {
    const s = await healthServer(() => 1);
    const port = s.port;
    await new Promise((resolve) => s.server.close(resolve));
    const r = await checkGrpc({ port }, '127.0.0.1', 2000);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/ECONNREFUSED/);
  });
});
