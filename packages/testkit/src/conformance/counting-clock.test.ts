import { createFakeClock } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { createCountingClock } from './counting-clock.js';

describe('createCountingClock', () => {
  it('counts timers until they fire or are cleared', () => {
    const base = createFakeClock();
    const clock = createCountingClock(base);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 100);
    const b = clock.setTimeout(() => fired.push('b'), 200);
    expect(clock.pending()).toBe(2);
    base.advance(100);
    expect(fired).toEqual(['a']);
    expect(clock.pending()).toBe(1);
    clock.clearTimeout(b);
    expect(clock.pending()).toBe(0);
    base.advance(500);
    expect(fired).toEqual(['a']);
  });

  it('counts a timer re-armed from its own callback (a loop that never ends)', () => {
    const base = createFakeClock();
    const clock = createCountingClock(base);
    const tick = (): void => {
      clock.setTimeout(tick, 10);
    };
    tick();
    base.advance(100);
    expect(clock.pending()).toBe(1);
    expect(clock.now()).toBe(base.now());
  });
});
