/**
 * pods/attach over kubectl's WebSocket protocol: the container's output from now on (the node's
 * logs follow, tail 0), stdout and stderr on their channels, a Success status when it ends;
 * stdin and tty refused before the upgrade with a Status saying why.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { addAttachRoutes, attachRequest, NO_ATTACH_INPUT } from '../../src/server/k8s-api/attach.js';
import type { LogLine, LogParams } from '../../src/server/rpc-proxy.js';
import { pod } from './controller-fixtures.js';

const TOKEN = 'admin-token';
const running = pod('web-1', { node: 'pi-1' });
let server: http.Server;
let base: string;
let asked: { node: string; params: LogParams }[];
/** What the fake node does with a follow: emit lines, then end (the container exited) or wait for the abort. */
let nodeFollow: (onLines: (lines: LogLine[]) => void, signal: AbortSignal) => Promise<void>;

beforeEach(async () => {
  asked = [];
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  addAttachRoutes(router, {
    objects: { get: async (ref) => (ref.name === 'web-1' ? running : undefined) as never },
    streams: { open: async () => { throw new Error('no exec here'); } },
    isReady: () => true,
    rpc: {
      requestLogs: (node, params, onLines, signal) => {
        asked.push({ node, params });
        return nodeFollow(onLines, signal!);
      },
    },
  });
  server = http.createServer(router.handle);
  server.on('upgrade', router.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const line = (stream: 'stdout' | 'stderr', text: string): LogLine => ({ pod: 'web-1', container: 'app', time: '2026-01-01T00:00:00Z', stream, text });

/** Attaches; resolves with the frames received (channel, text) once the server closes. */
function attach(query: string): Promise<[number, string][]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/api/v1/namespaces/default/pods/web-1/attach?${query}`, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${TOKEN}` } });
    const frames: [number, string][] = [];
    ws.on('message', (data: Buffer) => frames.push([data[0]!, data.subarray(1).toString()]));
    ws.on('close', () => resolve(frames));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`${res.statusCode} ${body}`)));
    });
    ws.on('error', () => undefined);
  });
}

describe('pods/attach', () => {
  it('relays the output from now on, stdout and stderr apart, then Success when the container exits', async () => {
    nodeFollow = async (onLines) => {
      onLines([line('stdout', 'tick 1'), line('stderr', 'warn')]);
      onLines([line('stdout', 'tick 2')]);
    };
    const frames = await attach('container=app&stdout=true&stderr=true');
    expect(frames).toEqual([[1, 'tick 1\n'], [2, 'warn\n'], [1, 'tick 2\n'], [3, JSON.stringify({ metadata: {}, status: 'Success' })]]);
    expect(asked).toEqual([{ node: 'pi-1', params: { pod: 'web-1', namespace: 'default', container: 'app', tail: 0, follow: true } }]);
  });

  it('only the streams asked for; a node failure is a Failure status', async () => {
    nodeFollow = async (onLines) => {
      onLines([line('stdout', 'out'), line('stderr', 'err')]);
      throw new Error('node pi-1 did not answer (offline?)');
    };
    expect(await attach('stdout=true')).toEqual([[1, 'out\n'], [3, JSON.stringify({ metadata: {}, status: 'Failure', message: 'node pi-1 did not answer (offline?)' })]]);
  });

  it('detaching (the client closes) ends the follow on the node', async () => {
    let aborted = false;
    nodeFollow = (_onLines, signal) => new Promise((resolve) => signal.addEventListener('abort', () => ((aborted = true), resolve())));
    const ws = new WebSocket(`ws://${base}/api/v1/namespaces/default/pods/web-1/attach?stdout=true`, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${TOKEN}` } });
    await new Promise((resolve) => ws.on('open', resolve));
    ws.close();
    await expect.poll(() => aborted).toBe(true);
  });

  it('refuses stdin and tty before the upgrade, saying why', async () => {
    await expect(attach('stdin=true&stdout=true')).rejects.toThrow(/^400 .*cannot attach to a container's stdin or terminal/);
    expect(() => attachRequest(new URLSearchParams('tty=true&stdout=true'), running)).toThrow(NO_ATTACH_INPUT);
    expect(() => attachRequest(new URLSearchParams('container=nope&stdout=true'), running)).toThrow('container nope is not valid for pod web-1');
    expect(attachRequest(new URLSearchParams('stdout=true&stderr=true'), running)).toEqual({ container: 'app', stdout: true, stderr: true });
  });
});
