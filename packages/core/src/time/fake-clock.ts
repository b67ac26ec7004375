import type { Clock, TimerHandle } from './clock.js';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A {@link Clock} whose time moves only when a test says so. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order (and timers they schedule). */
  advance(ms: number): void;
  /** Like {@link advance}, awaiting queued microtasks between timers so promise chains progress. */
  advanceAsync(ms: number): Promise<void>;
  /** Timers still pending. */
  pending(): number;
}

/** Creates a {@link FakeClock} starting at `start` ms. */
export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, FakeTimer>();

  const due = (until: number): FakeTimer | undefined => {
    let first: FakeTimer | undefined;
    for (const t of timers.values()) {
      if (
        t.at <= until &&
        (first === undefined || t.at < first.at || (t.at === first.at && t.id < first.id))
      ) {
        first = t;
      }
    }
    return first;
  };

  const flushMicrotasks = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, ms), fn });
      const handle: TimerHandle = { id };
      return handle;
    },
    clearTimeout(handle) {
      timers.delete((handle as unknown as { id: number }).id);
    },
    advance(ms) {
      const until = now + ms;
      for (let t = due(until); t !== undefined; t = due(until)) {
        timers.delete(t.id);
        now = t.at;
        t.fn();
      }
      now = until;
    },
    async advanceAsync(ms) {
      const until = now + ms;
      await flushMicrotasks();
      for (let t = due(until); t !== undefined; t = due(until)) {
        timers.delete(t.id);
        now = t.at;
        t.fn();
        await flushMicrotasks();
      }
      now = until;
      await flushMicrotasks();
    },
    pending: () => timers.size,
  };
}
