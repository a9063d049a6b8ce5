/**
 * The grpc probe, as the kubelet runs it: one unary call of the standard health service
 * (grpc.health.v1.Health/Check) over plaintext HTTP/2, success = status SERVING. The call is
 * small enough to write by hand with node:http2 — a gRPC message is a 5-byte frame (compressed
 * flag, big-endian length) around a protobuf message, and both messages here have one field —
 * so the agent carries no gRPC library. The answer is size-limited: a probe reads at most
 * MAX_RESPONSE_BYTES.
 */
import { connect, constants } from 'node:http2';
import type { ProbeOutcome } from './probe-net.js';

/** Far above a HealthCheckResponse (a few bytes); a server sending more is not a health server. */
export const MAX_RESPONSE_BYTES = 16 * 1024;

const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** The framed HealthCheckRequest { string service = 1 } (an empty service = the whole server). */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length > 0 ? Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 35; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  throw new Error('truncated varint');
}

/**
 * The serving status (a number) of a framed HealthCheckResponse { ServingStatus status = 1 };
 * fields it does not know are skipped, as protobuf readers do. Throws on a malformed answer.
 */
export function decodeHealthCheckResponse(body: Buffer): number {
  if (body.length < 5) throw new Error('no gRPC message in the response');
  if (body[0] !== 0) throw new Error('compressed gRPC response (not asked for)');
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new Error('truncated gRPC message');
  const msg = body.subarray(5, 5 + length);
  let status = 0; // proto3: an absent field is its zero value, UNKNOWN
  let at = 0;
  while (at < msg.length) {
    const key = readVarint(msg, at);
    const field = Math.floor(key.value / 8);
    const wire = key.value & 7;
    at = key.next;
    if (wire === 0) {
      const v = readVarint(msg, at);
      if (field === 1) status = v.value;
      at = v.next;
    } else if (wire === 2) {
      const len = readVarint(msg, at);
      at = len.next + len.value;
    } else if (wire === 5) at += 4;
    else if (wire === 1) at += 8;
    else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
  if (at > msg.length) throw new Error('truncated protobuf field');
  return status;
}

export const servingStatusName = (n: number): string => SERVING_STATUS[n] ?? String(n);

/** The kubelet's wording of a status answer: only SERVING is healthy. */
export function healthOutcome(status: number): ProbeOutcome {
  return status === 1 ? { ok: true, message: 'SERVING' } : { ok: false, message: `service unhealthy (responded with "${servingStatusName(status)}")` };
}

export function checkGrpc(check: { port: number; service?: string; host?: string }, host: string, timeoutMs: number): Promise<ProbeOutcome> {
  const target = `${host}:${check.port}`;
  return new Promise((resolve) => {
    let settled = false;
    const session = connect(`http://${target}`);
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, message: `timeout: health rpc did not complete within ${timeoutMs} ms` }), timeoutMs);
    session.once('error', (err) => finish({ ok: false, message: `failed to connect service "${target}": ${err.message}` }));
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: HEALTH_CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grove-probe/1',
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const statusFrom = (headers: Record<string, unknown>) => {
      if (typeof headers['grpc-status'] === 'string') grpcStatus = headers['grpc-status'];
      if (typeof headers['grpc-message'] === 'string') grpcMessage = decodeURIComponent(headers['grpc-message']);
    };
    req.on('response', (headers) => {
      httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0);
      statusFrom(headers); // a trailers-only answer carries grpc-status in the headers
    });
    req.on('trailers', (trailers) => statusFrom(trailers));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) return finish({ ok: false, message: `health rpc answered more than ${MAX_RESPONSE_BYTES} bytes` });
      chunks.push(chunk);
    });
    req.on('error', (err) => finish({ ok: false, message: `health rpc failed: ${err.message}` }));
    req.on('end', () => {
      if (httpStatus !== 200) return finish({ ok: false, message: `health rpc failed: HTTP status ${httpStatus}` });
      if (grpcStatus !== undefined && grpcStatus !== '0') return finish({ ok: false, message: `health rpc failed: gRPC status ${grpcStatus}${grpcMessage ? `: ${grpcMessage}` : ''}` });
      try {
        finish(healthOutcome(decodeHealthCheckResponse(Buffer.concat(chunks))));
      } catch (err) {
        finish({ ok: false, message: `health rpc failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    });
    req.end(encodeHealthCheckRequest(check.service ?? ''));
  });
}
