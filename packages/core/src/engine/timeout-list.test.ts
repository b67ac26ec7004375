import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../time/fake-clock.js';
import { LATE_MS, TimeoutList, type Timed } from './timeout-list.js';

function node(at: number, log: string[], name: string): Timed {
  return { at, prev: undefined, next: undefined, expire: () => log.push(`${name}@${at}`) };
}

describe('TimeoutList', () => {
  it('expires each node at its own time, in order, under one timer, and leaves none pending', async () => {
    const clock = createFakeClock(0);
    const list = new TimeoutList(clock);
    const log: string[] = [];
    list.add(node(1000, log, 'a'), 1000);
    list.add(node(1000, log, 'b'), 1000);
    clock.advance(200);
    list.add(node(1200, log, 'c'), 1000);
    list.add(node(500, log, 'short'), 300); // a shorter limit (the deadline left) goes before the others
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(299);
    expect(log).toEqual([]);
    await clock.advanceAsync(1);
    expect(log).toEqual(['short@500']);
    await clock.advanceAsync(500);
    expect(log).toEqual(['short@500', 'a@1000', 'b@1000']);
    await clock.advanceAsync(199);
    expect(log).toHaveLength(3);
    await clock.advanceAsync(1);
    expect(log).toEqual(['short@500', 'a@1000', 'b@1000', 'c@1200']);
    expect(clock.pending()).toBe(0);
  });

  it('a node removed before its time never expires; the timer goes when the list empties', async () => {
    const clock = createFakeClock(0);
    const list = new TimeoutList(clock);
    const log: string[] = [];
    const a = node(100, log, 'a');
    const b = node(150, log, 'b');
    list.add(a, 100);
    list.add(b, 150);
    list.remove(a); // the head settles: the timer stays for b (it fires early once, then waits for b)
    await clock.advanceAsync(120);
    expect(log).toEqual([]);
    await clock.advanceAsync(30);
    expect(log).toEqual(['b@150']);
    const c = node(300, log, 'c');
    list.add(c, 150);
    expect(clock.pending()).toBe(1);
    list.remove(c);
    expect(clock.pending()).toBe(0);
    // Removing again, or a node never added, changes nothing (a driver's wait may end twice).
    list.add(node(400, log, 'd'), 250);
    list.remove(c);
    list.remove(node(10, log, 'never'));
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(1000);
    expect(log).toEqual(['b@150', 'd@400']);
  });

  it('a node added from inside an expiry is kept and expires in its turn', async () => {
    const clock = createFakeClock(0);
    const list = new TimeoutList(clock);
    const log: string[] = [];
    list.add(
      {
        at: 10,
        prev: undefined,
        next: undefined,
        expire: () => {
          log.push('first');
          list.add(node(clock.now() + 10, log, 'second'), 10);
        },
      },
      10,
    );
    await clock.advanceAsync(10);
    await clock.advanceAsync(10);
    expect(log).toEqual(['first', 'second@20']);
    expect(clock.pending()).toBe(0);
  });
});

/** A clock whose time and timers the test moves by hand: a timer can be fired late, as after an event-loop stall. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    clock: {
      now: () => now,
      setTimeout(fn: () => void, ms: number) {
        const t = { at: now + ms, fn };
        timers.add(t);
        return t as never;
      },
      clearTimeout(t: unknown) {
        timers.delete(t as { at: number; fn: () => void });
      },
    },
    set(ms: number) {
      now = ms;
    },
    /** Fires the timers due by now, as Node's timers phase would (one pass: timers they set wait for the next). */
    fireDue() {
      for (const t of [...timers]) {
        if (t.at > now) continue;
        timers.delete(t);
        t.fn();
      }
    },
    pending: () => timers.size,
  };
}

describe('TimeoutList after an event-loop stall', () => {
  it('a timer that fires late yields once to I/O: a reply that arrived meanwhile settles first, nothing expires', () => {
    const m = manualClock();
    const list = new TimeoutList(m.clock);
    const log: string[] = [];
    const a = node(100, log, 'a');
    list.add(a, 100);
    m.set(1100); // the loop was blocked for a second
    m.fireDue();
    expect(log).toEqual([]); // yielded
    expect(m.pending()).toBe(1);
    list.remove(a); // the poll phase: the reply was read, the attempt settled
    expect(m.pending()).toBe(0);
    m.fireDue();
    expect(log).toEqual([]);
  });

  it('what is still due after the yield expires then; a timer on time expires at once', () => {
    const m = manualClock();
    const list = new TimeoutList(m.clock);
    const log: string[] = [];
    list.add(node(100, log, 'a'), 100);
    m.set(100 + LATE_MS); // late by no more than LATE_MS: on time
    m.fireDue();
    expect(log).toEqual(['a@100']);
    list.add(node(500, log, 'b'), 380);
    m.set(2000);
    m.fireDue();
    expect(log).toEqual(['a@100']);
    m.fireDue(); // the next turn
    expect(log).toEqual(['a@100', 'b@500']);
    // Yielding once per late firing, not for ever: the next late one yields again.
    list.add(node(2100, log, 'c'), 100);
    m.set(3000);
    m.fireDue();
    expect(log).toHaveLength(2);
    m.fireDue();
    expect(log).toEqual(['a@100', 'b@500', 'c@2100']);
  });
});
