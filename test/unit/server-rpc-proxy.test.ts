import { describe, expect, it } from 'vitest';
import { RpcProxy, type LogLine, type RpcLimits } from '../../src/server/rpc-proxy.js';
import { capturingLogger } from '../support/capture-logger.js';
import { silentLogger } from '../../src/core/logger.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import type { RpcResponse } from '../../src/core/wire-types.js';
import { ManualClock } from '../support/manual-clock.js';

const RES = (node: string) => `grove/v1/test/nodes/${node}/rpc/res`;
const line = (text: string) => ({ time: '2025-05-01T00:00:00.000Z', stream: 'stdout' as const, text, container: 'main' });
const chunk = (seq: number, o: Partial<RpcResponse> = {}): Buffer => encodeMessage({ schema: 1, id: 'req-1', seq, done: false, ...o });

function setup(timeoutMs = 10_000) {
  const sent: { topic: string; payload: Buffer }[] = [];
  const clock = new ManualClock();
  const proxy = new RpcProxy({
    clock,
    cluster: 'test',
    logger: silentLogger(),
    publish: async (topic, payload) => {
      sent.push({ topic, payload });
    },
    timeoutMs,
    newId: () => 'req-1',
  });
  return { proxy, sent, clock };
}

describe('RpcProxy', () => {
  it('publishes the request and collects chunks in order until done', async () => {
    const { proxy, sent } = setup();
    const got: LogLine[] = [];
    const done = proxy.requestLogs('pi-1', { pod: 'web-1', tail: 10 }, (l) => got.push(...l));
    await Promise.resolve();
    expect(sent[0]!.topic).toBe('grove/v1/test/nodes/pi-1/rpc/req');
    expect(decodeRpcRequest(sent[0]!.payload)).toEqual({ schema: 1, id: 'req-1', method: 'logs', params: { pod: 'web-1', tail: 10 } });
    // Out of order and duplicated: delivered once, in order.
    proxy.handleMessage(RES('pi-1'), chunk(1, { lines: [line('b')] }));
    proxy.handleMessage(RES('pi-1'), chunk(0, { lines: [line('a')] }));
    proxy.handleMessage(RES('pi-1'), chunk(0, { lines: [line('a')] }));
    proxy.handleMessage(RES('pi-1'), chunk(2, { lines: [line('c')], done: true }));
    await done;
    expect(got.map((l) => l.text)).toEqual(['a', 'b', 'c']);
    expect(got[0]).toEqual({ pod: 'web-1', container: 'main', time: '2025-05-01T00:00:00.000Z', stream: 'stdout', text: 'a' });
  });

  it('ignores answers from another node', async () => {
    const { proxy, clock } = setup(50);
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    proxy.handleMessage(RES('pi-2'), chunk(0, { done: true }));
    clock.advance(50);
    await expect(done).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE', message: 'node pi-1 did not answer (offline?)' });
  });

  it('turns a node error into a GroveError with its code', async () => {
    const { proxy } = setup();
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    proxy.handleMessage(RES('pi-1'), chunk(0, { done: true, error: { code: 'NOT_FOUND', message: 'no pod web-1' } }));
    await expect(done).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'node pi-1: no pod web-1' });
  });

  it('times out only after a silence, not a total duration', async () => {
    const { proxy, clock } = setup(80);
    const got: string[] = [];
    let failed: unknown;
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, (l) => got.push(...l.map((x) => x.text))).catch((err: unknown) => (failed = err));
    // 4 × 79 ms: longer than the timeout in all, never silent for 80 ms.
    for (let i = 0; i < 4; i++) {
      clock.advance(79);
      proxy.handleMessage(RES('pi-1'), chunk(i, { lines: [line(String(i))] }));
    }
    proxy.handleMessage(RES('pi-1'), chunk(4, { done: true }));
    await done;
    expect(failed).toBeUndefined();
    expect(got).toEqual(['0', '1', '2', '3']);
    // The other side of the rule: 80 ms of silence ends a request.
    const silent = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    clock.advance(79);
    proxy.handleMessage(RES('pi-1'), chunk(0, { lines: [line('x')] }));
    clock.advance(80);
    await expect(silent).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
  });

  it('drops invalid payloads and fails pending requests on stop', async () => {
    const { proxy } = setup();
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    expect(proxy.handleMessage(RES('pi-1'), Buffer.from('junk'))).toBe(true);
    expect(proxy.handleMessage('grove/v1/test/nodes/pi-1/status', Buffer.from('x'))).toBe(false);
    proxy.stop();
    await expect(done).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
  });

  it('a follow asks the node to follow and tolerates a longer silence', async () => {
    const sent: Buffer[] = [];
    const clock = new ManualClock();
    const proxy = new RpcProxy({
      clock,
      cluster: 'test',
      logger: silentLogger(),
      publish: async (_t, p) => void sent.push(p),
      timeoutMs: 30,
      followTimeoutMs: 300,
      newId: () => 'req-1',
    });
    const done = proxy.requestLogs('pi-1', { pod: 'web-1', follow: true }, () => {});
    // Ten times the plain timeout, still within the follow's.
    clock.advance(299);
    expect(decodeRpcRequest(sent[0]!).params).toEqual({ pod: 'web-1', follow: true, untilCancelled: true });
    proxy.handleMessage(RES('pi-1'), chunk(0, { done: true }));
    await done;
  });

  it('passes previous and since to the node', async () => {
    const { proxy, sent } = setup();
    for (const params of [
      { pod: 'web-1', previous: true, sinceSeconds: 60 },
      { pod: 'web-1', sinceTime: '2025-05-01T00:00:00.000Z' },
    ]) {
      const done = proxy.requestLogs('pi-1', params, () => {});
      await Promise.resolve();
      expect(decodeRpcRequest(sent.at(-1)!.payload).params).toEqual(params);
      proxy.handleMessage(RES('pi-1'), chunk(0, { done: true }));
      await done;
    }
  });

  it('a follow whose reader goes away is cancelled on its node', async () => {
    const { proxy, sent } = setup();
    const ac = new AbortController();
    const done = proxy.requestLogs('pi-1', { pod: 'web-1', follow: true }, () => {}, ac.signal);
    ac.abort();
    await expect(done).rejects.toThrow(/cancelled/);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.topic).toBe('grove/v1/test/nodes/pi-1/rpc/req');
    expect(decodeRpcRequest(sent[1]!.payload)).toMatchObject({ method: 'cancel', params: { id: 'req-1' } });
  });

  it('a node still streaming for a request the server forgot is told to stop, not once per chunk', async () => {
    const { proxy, sent, clock } = setup();
    proxy.handleMessage(RES('pi-2'), chunk(3, { lines: [line('x')] }));
    proxy.handleMessage(RES('pi-2'), chunk(4, { lines: [line('y')] }));
    await Promise.resolve();
    expect(sent.map((m) => [m.topic, decodeRpcRequest(m.payload).method])).toEqual([['grove/v1/test/nodes/pi-2/rpc/req', 'cancel']]);
    // A final chunk asks for nothing; a chunk long after the cancel (lost?) repeats it.
    proxy.handleMessage(RES('pi-2'), chunk(5, { done: true }));
    clock.advance(10_000);
    proxy.handleMessage(RES('pi-2'), chunk(6, {}));
    await Promise.resolve();
    expect(sent).toHaveLength(2);
  });

  it('a node sending chunks of made-up requests causes at most 20 cancels per 10 s', async () => {
    const { proxy, sent, clock } = setup();
    const junk = (id: string) => encodeMessage({ schema: 1, id, seq: 1, done: false });
    for (let i = 0; i < 100; i++) proxy.handleMessage(RES('pi-3'), junk(`made-up-${i}`));
    await Promise.resolve();
    expect(sent).toHaveLength(20);
    clock.advance(10_000);
    proxy.handleMessage(RES('pi-3'), junk('made-up-100'));
    await Promise.resolve();
    expect(sent).toHaveLength(21);
  });

  it('a cancelled request stops waiting', async () => {
    const { proxy } = setup();
    const ac = new AbortController();
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {}, ac.signal);
    ac.abort();
    await expect(done).rejects.toThrow(/cancelled/);
  });
});

