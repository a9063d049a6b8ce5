/**
 * The API's own bounds against slow or numerous clients (docs/api.md, Limits): a request body
 * that never ends is cut at the request timeout, and connections above --max-api-connections
 * are refused as they arrive while the open ones keep working.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './server-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function cluster(api: NonNullable<Parameters<typeof startCluster>[0]>['api']): Promise<Cluster> {
  const c = await startCluster({ api });
  cleanups.push(() => c.close());
  return c;
}

/** A raw keep-alive connection to the API that records what comes back and when it closes. */
interface Raw {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}

async function open(url: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.on('error', () => undefined); // a refused connection is reset: what the test looks at
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanups.push(async () => void socket.destroy());
  return { socket, received: () => text, closed };
}

async function healthz(raw: Raw): Promise<string> {
  const before = raw.received().length;
  raw.socket.write('GET /healthz HTTP/1.1\r\nHost: grove\r\nConnection: keep-alive\r\n\r\n');
  const deadline = Date.now() + 5000;
  while (!raw.received().slice(before).includes('{"ok":true}')) {
    if (Date.now() > deadline || raw.socket.destroyed) throw new Error(`no healthz answer: ${JSON.stringify(raw.received().slice(before))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return raw.received().slice(before);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API limits', () => {
  it('cuts a request body that never ends at the configured request timeout (408), and applies nothing', async () => {
    const timeoutMs = 1500;
    const c = await cluster({ requestTimeoutMs: timeoutMs });
    const revision = c.store.revision();
    const raw = await open(c.api.url);
    const started = Date.now();
    raw.socket.write('POST /v1/apply HTTP/1.1\r\nHost: grove\r\nAuthorization: Bearer admin-token-for-tests\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"resources": [');
    // A byte every 100 ms: never idle, never done.
    const trickle = setInterval(() => raw.socket.writable && raw.socket.write(' '), 100);
    try {
      const closedAt = await raw.closed;
      const elapsed = closedAt - started;
      expect(raw.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
      // Not before the timeout; and at it, not at Node's 30 s connection check (the old 30–60 s).
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(elapsed).toBeLessThan(timeoutMs + 3000);
    } finally {
      clearInterval(trickle);
    }
    expect(c.store.revision()).toBe(revision);
    // The server is fine afterwards.
    expect((await c.call('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('refuses connections above --max-api-connections at once while the open ones keep working', async () => {
    const cap = 4;
    const c = await cluster({ maxConnections: cap });
    const held: Raw[] = [];
    for (let i = 0; i < cap; i++) {
      held.push(await open(c.api.url));
      expect(await healthz(held[i]!)).toMatch(/^HTTP\/1\.1 200 OK/);
    }
    // Over the cap: accepted by the kernel, closed by the server without an answer.
    const extra = await Promise.all([0, 1, 2].map(() => open(c.api.url)));
    for (const r of extra) {
      r.socket.write('GET /healthz HTTP/1.1\r\nHost: grove\r\n\r\n');
      await r.closed;
      expect(r.received()).toBe('');
    }
    for (const r of held) expect(await healthz(r)).toMatch(/^HTTP\/1\.1 200 OK/);
    // One goes away: there is room again.
    held.pop()!.socket.destroy();
    await sleep(100);
    const next = await open(c.api.url);
    expect(await healthz(next)).toMatch(/^HTTP\/1\.1 200 OK/);
  });
});
