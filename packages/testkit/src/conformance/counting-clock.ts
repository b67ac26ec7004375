import { systemClock, type Clock, type TimerHandle } from '@reconnect/core';

/** A {@link Clock} that knows how many of its timers are still pending (set, neither fired nor cleared). */
export interface CountingClock extends Clock {
  /** Timers set on this clock that have neither fired nor been cleared. */
  pending(): number;
}

/**
 * Wraps `base` (default: the core's `systemClock`) and tracks its pending timers. The conformance suite gives
 * one to every target it creates: the core's timers are unref'd, so `process.getActiveResourcesInfo()` never
 * shows them, and a health checker or reconnector still ticking after `stop()` would go unnoticed otherwise.
 */
export function createCountingClock(base: Clock = systemClock): CountingClock {
  const pending = new Set<TimerHandle>();
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const handle = base.setTimeout(() => {
        pending.delete(handle);
        fn();
      }, ms);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      base.clearTimeout(handle);
    },
    pending: () => pending.size,
  };
}
