/**
 * Stream sessions end to end without a broker: the server's NodeStreams and the agent's
 * StreamSessions joined by the real wire encoding and decoders (what MQTT would carry), with a
 * fake exec'd process and ManualClock for the silences.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeRpcResponse } from '../../src/core/wire-from-agent.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import { STREAM_LIMITS } from '../../src/core/wire-limits.js';
import type { ExecProcess, ManagedContainer, NodeRuntime } from '../../agent/src/agent/node-runtime.js';
import { StreamSessions } from '../../agent/src/agent/stream-sessions.js';
import { NodeStreams, type StreamEnd } from '../../src/server/streams/node-streams.js';
import { capturingLogger } from '../support/capture-logger.js';
import { ManualClock } from '../support/manual-clock.js';

interface FakeProcess extends ExecProcess {
  stdout: PassThrough;
  stderr: PassThrough;
  stdinText: () => string;
  killed: boolean;
  resizes: string[];
  exit(code: number): void;
}

function fakeProcess(): FakeProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdin.on('data', (d: Buffer) => (text += d.toString()));
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const proc: FakeProcess = {
    stdin,
    stdout,
    stderr,
    killed: false,
    resizes: [],
    resize: (w, h) => void proc.resizes.push(`${w}x${h}`),
    kill: () => {
      proc.killed = true;
      stdout.end();
      stderr.end();
      exit(137);
    },
    exited,
    stdinText: () => text,
    exit: (code) => {
      stdout.end();
      stderr.end();
      exit(code);
    },
  };
  return proc;
}

const container = (state: ManagedContainer['state'] = 'running'): ManagedContainer => ({
  id: 'c1',
  name: 'web-1_web',
  labels: { 'grove.pod': 'web-1', 'grove.app': 'web', 'grove.container': 'web', 'grove.template-hash': 'h' },
  image: 'busybox',
  state,
  exitCode: null,
  oomKilled: false,
  createdAt: '2025-01-01T00:00:00Z',
});

function setup(options: { state?: ManagedContainer['state']; maxSessions?: number } = {}) {
  const clock = new ManualClock();
  const { logger } = capturingLogger();
  const procs: FakeProcess[] = [];
  const runtime = {
    list: async () => [container(options.state)],
    execStream: async () => {
      const p = fakeProcess();
      procs.push(p);
      return p;
    },
  } as unknown as NodeRuntime;
  const toServer: Buffer[] = [];
  let streams!: NodeStreams;
  const agent = new StreamSessions({
    runtime,
    clock,
    logger,
    send: async (res) => {
      const bytes = encodeMessage(res);
      toServer.push(bytes);
      streams.handle('node-a', decodeRpcResponse(bytes));
    },
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
  });
  const toAgent: Buffer[] = [];
  let deliver = true;
  streams = new NodeStreams({
    cluster: 'c',
    logger,
    clock,
    publish: async (_topic, payload) => {
      toAgent.push(payload);
      if (!deliver) return;
      const req = decodeRpcRequest(payload);
      if (req.method === 'stream') agent.message(req);
      else if (req.method === 'exec' || req.method === 'portforward') void agent.open(req);
    },
  });
  return { clock, agent, streams, procs, toServer, toAgent, cut: () => (deliver = false) };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const params = { pod: 'web-1', namespace: 'default', container: 'web', command: ['sh'], stdin: true, tty: false };

function collector() {
  const out: string[] = [];
  const ends: StreamEnd[] = [];
  return {
    out,
    ends,
    handlers: {
      onOut: (d: Buffer, passedOn: () => void) => (out.push(d.toString()), passedOn()),
      onErr: (d: Buffer, passedOn: () => void) => (out.push(`err:${d.toString()}`), passedOn()),
      onEnd: (e: StreamEnd) => void ends.push(e),
    },
  };
}

describe('stream sessions', () => {
  it('relays stdin, stdout, stderr, a resize and the exit code', async () => {
    const s = setup();
    const c = collector();
    const stream = await s.streams.open('node-a', { method: 'exec', params }, c.handlers);
    await stream.write(Buffer.from('hello\n'));
    stream.resize(120, 40);
    stream.endInput();
    await tick();
    const proc = s.procs[0]!;
    expect(proc.stdinText()).toBe('hello\n');
    proc.stdout.write('out');
    proc.stderr!.write('oops');
    await tick();
    proc.exit(3);
    await tick();
    expect(c.out).toEqual(['out', 'err:oops']);
    expect(c.ends).toEqual([{ exitCode: 3 }]);
    expect(s.streams.size).toBe(0);
    expect(s.agent.size).toBe(0);
  });

  it('a node error before the start rejects the open with its code (container not running)', async () => {
    const s = setup({ state: 'exited' });
    await expect(s.streams.open('node-a', { method: 'exec', params }, collector().handlers)).rejects.toMatchObject({ code: ErrorCode.ContainerNotRunning, message: expect.stringContaining('is not running') });
    expect(s.streams.size).toBe(0);
  });

  it('the client going away kills the process', async () => {
    const s = setup();
    const c = collector();
    const stream = await s.streams.open('node-a', { method: 'exec', params }, c.handlers);
    stream.close();
    await tick();
    expect(s.procs[0]!.killed).toBe(true);
    expect(s.agent.size).toBe(0);
  });

  it('output waits for the server to pass it on (the window), then flows again', async () => {
    const s = setup();
    const held: (() => void)[] = [];
    const got: number[] = [];
    await s.streams.open('node-a', { method: 'exec', params }, { onOut: (d, passedOn) => (got.push(d.length), held.push(passedOn)), onErr: (_d, p) => p(), onEnd: () => undefined });
    const proc = s.procs[0]!;
    const total = STREAM_LIMITS.windowBytes * 2;
    proc.stdout.write(Buffer.alloc(total));
    await tick();
    await tick();
    const sent = got.reduce((a, b) => a + b, 0);
    // The node stopped at its window: nothing was acknowledged yet.
    expect(sent).toBe(STREAM_LIMITS.windowBytes);
    for (const p of held.splice(0)) p();
    await tick();
    await tick();
    expect(got.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...got)).toBeLessThanOrEqual(STREAM_LIMITS.chunkBytes);
  });

  it('a silent node ends the session on the server; a silent server ends it on the node', async () => {
    const s = setup();
    const c = collector();
    await s.streams.open('node-a', { method: 'exec', params }, c.handlers);
    s.cut();
    s.clock.advance(61_000);
    await tick();
    // Server side: the node's keepalives still arrive (only server → node was cut), so it waits…
    // …while the node, hearing nothing for 60 s, kills the process and says so.
    expect(s.procs[0]!.killed).toBe(true);
    expect(c.ends[0]?.error?.message).toContain('no word from the server');
  });

  it('refuses sessions past the per-node bound, on the server and on the node', async () => {
    const s = setup({ maxSessions: 1 });
    await s.streams.open('node-a', { method: 'exec', params }, collector().handlers);
    await expect(s.streams.open('node-a', { method: 'exec', params }, collector().handlers)).rejects.toMatchObject({ code: ErrorCode.RateLimited });
  });
});

describe('stream messages on the wire', () => {
  const req = (params: Record<string, unknown>) => encodeMessage({ schema: 1, id: 's-1', method: 'stream', params: { seq: 0, ...params } });
  const res = (fields: Record<string, unknown>) => encodeMessage({ schema: 1, id: 's-1', seq: 0, done: false, ...fields });

  it('carries bytes both ways', () => {
    const decoded = decodeRpcRequest(req({ input: Buffer.from('ls\n') }));
    expect(decoded).toMatchObject({ method: 'stream', params: { seq: 0 } });
    expect(Buffer.from((decoded as { params: { input: Uint8Array } }).params.input).toString()).toBe('ls\n');
    expect(Buffer.from(decodeRpcResponse(res({ out: Buffer.from('hi') })).out!).toString()).toBe('hi');
  });

  it('refuses input or output that is not bytes, or larger than a chunk', () => {
    expect(() => decodeRpcRequest(req({ input: 'text' }))).toThrow('rpc request "s-1": params.input: expected bytes, got');
    expect(() => decodeRpcResponse(res({ err: Buffer.alloc(STREAM_LIMITS.chunkBytes + 1) }))).toThrow(`err: ${STREAM_LIMITS.chunkBytes + 1} bytes exceeds the limit of ${STREAM_LIMITS.chunkBytes} bytes`);
    expect(() => decodeRpcRequest(encodeMessage({ schema: 1, id: 'x', method: 'exec', params: { ...params, command: [] } }))).toThrow('command');
    expect(() => decodeRpcRequest(encodeMessage({ schema: 1, id: 'x', method: 'portforward', params: { pod: 'p', namespace: 'default', port: 70000 } }))).toThrow('port');
  });
});
