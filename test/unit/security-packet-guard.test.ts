import { describe, expect, it } from 'vitest';
import { MqttFrameScanner } from '../../src/server/broker/packet-guard.js';

/** MQTT fixed header: type byte + variable-length remaining length. */
function header(type: number, length: number): Buffer {
  const bytes = [type];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

describe('MqttFrameScanner', () => {
  it('passes a stream of packets within the limit, whatever the chunking', () => {
    const stream = Buffer.concat([header(0x10, 20), Buffer.alloc(20), header(0xc0, 0), header(0x30, 1000), Buffer.alloc(1000)]);
    for (const size of [1, 2, 3, 7, 100, stream.length]) {
      const scanner = new MqttFrameScanner(1000);
      for (let i = 0; i < stream.length; i += size) expect(scanner.feed(stream.subarray(i, i + size))).toBeUndefined();
    }
  });

  it('flags a header announcing more than the limit as soon as the length bytes show it', () => {
    const scanner = new MqttFrameScanner(1024 * 1024);
    expect(scanner.feed(Buffer.concat([header(0x30, 10), Buffer.alloc(10)]))).toBeUndefined();
    // 0x80 0x80 0x80 0x01: 2 MiB, detected at the fourth byte without any body.
    expect(scanner.feed(Buffer.from([0x30, 0x80, 0x80, 0x80]))).toBeUndefined();
    expect(scanner.feed(Buffer.from([0x01]))).toMatch(/exceeds/);
  });

  it('accepts exactly the limit and refuses one more', () => {
    expect(new MqttFrameScanner(300).feed(header(0x30, 300))).toBeUndefined();
    expect(new MqttFrameScanner(300).feed(header(0x30, 301))).toMatch(/exceeds/);
  });

  it('flags a remaining length longer than four bytes as malformed', () => {
    expect(new MqttFrameScanner(Number.MAX_SAFE_INTEGER).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatch(/malformed/);
  });
});
