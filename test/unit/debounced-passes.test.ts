import { describe, expect, it } from 'vitest';
import { DebouncedPasses } from '../../src/server/objects/debounced-passes.js';
import { ManualClock } from '../support/manual-clock.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('DebouncedPasses', () => {
  it('waits a debounce after the first change by default', async () => {
    const clock = new ManualClock();
    let passes = 0;
    const p = new DebouncedPasses(clock, 20, async () => void passes++);
    p.start();
    await p.idle();
    p.nudge();
    clock.advance(19);
    await flush();
    expect(passes).toBe(1);
    clock.advance(1);
    await p.idle();
    expect(passes).toBe(2);
    await p.stop();
  });

  it('leading: a change after a quiet debounce runs at once, a storm at most once per debounce', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const p = new DebouncedPasses(clock, 20, async () => void at.push(clock.now()), { leading: true });
    const t0 = clock.now();
    p.start();
    await p.idle();
    clock.advance(20);
    p.nudge();
    clock.advance(0);
    await p.idle();
    expect(at.map((t) => t - t0)).toEqual([0, 20]);
    // A storm: every 5 ms for 60 ms.
    for (let i = 0; i < 12; i++) {
      p.nudge();
      clock.advance(5);
      await flush();
    }
    clock.advance(20);
    await p.idle();
    const storm = at.slice(2).map((t) => t - t0);
    expect(storm.length).toBeLessThanOrEqual(4);
    for (let i = 1; i < storm.length; i++) expect(storm[i]! - storm[i - 1]!).toBeGreaterThanOrEqual(20);
    await p.stop();
  });

  it('`before` is awaited ahead of a pass, and changes made while it waits are covered by that pass', async () => {
    const clock = new ManualClock();
    let release: (() => void) | undefined;
    let passes = 0;
    const p = new DebouncedPasses(clock, 20, async () => void passes++, {
      leading: true,
      before: () => (release ? Promise.resolve() : new Promise<void>((r) => (release = r))),
    });
    p.start();
    await flush();
    expect(passes).toBe(0);
    // Changes while the pass waits: one pass after the wait covers them all.
    p.nudge();
    p.nudge();
    release!();
    await p.idle();
    expect(passes).toBe(1);
    await p.stop();
  });
});
