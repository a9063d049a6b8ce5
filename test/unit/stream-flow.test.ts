import { describe, expect, it } from 'vitest';
import { AckCounter, InOrder, SendWindow } from '../../src/core/stream-flow.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';

describe('InOrder', () => {
  it('hands messages on once, in order, holding early ones', () => {
    const q = new InOrder<string>(4);
    expect(q.accept(0, 'a')).toEqual(['a']);
    expect(q.accept(0, 'a again')).toEqual([]);
    expect(q.accept(2, 'c')).toEqual([]);
    expect(q.held).toBe(1);
    expect(q.accept(2, 'c again')).toEqual([]);
    expect(q.accept(1, 'b')).toEqual(['b', 'c']);
    expect(q.held).toBe(0);
    expect(q.accept(3, 'd')).toEqual(['d']);
  });

  it('refuses a message too far ahead', () => {
    const q = new InOrder<number>(2);
    let err: unknown;
    try {
      q.accept(5, 5);
    } catch (e) {
      err = e;
    }
    expect(isGroveError(err, ErrorCode.WireInvalid)).toBe(true);
    expect(String((err as Error).message)).toContain('5 arrived while 0 was expected');
  });
});

describe('SendWindow', () => {
  it('closes when the window is spent and opens on an acknowledgement', async () => {
    const w = new SendWindow(100);
    w.consume(60);
    expect(w.available).toBe(40);
    w.consume(40);
    expect(w.available).toBe(0);
    let opened = false;
    const wait = w.opened().then(() => (opened = true));
    await Promise.resolve();
    expect(opened).toBe(false);
    w.acknowledge(30);
    await wait;
    expect(w.available).toBe(30);
  });

  it('ignores acknowledgements that go back or beyond what was sent', () => {
    const w = new SendWindow(100);
    w.consume(100);
    w.acknowledge(150);
    expect(w.available).toBe(0);
    w.acknowledge(50);
    w.acknowledge(20);
    expect(w.available).toBe(50);
  });
});

describe('AckCounter', () => {
  it('acknowledges after a quarter of the window, and what is left on request', () => {
    const a = new AckCounter(400);
    expect(a.passed(50)).toBeUndefined();
    expect(a.passed(60)).toBe(110);
    expect(a.passed(10)).toBeUndefined();
    expect(a.pending()).toBe(120);
    expect(a.pending()).toBeUndefined();
  });
});
