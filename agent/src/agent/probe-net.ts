/**
 * The network checks of probes (tcpSocket, httpGet, grpc), as Kubernetes defines success: a TCP
 * connection that opens; an HTTP GET answered with a status in 200..399 (HTTPS: the certificate
 * is not verified, as the kubelet does not); a gRPC health check answered SERVING (probe-grpc.ts). Used in the agent's
 * process for hostNetwork containers, and by probe-net-main.ts run under nsenter in the
 * container's network namespace otherwise (a Node socket cannot switch namespaces by itself).
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { checkGrpc } from './probe-grpc.js';

export interface NetworkCheck {
  tcpSocket?: { port: number; host?: string };
  httpGet?: { path: string; port: number; host?: string; scheme?: 'HTTPS'; httpHeaders?: { name: string; value: string }[] };
  grpc?: { port: number; service?: string };
}

export interface ProbeOutcome {
  ok: boolean;
  /** One line: why it failed (or what answered), for logs and the container's status. */
  message: string;
}

// The container's address: without CNI a container only has loopback, and with hostNetwork the
// host's loopback reaches it too.
const DEFAULT_HOST = '127.0.0.1';

function tcp(check: { port: number; host?: string }, timeoutMs: number): Promise<ProbeOutcome> {
  const host = check.host ?? DEFAULT_HOST;
  return new Promise((resolve) => {
    const socket = connect({ host, port: check.port });
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, message: `dial tcp ${host}:${check.port}: timeout after ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, message: `connected to ${host}:${check.port}` }));
    socket.once('error', (err) => done({ ok: false, message: `dial tcp ${host}:${check.port}: ${err.message}` }));
  });
}

function http(check: NonNullable<NetworkCheck['httpGet']>, timeoutMs: number): Promise<ProbeOutcome> {
  const host = check.host ?? DEFAULT_HOST;
  const path = check.path.startsWith('/') ? check.path : `/${check.path}`;
  const https = check.scheme === 'HTTPS';
  const url = `${https ? 'https' : 'http'}://${host}:${check.port}${path}`;
  const headers: Record<string, string> = { 'user-agent': 'grove-probe/1', accept: '*/*' };
  for (const h of check.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const options = { host, port: check.port, path, method: 'GET', headers, agent: false };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const status = res.statusCode ?? 0;
      // The body does not matter; draining it lets the socket close cleanly.
      res.resume();
      finish(status >= 200 && status < 400 ? { ok: true, message: `HTTP ${status}` } : { ok: false, message: `HTTP probe failed with statuscode: ${status}` });
    };
    // A probe asks whether the server answers, not who it is: no certificate check (the kubelet's InsecureSkipVerify).
    const req = https ? httpsRequest({ ...options, rejectUnauthorized: false }, onResponse) : request(options, onResponse);
    const timer = setTimeout(() => finish({ ok: false, message: `Get "${url}": timeout after ${timeoutMs} ms` }), timeoutMs);
    req.once('error', (err) => finish({ ok: false, message: `Get "${url}": ${err.message}` }));
    req.end();
  });
}

export function checkNetwork(check: NetworkCheck, timeoutMs: number): Promise<ProbeOutcome> {
  if (check.httpGet) return http(check.httpGet, timeoutMs);
  if (check.tcpSocket) return tcp(check.tcpSocket, timeoutMs);
  if (check.grpc) return checkGrpc(check.grpc, DEFAULT_HOST, timeoutMs);
  return Promise.resolve({ ok: false, message: 'no network check given' });
}
