import { describe, expect, it } from 'vitest';
import {
  busyBackoffBaseMs,
  busyBackoffMaxMs,
  ConnectPacer,
  defaultConnectRate,
  settleMs,
} from './connect-pacer.js';

/** A pacer on a clock the test moves, with the randomness it is given (0 = the shortest jitter, 1 = the longest). */
function pacer(perSecond: number, random: () => number) {
  let now = 1_000_000;
  const p = new ConnectPacer({ perSecond, now: () => now, random });
  return {
    p,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ConnectPacer', () => {
  it('the first connection at once; each next one after a gap of 1–1.5 × 1000 / perSecond ms', () => {
    const { p, advance } = pacer(5, () => 0);
    expect(p.tryOpen()).toBe(true);
    expect(p.waitMs()).toBe(200);
    advance(199);
    expect(p.tryOpen()).toBe(false);
    expect(p.waitMs()).toBe(1);
    advance(1);
    expect(p.waitMs()).toBe(0);
    expect(p.tryOpen()).toBe(true);
    // The longest jitter: 1.5 × the gap.
    const long = pacer(5, () => 1);
    expect(long.p.tryOpen()).toBe(true);
    expect(long.p.waitMs()).toBe(300);
    long.advance(299);
    expect(long.p.tryOpen()).toBe(false);
    long.advance(1);
    expect(long.p.tryOpen()).toBe(true);
  });

  it('a refused tryOpen does not push the next one back', () => {
    const { p, advance } = pacer(10, () => 0);
    p.tryOpen();
    advance(50);
    expect(p.tryOpen()).toBe(false);
    expect(p.tryOpen()).toBe(false);
    advance(50);
    expect(p.tryOpen()).toBe(true);
  });

  it('no second holds more than perSecond + 1 new connections, whatever the jitter', () => {
    for (const r of [0, 0.5, 0.999]) {
      const { p, advance } = pacer(5, () => r);
      let opened = 0;
      for (let t = 0; t < 1000; t++) {
        if (p.tryOpen()) opened++;
        advance(1);
      }
      expect(opened, `random ${r}`).toBeLessThanOrEqual(6);
      expect(opened, `random ${r}`).toBeGreaterThanOrEqual(4);
    }
  });

  it('perSecond 0: no ceiling', () => {
    const { p } = pacer(0, () => 0.5);
    for (let i = 0; i < 100; i++) expect(p.tryOpen()).toBe(true);
    expect(p.waitMs()).toBe(0);
  });

  it('busy: none before an equal-jitter back-off whose envelope doubles from 250 ms up to 5 s', () => {
    const { p, advance } = pacer(0, () => 0);
    // Half the envelope at the least (random 0)…
    expect(p.busy()).toBe(125);
    expect(p.waitMs()).toBe(125);
    expect(p.tryOpen()).toBe(false);
    advance(125);
    expect(p.tryOpen()).toBe(true);
    expect(p.busy()).toBe(250);
    expect(p.busy()).toBe(500);
    expect(p.busy()).toBe(1000);
    expect(p.busy()).toBe(2000);
    expect(p.busy()).toBe(2500);
    expect(p.busy()).toBe(2500);
    // …the whole envelope at the most (random → 1).
    const top = pacer(0, () => 1);
    expect(top.p.busy()).toBe(busyBackoffBaseMs);
    for (let i = 0; i < 10; i++) top.p.busy();
    expect(top.p.busy()).toBe(busyBackoffMaxMs);
  });

  it('a connection that succeeds starts the busy back-off again from its base', () => {
    const { p } = pacer(0, () => 0);
    p.busy();
    p.busy();
    expect(p.busy()).toBe(500);
    p.opened();
    expect(p.busy()).toBe(125);
  });

  it('a busy back-off never shortens the wait the ceiling already asked for', () => {
    const { p } = pacer(1, () => 0);
    p.tryOpen(); // next one in 1000 ms
    p.busy(); // 125 ms
    expect(p.waitMs()).toBe(1000);
    expect(p.waitMs(true)).toBe(125);
  });

  it('an empty pool (reconnecting, not growing) is not held back by the ceiling, only by a busy back-off', () => {
    const { p, advance } = pacer(1, () => 0);
    expect(p.tryOpen()).toBe(true); // next one in 1000 ms
    expect(p.waitMs(true)).toBe(0);
    expect(p.tryOpen(true)).toBe(true);
    // …and it counts: the pool's next growth waits its gap from there.
    expect(p.waitMs()).toBe(1000);
    advance(10);
    expect(p.busy()).toBe(125);
    expect(p.waitMs(true)).toBe(125);
    expect(p.tryOpen(true)).toBe(false);
    advance(125);
    expect(p.tryOpen(true)).toBe(true);
    expect(p.tryOpen()).toBe(false);
  });

  it('after an empty pool’s connection the next waits 1–1.5 s (settleMs), then the gaps are the ceiling’s', () => {
    expect(settleMs).toBe(1000);
    const { p, advance } = pacer(5, () => 0);
    expect(p.tryOpen(true)).toBe(true);
    expect(p.waitMs()).toBe(1000);
    advance(999);
    expect(p.tryOpen()).toBe(false);
    advance(1);
    expect(p.tryOpen()).toBe(true);
    expect(p.waitMs()).toBe(200);
    // The longest jitter: 1.5 s; a ceiling slower than that keeps its own gap (1 a second: 1–1.5 s too).
    const long = pacer(5, () => 1);
    long.p.tryOpen(true);
    expect(long.p.waitMs()).toBe(1500);
    const slow = pacer(0.5, () => 0);
    slow.p.tryOpen(true);
    expect(slow.p.waitMs()).toBe(2000);
  });

  it('a fleet of pools reconnecting in the same 100 ms: one connection each in their first second', () => {
    // 1 000 pools, each with callers waiting for 10 connections, asking every ms: only their first one in 1 s.
    let opened = 0;
    for (let i = 0; i < 1000; i++) {
      const { p, advance } = pacer(5, Math.random);
      advance(i % 100);
      if (p.tryOpen(true)) opened++;
      for (let t = 0; t < 1000 - (i % 100); t++) {
        if (p.tryOpen()) opened++;
        advance(1);
      }
    }
    expect(opened).toBe(1000);
  });

  it('no ceiling (perSecond 0): no settling either', () => {
    const { p } = pacer(0, () => 0);
    expect(p.tryOpen(true)).toBe(true);
    expect(p.tryOpen()).toBe(true);
    expect(p.waitMs()).toBe(0);
  });

  it('the default ceiling is 5 a second', () => {
    expect(defaultConnectRate).toBe(5);
  });
});

