/**
 * An in-process fake of the server's Kubernetes paths for the CLI's verbs: canned answers by
 * "METHOD /path?query", Status bodies as the server writes them, and a record of every request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ApiClient } from '../../src/cli/client/api-client.js';
import type { CliIO } from '../../src/cli/io.js';
import { KubeClient } from '../../src/cli/verbs/client/k8s/kube-client.js';

export interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  /** The request's JSON body, if it had one. */
  body?: unknown;
}

/** A body sent as it is, not as JSON (the NDJSON stream of /v1/logs). */
export class Raw {
  constructor(readonly text: string) {}
}

export type Answer = [status: number, body: unknown];
/** A canned answer, or one made from the request's JSON body (POST /v1/apply). */
export type Routes = Record<string, Answer | ((body: unknown) => Answer)>;

export const TOKEN = 'admin-token-0123456789abcdef0123';

export function kubeStatus(code: number, reason: string, message: string) {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code };
}

export function notFound(resource: string, name: string) {
  return kubeStatus(404, 'NotFound', `${resource} ${JSON.stringify(name)} not found`);
}

/** A `<Kind>List` whose items lack apiVersion and kind, as the Kubernetes API server writes them. */
export function kubeList(kind: string, items: readonly object[]) {
  return { apiVersion: 'v1', kind: `${kind}List`, metadata: { resourceVersion: '42' }, items: items.map((item) => {
    const { apiVersion: _a, kind: _k, ...rest } = item as { apiVersion?: string; kind?: string };
    return rest;
  }) };
}

export interface FakeApi {
  client: KubeClient;
  /** The fake's base URL (a client config's apiUrl). */
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export async function fakeKubeApi(routes: Routes): Promise<FakeApi> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const sent = text ? (JSON.parse(text) as unknown) : undefined;
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, ...(sent !== undefined ? { body: sent } : {}) });
      const route = routes[`${req.method} ${req.url}`];
      const [code, body] = typeof route === 'function' ? route(sent) : (route ?? [404, { error: { code: 'NOT_FOUND', message: `no route ${req.url}` } }]);
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(body instanceof Raw ? body.text : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    client: new KubeClient(new ApiClient({ apiUrl: url, token: TOKEN })),
    url,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Streams that keep what a verb writes. */
export function capture(): { io: CliIO; out: () => string; err: () => string } {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, done) => void (chunks.push(c.toString()), done()) });
    return { stream, text: () => chunks.join('') };
  };
  const o = sink();
  const e = sink();
  return { io: { stdout: o.stream, stderr: e.stream }, out: o.text, err: e.text };
}
