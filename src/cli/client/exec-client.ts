/**
 * The client end of `pods/exec` (WebSocket, v5.channel.k8s.io, as kubectl speaks it: channel
 * byte 0 stdin, 1 stdout, 2 stderr, 3 the end as a Status, 4 resize, 255 close of stdin):
 * `grove exec` rides on it. Resolves with the command's exit code.
 */
import type { Readable } from 'node:stream';
import WebSocket from 'ws';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { ClientConfig } from './client-config.js';
import { isKubeStatus, kubeStatusError } from './kube-status.js';

const PROTOCOL = 'v5.channel.k8s.io';
/** Stdin goes out in pieces of at most this many bytes (the server's message limit is larger). */
const STDIN_PIECE = 32 * 1024;
const CONNECT_TIMEOUT_MS = 30_000;

export interface ExecTarget {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
}

export interface ExecStreams {
  /** Present with -i: sent to the process until it ends. */
  stdin?: Readable;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  tty: boolean;
  /** The terminal's size now (tty), and a way to hear of changes; returns an unsubscribe. */
  size?: () => { width: number; height: number };
  onResize?: (listener: () => void) => () => void;
}

export function execPath(target: ExecTarget, streams: Pick<ExecStreams, 'stdin' | 'tty'>): string {
  const query = new URLSearchParams();
  for (const arg of target.command) query.append('command', arg);
  if (target.container) query.set('container', target.container);
  if (streams.stdin) query.set('stdin', 'true');
  query.set('stdout', 'true');
  if (!streams.tty) query.set('stderr', 'true');
  if (streams.tty) query.set('tty', 'true');
  return `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?${query}`;
}

/** The exit code a Status of the error channel means; throws for a failure that is not the command's. */
export function exitCodeOf(status: unknown): number {
  const s = status as { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  if (s?.status === 'Success') return 0;
  if (s?.reason === 'NonZeroExitCode') {
    const code = Number(s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
    if (Number.isInteger(code) && code > 0 && code < 256) return code;
  }
  throw new GroveError(ErrorCode.Internal, s?.message ?? 'the exec session ended without a status');
}

export function runExec(config: ClientConfig, target: ExecTarget, streams: ExecStreams): Promise<number> {
  const url = new URL(execPath(target, streams), config.apiUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, [PROTOCOL], {
      headers: { authorization: `Bearer ${config.token}` },
      ...(config.caCert ? { ca: config.caCert } : {}),
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    let settled = false;
    let unsubscribe = (): void => undefined;
    const done = (err: Error | undefined, code?: number): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      streams.stdin?.pause();
      if (err) reject(err);
      else resolve(code ?? 0);
    };
    const send = (channel: number, body: Buffer | string): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const data = typeof body === 'string' ? Buffer.from(body) : body;
      ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    ws.on('unexpected-response', (_req, res) => {
      // The server's Status (pod not found, not running …) before any upgrade.
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        done(isKubeStatus(body) ? kubeStatusError(res.statusCode ?? 500, body) : new GroveError(ErrorCode.Internal, `exec refused: HTTP ${res.statusCode}`));
      });
    });
    ws.on('open', () => {
      if (streams.tty && streams.size) {
        const resize = (): void => {
          const { width, height } = streams.size!();
          send(4, JSON.stringify({ Width: width, Height: height }));
        };
        resize();
        if (streams.onResize) unsubscribe = streams.onResize(resize);
      }
      const stdin = streams.stdin;
      if (!stdin) return;
      stdin.on('data', (chunk: Buffer) => {
        for (let offset = 0; offset < chunk.length; offset += STDIN_PIECE) send(0, chunk.subarray(offset, offset + STDIN_PIECE));
        // Back-pressure: stop reading while the socket has a lot queued.
        if (ws.bufferedAmount > 1024 * 1024) {
          stdin.pause();
          const wait = setInterval(() => {
            if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount < 256 * 1024) {
              clearInterval(wait);
              if (!settled) stdin.resume();
            }
          }, 10);
        }
      });
      stdin.on('end', () => send(255, Buffer.from([0])));
    });
    ws.on('message', (data: Buffer) => {
      if (data.length === 0) return;
      const body = data.subarray(1);
      if (data[0] === 1) streams.stdout.write(body);
      else if (data[0] === 2) streams.stderr.write(body);
      else if (data[0] === 3) {
        try {
          done(undefined, exitCodeOf(JSON.parse(body.toString('utf8'))));
        } catch (err) {
          done(err instanceof GroveError ? err : new GroveError(ErrorCode.Internal, 'the exec session ended with an unreadable status'));
        }
      }
    });
    ws.on('error', (err) => done(new GroveError(ErrorCode.ServerUnavailable, `exec: cannot reach the Grove server at ${config.apiUrl}: ${err.message}`, { cause: err })));
    ws.on('close', () => done(new GroveError(ErrorCode.NodeUnavailable, 'the exec session closed before the command ended')));
  });
}