describe('RpcProxy bounds on what a node makes the server hold', () => {
  function bounded(limits: Partial<RpcLimits> = {}) {
    const log = capturingLogger();
    let n = 0;
    const proxy = new RpcProxy({ cluster: 'test', logger: log.logger, publish: async () => undefined, newId: () => `req-${++n}`, limits });
    return { proxy, log };
  }
  const text = (size: number) => [line('x'.repeat(size))];
  const answer = (id: string, seq: number, o: Partial<RpcResponse> = {}): Buffer => encodeMessage({ schema: 1, id, seq, done: false, ...o });

  it('a chunk far ahead of the next expected one fails the request at once, logged once, and frees what it held', async () => {
    const { proxy, log } = bounded({ maxAhead: 8 });
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    proxy.handleMessage(RES('pi-1'), answer('req-1', 3, { lines: text(100) }));
    expect(proxy.held()).toMatchObject({ requests: 1, chunks: 1 });
    // 1,200 chunks that never start at 0, as a misbehaving node sent them.
    for (let seq = 9; seq < 1209; seq++) proxy.handleMessage(RES('pi-1'), answer('req-1', seq, { lines: text(1000) }));
    await expect(done).rejects.toMatchObject({
      code: 'NODE_UNAVAILABLE',
      message: 'node pi-1 answered the log request out of order: chunk 9 arrived while chunk 0 was expected (at most 8 may come early)',
    });
    expect(proxy.held()).toEqual({ requests: 0, chunks: 0, bytes: 0 });
    expect(log.lines().filter((l) => String(l.msg).includes('abandoned'))).toHaveLength(1);
  });

  it('early chunks within the window are kept and delivered in order', async () => {
    const { proxy } = bounded({ maxAhead: 8 });
    const got: string[] = [];
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, (l) => got.push(...l.map((x) => x.text)));
    for (let seq = 8; seq >= 1; seq--) proxy.handleMessage(RES('pi-1'), answer('req-1', seq, { lines: [line(String(seq))], done: seq === 8 }));
    expect(proxy.held().chunks).toBe(8);
    proxy.handleMessage(RES('pi-1'), answer('req-1', 0, { lines: [line('0')] }));
    await done;
    expect(got).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(proxy.held()).toEqual({ requests: 0, chunks: 0, bytes: 0 });
  });

  it('caps the bytes of early chunks per request', async () => {
    const { proxy } = bounded({ maxEarlyBytesPerRequest: 10_000 });
    const done = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    for (let seq = 1; seq <= 3; seq++) proxy.handleMessage(RES('pi-1'), answer('req-1', seq, { lines: text(4000) }));
    await expect(done).rejects.toThrow(/answered the log request out of order: more than 10000 bytes arrived out of order/);
    expect(proxy.held()).toEqual({ requests: 0, chunks: 0, bytes: 0 });
  });

  it('caps early chunks and bytes over all requests together', async () => {
    const { proxy } = bounded({ maxEarlyChunks: 4 });
    const first = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    const second = proxy.requestLogs('pi-2', { pod: 'web-2' }, () => {});
    for (let seq = 1; seq <= 4; seq++) proxy.handleMessage(RES('pi-1'), answer('req-1', seq));
    proxy.handleMessage(RES('pi-2'), answer('req-2', 1));
    await expect(second).rejects.toThrow(/the server already holds 4 out-of-order chunks/);
    expect(proxy.held()).toMatchObject({ requests: 1, chunks: 4 });
    proxy.handleMessage(RES('pi-1'), answer('req-1', 0, { done: false }));
    proxy.handleMessage(RES('pi-1'), answer('req-1', 5, { done: true }));
    await first;
    expect(proxy.held()).toEqual({ requests: 0, chunks: 0, bytes: 0 });
  });

  it('refuses requests beyond the pending cap with 503-worthy SERVER_UNAVAILABLE', async () => {
    const { proxy } = bounded({ maxPending: 2 });
    const a = proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {});
    const b = proxy.requestVolumes('pi-1', { action: 'ls' });
    await expect(proxy.requestLogs('pi-1', { pod: 'web-1' }, () => {})).rejects.toMatchObject({ code: 'SERVER_UNAVAILABLE' });
    proxy.stop();
    await expect(a).rejects.toThrow();
    await expect(b).rejects.toThrow();
  });
});

