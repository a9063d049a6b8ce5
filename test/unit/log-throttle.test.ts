import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../src/core/log-throttle.js';

describe('LogThrottle', () => {
  it('lets one line per key per interval through and counts the ones held back', () => {
    let now = 0;
    const t = new LogThrottle({ now: () => now, intervalMs: 1000 });
    expect(t.admit('a')).toBe(0);
    expect(t.admit('a')).toBeUndefined();
    expect(t.admit('b')).toBe(0);
    expect(t.admit('a')).toBeUndefined();
    now = 999;
    expect(t.admit('a')).toBeUndefined();
    now = 1000;
    expect(t.admit('a')).toBe(3);
    expect(t.admit('a')).toBeUndefined();
  });

  it('remembers a bounded number of keys, forgetting the least recently logged', () => {
    let now = 0;
    const t = new LogThrottle({ now: () => now, intervalMs: 1000, maxKeys: 2 });
    t.admit('a');
    t.admit('b');
    t.admit('c'); // forgets a
    expect(t.admit('b')).toBeUndefined();
    expect(t.admit('a')).toBe(0); // forgotten, so logged again (and now b is the oldest)
    now = 10;
    expect(t.admit('c')).toBeUndefined();
  });
});
