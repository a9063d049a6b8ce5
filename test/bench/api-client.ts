/**
 * Bench-only HTTPS client of a `grove server --tls`, with its CA and admin token from the
 * client.json the server writes: whole answers (a list) and open streams (a watch) whose lines
 * are counted as they arrive, never kept.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BenchApi {
  /** GET `path`; resolves with the status and the body, read whole. */
  get(path: string, accept?: string): Promise<{ status: number; body: string }>;
  /** GET `path` as a stream; `onLine` sees each complete line; resolves once the headers are in. */
  stream(path: string, onLine: (line: string) => void): Promise<OpenStream>;
}

export interface OpenStream {
  /** Resolves when the server ends the stream or it is closed. */
  ended: Promise<void>;
  close(): void;
}

export async function benchApi(dataDir: string): Promise<BenchApi> {
  const client = JSON.parse(await readFile(join(dataDir, 'client.json'), 'utf8')) as { apiUrl: string; token: string; caCert?: string };
  const open = (path: string, accept: string): { req: ClientRequest; res: Promise<IncomingMessage> } => {
    const url = new URL(path, client.apiUrl);
    let req!: ClientRequest;
    const res = new Promise<IncomingMessage>((resolve, reject) => {
      req = request(url, { headers: { authorization: `Bearer ${client.token}`, accept }, ...(client.caCert ? { ca: client.caCert } : {}) }, resolve);
      req.on('error', reject);
      req.end();
    });
    return { req, res };
  };
  return {
    async get(path, accept = 'application/json') {
      const res = await open(path, accept).res;
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
    },
    async stream(path, onLine) {
      const { req, res: pending } = open(path, 'application/json');
      const res = await pending;
      if (res.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${res.statusCode}`);
      let rest = '';
      const ended = new Promise<void>((resolve) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop()!;
          for (const line of lines) if (line) onLine(line);
        });
        res.on('close', resolve);
        res.on('error', () => resolve());
      });
      return { ended, close: () => req.destroy() };
    },
  };
}
