import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { chunkLines, isSince, serveLogs, sinceCutoff } from '../../agent/src/agent/rpc-logs.js';
import type { LogsRpcRequest, RpcResponse } from '../../src/core/wire-types.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const line = (text: string) => ({ time: '2025-01-01T00:00:00Z', stream: 'stdout' as const, text, container: 'main' });

describe('chunkLines', () => {
  it('splits by line count and by size', () => {
    expect(chunkLines(Array.from({ length: 1001 }, (_, i) => line(String(i)))).map((c) => c.length)).toEqual([500, 500, 1]);
    expect(chunkLines(Array.from({ length: 5 }, () => line('x'.repeat(60_000)))).map((c) => c.length)).toEqual([2, 2, 1]);
    expect(chunkLines([])).toEqual([]);
  });
});

describe('serveLogs', () => {
  const pod: WirePodTarget = podTarget('web-a', { hash: 'h', containers: ['app', 'side'].map((name) => podContainer(name, { image: 'img:1' })) });
  const req = (params: LogsRpcRequest['params']): LogsRpcRequest => ({ schema: 1, id: 'r', method: 'logs', params });

  async function serve(runtime: MemoryRuntime, params: LogsRpcRequest['params']): Promise<RpcResponse[]> {
    const out: RpcResponse[] = [];
    await serveLogs(req(params), { runtime, clock: new ManualClock(), signal: new AbortController().signal, send: async (r) => void out.push(r) });
    return out;
  }

  it("interleaves a pod's containers by time, or serves one container", async () => {
    const clock = new ManualClock(0);
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    for (const c of pod.spec.containers) await runtime.start(pod, c);
    for (const [i, c] of ['app', 'side', 'app', 'side'].entries()) {
      clock.advance(1000);
      runtime.appendLog(`web-a_${c}`, `${c} ${i}`);
    }
    const all = await serve(runtime, { pod: 'web-a' });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: 'r', seq: 0, done: true });
    expect(all[0]?.lines?.map((l) => `${l.container}: ${l.text}`)).toEqual(['app: app 0', 'side: side 1', 'app: app 2', 'side: side 3']);
    const tail = await serve(runtime, { pod: 'web-a', tail: 1 });
    expect(tail[0]?.lines?.map((l) => l.text)).toEqual(['side 3']);
    const one = await serve(runtime, { pod: 'web-a', container: 'side' });
    expect(one[0]?.lines?.map((l) => l.text)).toEqual(['side 1', 'side 3']);
  });

  it("serves a Job's or CronJob's newest run for the pod, never another pod's", async () => {
    const clock = new ManualClock(0);
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const run = (name: string): WirePodTarget => ({ ...pod, name, spec: { ...pod.spec, containers: [pod.spec.containers[0]!] } });
    for (const [name, text] of [['tick-a-1767225600', 'old run'], ['tick-a-1767225660', 'new run'], ['tick-ab-1', 'other pod'], ['tick-a-x', 'not a run']] as const) {
      clock.advance(1000);
      await runtime.start(run(name), pod.spec.containers[0]!);
      runtime.appendLog(`${name}_app`, text);
      runtime.exit(`${name}_app`, 0);
    }
    expect((await serve(runtime, { pod: 'tick-a' }))[0]?.lines?.map((l) => l.text)).toEqual(['new run']);
  });

  it('answers an empty log with one done chunk, and unknown pods or containers with NOT_FOUND', async () => {
    const runtime = new MemoryRuntime();
    await runtime.start(pod, pod.spec.containers[0]!);
    expect(await serve(runtime, { pod: 'web-a' })).toEqual([{ schema: 1, id: 'r', seq: 0, done: true, lines: [] }]);
    expect((await serve(runtime, { pod: 'web-a', container: 'nope' }))[0]).toMatchObject({ done: true, error: { code: 'NOT_FOUND', message: 'pod web-a has no container nope on this node' } });
  });

  it('turns a runtime failure into an error answer', async () => {
    const runtime = new MemoryRuntime();
    runtime.list = async () => {
      throw new Error('state dir unreadable');
    };
    expect(await serve(runtime, { pod: 'web-a' })).toEqual([{ schema: 1, id: 'r', seq: 0, done: true, error: { code: 'INTERNAL', message: 'state dir unreadable' } }]);
  });

  it('ends a follow with a done chunk when the agent stops', async () => {
    const runtime = new MemoryRuntime();
    await runtime.start(pod, pod.spec.containers[0]!);
    runtime.appendLog('web-a_app', 'one');
    const stop = new AbortController();
    const out: RpcResponse[] = [];
    const served = serveLogs(req({ pod: 'web-a', follow: true }), { runtime, clock: new ManualClock(), signal: stop.signal, send: async (r) => void out.push(r) });
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await served;
    expect(out.map((r) => [r.seq, r.done, r.lines?.map((l) => l.text)])).toEqual([[0, false, ['one']], [1, true, []]]);
  });

  it('serves the previous instance kept at a restart, or says there is none', async () => {
    const runtime = new MemoryRuntime();
    const first = await runtime.start(pod, pod.spec.containers[0]!);
    runtime.appendLog(first.id, 'first run');
    expect((await serve(runtime, { pod: 'web-a', container: 'app', previous: true }))[0]).toMatchObject({
      done: true,
      error: { code: 'NOT_FOUND', message: 'previous terminated container "app" in pod "web-a" not found' },
    });
    runtime.exit(first.id, 1);
    await runtime.keepPreviousLogs(first.id);
    await runtime.remove(first.id);
    const second = await runtime.start(pod, pod.spec.containers[0]!, { restarts: 1 });
    runtime.appendLog(second.id, 'second run');
    expect((await serve(runtime, { pod: 'web-a', container: 'app', previous: true }))[0]?.lines?.map((l) => l.text)).toEqual(['first run']);
    expect((await serve(runtime, { pod: 'web-a', container: 'app' }))[0]?.lines?.map((l) => l.text)).toEqual(['second run']);
  });

  it('keeps the lines since a time or the last seconds, by the node clock', async () => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    await runtime.start(pod, pod.spec.containers[0]!);
    for (const text of ['a', 'b', 'c']) {
      runtime.appendLog('web-a_app', text);
      clock.advance(10_000);
    }
    const out: RpcResponse[] = [];
    await serveLogs(req({ pod: 'web-a', sinceSeconds: 15 }), { runtime, clock, signal: new AbortController().signal, send: async (r) => void out.push(r) });
    expect(out[0]?.lines?.map((l) => l.text)).toEqual(['c']);
    expect((await serve(runtime, { pod: 'web-a', sinceTime: '2025-01-01T00:00:10Z' }))[0]?.lines?.map((l) => l.text)).toEqual(['b', 'c']);
    expect(sinceCutoff({ pod: 'x' }, 0)).toBeUndefined();
    expect(isSince('2025-01-01T00:00:09.999999999Z', Date.parse('2025-01-01T00:00:10Z'))).toBe(false);
    expect(isSince('garbled', 5)).toBe(true);
  });

  it('follows until cancelled, past the 60 s window, with an empty chunk after each quiet spell', async () => {
    const clock = new ManualClock(0);
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    await runtime.start(pod, pod.spec.containers[0]!);
    const cancel = new AbortController();
    const out: RpcResponse[] = [];
    const served = serveLogs(req({ pod: 'web-a', container: 'app', follow: true, untilCancelled: true }), { runtime, clock, signal: cancel.signal, send: async (r) => void out.push(r), keepaliveMs: 20_000 });
    const settle = () => new Promise((r) => setTimeout(r, 5));
    await settle();
    clock.advance(20_000);
    await settle();
    expect(out.map((r) => r.lines)).toEqual([[]]);
    clock.advance(50_000); // 70 s: an old-style follow would have ended at 60 s
    runtime.appendLog('web-a_app', 'late line');
    await settle();
    expect(out.at(-1)?.lines?.map((l) => l.text)).toEqual(['late line']);
    expect(out.every((r) => !r.done)).toBe(true);
    cancel.abort();
    await served;
    expect(out.at(-1)).toMatchObject({ done: true, lines: [] });
  });

  it('ends a follow when its chunks cannot be sent (nobody hears it any more)', async () => {
    const runtime = new MemoryRuntime();
    await runtime.start(pod, pod.spec.containers[0]!);
    let sends = 0;
    const served = serveLogs(req({ pod: 'web-a', container: 'app', follow: true, untilCancelled: true }), {
      runtime,
      clock: new ManualClock(),
      signal: new AbortController().signal,
      send: async () => {
        sends++;
        throw new Error('not connected to the broker');
      },
    });
    runtime.appendLog('web-a_app', 'unheard');
    await served;
    expect(sends).toBeGreaterThanOrEqual(1);
  });
});

