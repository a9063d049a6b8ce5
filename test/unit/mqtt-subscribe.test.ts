import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { keepSubscribed } from '../../src/core/mqtt-subscribe.js';
import { ManualClock } from '../support/manual-clock.js';

/** A client whose SUBACKs the test scripts: one grant list (or error) per subscribe call. */
function fakeClient(answers: Array<number[] | Error>) {
  const calls: string[][] = [];
  const client = {
    connected: true,
    subscribe(topics: Record<string, { qos: number }>, cb: (err: Error | null, granted?: { topic: string; qos: number }[]) => void) {
      const names = Object.keys(topics);
      calls.push(names);
      const answer = answers.shift() ?? names.map((n) => topics[n]!.qos);
      queueMicrotask(() => (answer instanceof Error ? cb(answer) : cb(null, names.map((topic, i) => ({ topic, qos: answer[i]! })))));
    },
  };
  return { client: client as unknown as MqttClient & { connected: boolean }, calls };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('keepSubscribed', () => {
  it('retries a refused subscription (SUBACK 0x80) until every topic is granted', async () => {
    const clock = new ManualClock();
    const { client, calls } = fakeClient([[0, 128], new Error('connection closed'), [0, 0]]);
    const retries: string[] = [];
    let granted = 0;
    keepSubscribed(client, { clock, topics: { a: { qos: 0 }, b: { qos: 0 } }, retryMs: () => 1000, current: () => true, onRetry: (why) => retries.push(why), onGranted: () => granted++ });
    await flush();
    expect(retries).toEqual(['refused: b']);
    clock.advance(1000);
    await flush();
    expect(retries).toEqual(['refused: b', 'connection closed']);
    clock.advance(1000);
    await flush();
    expect(calls).toHaveLength(3);
    expect(granted).toBe(1);
    clock.advance(10_000);
    await flush();
    expect(calls).toHaveLength(3);
  });

  it('stops retrying once the connection is gone or replaced', async () => {
    const clock = new ManualClock();
    const { client, calls } = fakeClient([[128], [128]]);
    let current = true;
    keepSubscribed(client, { clock, topics: { a: { qos: 1 } }, retryMs: () => 500, current: () => current, onRetry: () => undefined });
    await flush();
    current = false;
    clock.advance(500);
    await flush();
    expect(calls).toHaveLength(1);
  });
});
