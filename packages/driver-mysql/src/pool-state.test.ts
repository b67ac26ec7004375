import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WaitList, type Waiting } from './pool-state.js';

// The time limits of a pool's queued calls under one timer (fake timers: performance.now and setTimeout move together).
describe('WaitList', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const expired: string[] = [];
  const waiting = (name: string, inMs: number): Waiting & { name: string } => ({
    name,
    at: performance.now() + inMs,
    prev: undefined,
    next: undefined,
    listed: false,
    onTimeout: () => void expired.push(name),
  });

  it('expires each wait at its own time, in order of expiry whatever the order added, with one timer', () => {
    expired.length = 0;
    const list = new WaitList();
    const add = (name: string, ms: number) => {
      const w = waiting(name, ms);
      list.add(w, ms);
      return w;
    };
    add('a', 100);
    add('b', 100);
    add('c', 300);
    add('early', 50); // shorter than those before it: walks back to the head, the timer re-armed for it
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['early']);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['early', 'a', 'b']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(200);
    expect(expired).toEqual(['early', 'a', 'b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a wait that ends before its time leaves the list; the timer is gone once the list is empty', () => {
    expired.length = 0;
    const list = new WaitList();
    const a = waiting('a', 100);
    const b = waiting('b', 200);
    list.add(a, 100);
    list.add(b, 200);
    list.remove(a);
    expect(a.listed).toBe(false);
    list.remove(a); // twice: nothing
    vi.advanceTimersByTime(150);
    expect(expired).toEqual([]); // the timer armed for a fired early and was re-armed for b
    list.remove(b);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual([]);
  });
});