describe('ConnectPacer and the wall clock', () => {
  it('paces by the monotonic clock: a wall clock stepped an hour back (NTP, a resumed VM) holds nothing back', async () => {
    const real = Date.now;
    let offset = 3_600_000; // the wall clock an hour ahead when the pool opens its connection…
    Date.now = () => real.call(Date) + offset;
    try {
      const pacer = new ConnectPacer({ perSecond: 1000, random: () => 0 }); // a 1 ms gap
      expect(pacer.tryOpen()).toBe(true);
      offset = 0; // …then stepped back
      await new Promise((r) => setTimeout(r, 10));
      expect(pacer.waitMs()).toBe(0);
      expect(pacer.tryOpen()).toBe(true);
    } finally {
      Date.now = real;
    }
  });
});

describe('ConnectPacer: the refill after an outage (issue #29)', () => {
  /** A pacer of a pool of 10 that replaces a lost one (or not), on a clock that never moves. */
  function refilling(recovering = true) {
    return new ConnectPacer({
      perSecond: 5,
      poolSize: 10,
      recovering,
      now: () => 1_000_000,
      random: () => 0,
    });
  }
  /** How many tryOpen calls succeed in a row while `waiting` calls wait (at most 20 asked). */
  const openable = (p: ConnectPacer, waiting: number) => {
    let n = 0;
    while (n < 20 && p.tryOpen(false, waiting)) n++;
    return n;
  };

  it('a pool that replaces a lost one: behind its first connection, a backlog of its size opens the rest at once', () => {
    const p = refilling();
    expect(p.tryOpen(true)).toBe(true);
    p.opened();
    expect(p.waitMs(false, 10)).toBe(0);
    // The first connection and 9 more: the pool's size, no more at once.
    expect(openable(p, 10)).toBe(9);
    // Then the ceiling's gap again.
    expect(p.waitMs(false, 10)).toBe(200);
  });

  it('once a backlog of the pool’s size was seen, every call that waits gets a connection (the queue shrinks as they open)', () => {
    const p = refilling();
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 10)).toBe(true);
    for (let waiting = 9; waiting > 1; waiting--) expect(p.tryOpen(false, waiting), `${waiting}`).toBe(true);
    // Nobody waits: nothing to open for.
    expect(p.tryOpen(false, 0)).toBe(false);
  });

  it('a backlog smaller than the pool (a fleet instance’s few callers) settles 1–1.5 s as before', () => {
    const p = refilling();
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 9)).toBe(false);
    expect(p.waitMs(false, 9)).toBe(settleMs);
  });

  it('nothing at once before the first connection succeeded (the server may still be down)', () => {
    const p = refilling();
    expect(p.tryOpen(true)).toBe(true);
    expect(p.tryOpen(false, 50)).toBe(false);
    expect(p.waitMs(false, 50)).toBe(settleMs);
  });

  it('a new target’s first pool (not a recovery) settles and grows at the ceiling whatever waits', () => {
    const p = refilling(false);
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 50)).toBe(false);
    expect(p.waitMs(false, 50)).toBe(settleMs);
  });

  it('a busy refusal (max_connections) ends the refill: back-off, then the ceiling', () => {
    let now = 1_000_000;
    const p = new ConnectPacer({
      perSecond: 5,
      poolSize: 10,
      recovering: true,
      now: () => now,
      random: () => 0,
    });
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 10)).toBe(true);
    expect(p.busy()).toBe(busyBackoffBaseMs / 2);
    expect(p.tryOpen(false, 10)).toBe(false);
    now += busyBackoffBaseMs;
    p.opened();
    // The refill does not come back with the next success: one connection per gap.
    expect(p.tryOpen(false, 10)).toBe(true);
    expect(p.tryOpen(false, 10)).toBe(false);
  });

  it('a pool emptied after having had connections (the server restarted under it) refills the same way', () => {
    let now = 1_000_000;
    const p = new ConnectPacer({ perSecond: 5, poolSize: 10, now: () => now, random: () => 0 });
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 10)).toBe(false); // a new pool: it settles
    now += 5000;
    // Every connection lost: the next is the pool's first again, and a recovery.
    expect(p.tryOpen(true)).toBe(true);
    expect(p.tryOpen(false, 10)).toBe(false); // not before that one succeeded
    p.opened();
    expect(openable(p, 10)).toBe(9);
  });

  it('no pool size (connectionLimit 0, unbounded): no refill', () => {
    const p = new ConnectPacer({
      perSecond: 5,
      poolSize: 0,
      recovering: true,
      now: () => 0,
      random: () => 0,
    });
    p.tryOpen(true);
    p.opened();
    expect(p.tryOpen(false, 1000)).toBe(false);
  });
});
