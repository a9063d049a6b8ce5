import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ErrorCode, GroveError, type ErrorCode as Code } from '../../core/errors.js';
import type { ClientConfig } from './client-config.js';
import { isKubeStatus, kubeStatusError } from './kube-status.js';

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/**
 * A small JSON client for the server's /v1 API. node:http(s) rather than fetch so that the
 * cluster CA can be pinned per request without another dependency.
 */
export class ApiClient {
  constructor(private readonly config: ClientConfig) {}

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  /** `contentType` says which patch it is on the Kubernetes paths (application/merge-patch+json …). */
  patch<T>(path: string, body: unknown, contentType = 'application/json'): Promise<T> {
    return this.json<T>('PATCH', path, body, contentType);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  private async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const response = await this.send(method, path, body, undefined, contentType);
    const text = await readBody(response);
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if ((response.statusCode ?? 500) >= 400) throw apiError(response.statusCode ?? 500, parsed);
    return parsed as T;
  }

  /** A binary answer (e.g. GET /v1/backup) of at most `limit` bytes. */
  async bytes(path: string, limit: number): Promise<Buffer> {
    const response = await this.send('GET', path);
    const body = await readBuffer(response, limit);
    if ((response.statusCode ?? 500) >= 400) throw apiError(response.statusCode ?? 500, parseError(body));
    return body;
  }

  /**
   * Streams newline-delimited JSON objects (e.g. /v1/logs) to `onItem`. With `idle`, the stream
   * may stay silent as long as it likes (a followed log of a quiet container): no timeout.
   */
  async stream<T>(path: string, onItem: (item: T) => void, options: { signal?: AbortSignal; idle?: boolean } = {}): Promise<void> {
    const response = await this.send('GET', path, undefined, options.signal, undefined, options.idle ? 0 : TIMEOUT_MS);
    if ((response.statusCode ?? 500) >= 400) {
      const text = await readBody(response);
      throw apiError(response.statusCode ?? 500, text ? (JSON.parse(text) as unknown) : undefined);
    }
    let buffered = '';
    for await (const chunk of response) {
      buffered += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onItem(JSON.parse(line) as T);
      }
    }
    if (buffered.trim()) onItem(JSON.parse(buffered) as T);
  }

  private send(method: string, path: string, body?: unknown, signal?: AbortSignal, contentType = 'application/json', timeoutMs = TIMEOUT_MS): Promise<IncomingMessage> {
    const url = new URL(path, this.config.apiUrl);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: {
            authorization: `Bearer ${this.config.token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
          ...(this.config.caCert ? { ca: this.config.caCert } : {}),
          ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}),
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        if (signal?.aborted) return reject(err);
        reject(new GroveError(ErrorCode.ServerUnavailable, `cannot reach the Grove server at ${this.config.apiUrl}: ${err.message}`, { cause: err }));
      });
      req.end(payload);
    });
  }
}

async function readBuffer(response: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.destroy();
      throw new GroveError(ErrorCode.SizeLimit, `server response larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readBody(response: IncomingMessage): Promise<string> {
  return (await readBuffer(response, MAX_RESPONSE_BYTES)).toString('utf8');
}

/** The JSON error body of a failed binary request, if it has one. */
function parseError(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function apiError(status: number, body: unknown): GroveError {
  if (isKubeStatus(body)) return kubeStatusError(status, body);
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = (error?.code ?? (status === 404 ? ErrorCode.NotFound : ErrorCode.Internal)) as Code;
  return new GroveError(code, error?.message ?? `server answered HTTP ${status}`, { details: { status } });
}
