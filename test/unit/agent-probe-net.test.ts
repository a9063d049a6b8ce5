import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNetwork } from '../../agent/src/agent/probe-net.js';
import { runProbe } from '../../agent/src/agent/probe-handlers.js';
import { runCommand } from '../../agent/src/runtime/run-command.js';
import type { NodeRuntime } from '../../agent/src/agent/node-runtime.js';

describe('network probe checks', () => {
  let server: Server;
  let port: number;
  const seen: Record<string, string | undefined>[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, probe: req.headers['x-probe'] as string | undefined });
      if (req.url === '/hang') return; // never answers
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/moved' ? 302 : 500;
      res.end('body');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('httpGet: 200..399 succeed, with the given headers; other statuses fail', async () => {
    expect(await checkNetwork({ httpGet: { path: '/ok', port, httpHeaders: [{ name: 'X-Probe', value: '1' }] } }, 1000)).toEqual({ ok: true, message: 'HTTP 200' });
    expect(seen.at(-1)).toEqual({ url: '/ok', probe: '1' });
    expect((await checkNetwork({ httpGet: { path: 'moved', port } }, 1000)).ok).toBe(true);
    expect(await checkNetwork({ httpGet: { path: '/bad', port } }, 1000)).toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 500' });
  });

  it('httpGet: a hanging server fails at the timeout', async () => {
    const r = await checkNetwork({ httpGet: { path: '/hang', port } }, 100);
    expect(r).toEqual({ ok: false, message: `Get "http://127.0.0.1:${port}/hang": timeout after 100 ms` });
  });

  it('tcpSocket: an open port succeeds, a closed one fails', async () => {
    expect((await checkNetwork({ tcpSocket: { port } }, 1000)).ok).toBe(true);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await checkNetwork({ tcpSocket: { port: closedPort } }, 1000);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('ECONNREFUSED');
  });
});

describe('exec probe results', () => {
  const runtime = (result: { exitCode: number | null; timedOut: boolean; output: string }) =>
    ({ exec: async () => result }) as unknown as NodeRuntime;
  const probe = { exec: { command: ['check'] }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 };
  it('exit 0 succeeds; anything else fails with the output, a timeout says so', async () => {
    const opts = { timeoutMs: 1000, hostNetwork: false };
    expect(await runProbe(runtime({ exitCode: 0, timedOut: false, output: '' }), 'id', probe, opts)).toEqual({ ok: true, message: 'exit 0' });
    expect(await runProbe(runtime({ exitCode: 2, timedOut: false, output: 'no file\n' }), 'id', probe, opts)).toEqual({ ok: false, message: 'command exited with 2: no file' });
    expect(await runProbe(runtime({ exitCode: null, timedOut: true, output: '' }), 'id', probe, opts)).toEqual({ ok: false, message: 'command timed out after 1000 ms' });
  });
});

describe('runCommand', () => {
  it('returns the exit code and output, and kills at the timeout', async () => {
    expect(await runCommand('/bin/sh', ['-c', 'echo hi; echo err >&2; exit 3'], { timeoutMs: 5000 })).toEqual({ exitCode: 3, timedOut: false, output: expect.stringMatching(/hi\n[\s\S]*err\n|err\n[\s\S]*hi\n/) as unknown as string });
    const slow = await runCommand('/bin/sh', ['-c', 'sleep 5'], { timeoutMs: 50, killAfterMs: 50 });
    expect(slow).toMatchObject({ exitCode: null, timedOut: true });
  });
});

describe('runCommand with a lingering grandchild', () => {
  it('does not wait for a background process that holds the output pipes', async () => {
    const started = Date.now();
    const r = await runCommand('/bin/sh', ['-c', 'sleep 3 & echo done'], { timeoutMs: 5000 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, output: 'done\n' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
