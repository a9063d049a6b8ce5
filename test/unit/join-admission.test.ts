/**
 * Join storms: the server works on at most N joins and answers the rest 503 + Retry-After;
 * the join client waits (with jitter) and asks again, so every join completes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster, retryAfterMs, type JoinRetry } from '../../agent/src/agent/join-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { JoinAdmission, admitJoin } from '../../src/server/join-admission.js';

const ANSWER = { cluster: 'lab', node: 'x', mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'node.x', password: 'p'.repeat(40) } };

describe('JoinAdmission', () => {
  it('admits up to maxInFlight, then refuses until a slot is released', () => {
    const admission = new JoinAdmission({ maxInFlight: 2, now: () => 0 });
    const a = admission.tryEnter();
    const b = admission.tryEnter();
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(admission.tryEnter()).toBeUndefined();
    a!();
    a!(); // a second release is a no-op
    expect(admission.active).toBe(1);
    expect(admission.tryEnter()).toBeDefined();
  });

  it('asks for a longer wait as the backlog of turned-away callers grows, within 1..30 s', () => {
    let now = 0;
    const admission = new JoinAdmission({ maxInFlight: 10, now: () => now });
    for (let i = 0; i < 10; i++) admission.tryEnter();
    expect(admission.retryAfterSeconds()).toBe(2); // 10 in flight at an assumed 5 a second
    for (let i = 0; i < 100; i++) admission.tryEnter();
    expect(admission.retryAfterSeconds()).toBe(22);
    for (let i = 0; i < 1000; i++) admission.tryEnter();
    expect(admission.retryAfterSeconds()).toBe(30);
    // Callers turned away long ago are forgotten (they have come back or given up).
    now = 10_000;
    expect(admission.retryAfterSeconds()).toBe(2);
  });

  it('rejects a nonsensical limit', () => {
    expect(() => new JoinAdmission({ maxInFlight: 0 })).toThrow(/positive/);
  });
});

describe('join client retries', () => {
  it('reads Retry-After as seconds or as an HTTP date, bounded', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5_000)).toBe(5000);
    expect(retryAfterMs('99999')).toBe(300_000);
    expect(retryAfterMs('soon')).toBe(1000);
    expect(retryAfterMs(undefined)).toBe(1000);
  });

  it('waits Retry-After with jitter on 503 and joins on the next answer', async () => {
    const answers = [
      { status: 503, body: '{}', retryAfter: '2' },
      { status: 503, body: '{}', retryAfter: '4' },
      { status: 200, body: JSON.stringify(ANSWER) },
    ];
    const slept: number[] = [];
    const retries: JoinRetry[] = [];
    const config = await joinCluster({
      serverUrl: 'http://grove.lan:7080',
      token: 'grove1.insecure.t.s',
      nodeName: 'x',
      dataDir: '/nonexistent',
      persist: false,
      fetch: async () => answers.shift()!,
      sleep: async (ms) => void slept.push(ms),
      random: () => 0.25,
      onRetry: (r) => retries.push(r),
    });
    expect(config.node).toBe('x');
    expect(slept).toEqual([1500, 3000]); // × (0.5 + 0.25)
    expect(retries.map((r) => r.reason)).toEqual(['busy', 'busy']);
  });

  it('retries a dropped connection, but not a refused one, and gives up after retryForMs', async () => {
    let calls = 0;
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    await expect(
      joinCluster({
        serverUrl: 'http://grove.lan:7080',
        token: 'grove1.insecure.t.s',
        nodeName: 'x',
        dataDir: '/nonexistent',
        persist: false,
        fetch: async () => {
          calls++;
          if (calls === 1) throw reset;
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
        sleep: async () => undefined,
      }),
    ).rejects.toThrow(/cannot reach the server.*ECONNREFUSED/);
    expect(calls).toBe(2);

    const busy = joinCluster({
      serverUrl: 'http://grove.lan:7080',
      token: 'grove1.insecure.t.s',
      nodeName: 'x',
      dataDir: '/nonexistent',
      persist: false,
      retryForMs: 0,
      fetch: async () => ({ status: 503, body: JSON.stringify({ error: { message: 'busy with other joins' } }), retryAfter: '1' }),
    });
    await expect(busy).rejects.toThrow(/HTTP 503: busy with other joins/);
  });
});

describe('a join storm against an admission-controlled endpoint', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('completes all 60 joins with 4 admitted at a time; the others are told to come back', async () => {
    const admission = new JoinAdmission({ maxInFlight: 4 });
    let inFlight = 0;
    let peak = 0;
    const router = new Router({ logger: silentLogger(), adminToken: 'admin' });
    router.add(
      'POST',
      '/v1/join',
      (ctx) =>
        admitJoin(admission, ctx.res, async () => {
          const body = (await ctx.body()) as { nodeName: string };
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
          return { ...ANSWER, node: body.nodeName, mqtt: { ...ANSWER.mqtt, username: `node.${body.nodeName}` } };
        }),
      'public',
    );
    server = http.createServer(router.handle);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let busy = 0;
    const joined = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        joinCluster({
          serverUrl: url,
          token: 'grove1.insecure.t.s',
          nodeName: `n-${i}`,
          dataDir: '/nonexistent',
          persist: false,
          // Retry-After is whole seconds; a test need not wait them out.
          sleep: (ms) => new Promise((r) => setTimeout(r, ms / 50)),
          onRetry: (r) => {
            expect(r.reason).toBe('busy');
            busy++;
          },
        }),
      ),
    );
    expect(joined.map((j) => j.node).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `n-${i}`).sort());
    expect(peak).toBeLessThanOrEqual(4);
    expect(busy).toBeGreaterThan(0);
  }, 60_000);
});
