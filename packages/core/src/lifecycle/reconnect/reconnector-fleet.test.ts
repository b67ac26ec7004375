import { describe, expect, it } from 'vitest';
import type { ReconnectPolicy } from '../../policy/resolved.js';
import { createFakeClock, type FakeClock } from '../../time/fake-clock.js';
import { Reconnector } from './reconnector.js';

// A fleet of reconnectors on one fake clock, against one server that is down, then back (issue #26).

/** A seeded generator (mulberry32): the same fleet every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// preset:redis's reconnect section (full jitter, 500 ms doubling to 30 s).
const policy = (over: Partial<ReconnectPolicy> = {}): ReconnectPolicy => ({
  maxRetries: Infinity,
  backoff: { type: 'exponential', base: 500, factor: 2, max: 30_000, jitter: 'full' },
  connectTimeout: 500,
  startTimeout: 5000,
  onExhausted: 'keep-probing',
  minProbeGap: 100,
  whileReconnecting: 'wait',
  maxWaiting: 50_000,
  ...over,
});

interface Fleet {
  clock: FakeClock;
  targets: Reconnector[];
  /** Every connect attempt: when, by which target, and whether on demand (else the backoff schedule's). */
  connects: { at: number; target: number; onDemand: boolean }[];
  /** When each target's waiting operation was let go (undefined: still waiting). */
  servedAt: (number | undefined)[];
  /** When each target connected again. */
  upAt: (number | undefined)[];
  server: { up: boolean };
}

/** `n` targets, connected, then the server goes down at 0: each loses its connection and has an operation waiting. */
async function fleet(n: number, over: Partial<ReconnectPolicy> = {}): Promise<Fleet> {
  const clock = createFakeClock(0);
  const random = seeded(26);
  const server = { up: true };
  const connects: Fleet['connects'] = [];
  const servedAt: Fleet['servedAt'] = [];
  const upAt: Fleet['upAt'] = [];
  const p = policy(over);
  const targets = Array.from({ length: n }, (_, i) => {
    const r = new Reconnector({
      policy: p,
      clock,
      random,
      connect: () => {
        return server.up ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'));
      },
      delay: (attempt) => Math.round(random() * Math.min(p.backoff.base * 2 ** (attempt - 1), p.backoff.max)),
    });
    r.on('attempt', (e) => connects.push({ at: clock.now(), target: i, onDemand: e.onDemand }));
    r.on('reconnect', () => (upAt[i] = clock.now()));
    return r;
  });
  for (const r of targets) r.start();
  await clock.advanceAsync(0);
  server.up = false;
  connects.length = 0;
  targets.forEach((r, i) => {
    r.lost(new Error('down'));
    void r.whenConnected().then(() => (servedAt[i] = clock.now()));
  });
  return { clock, targets, connects, servedAt, upAt, server };
}

/** Operations arrive at every target every `everyMs` (each target at its own offset) for `ms`. */
async function traffic(f: Fleet, ms: number, everyMs: number): Promise<void> {
  const step = 10;
  for (let t = 0; t < ms; t += step) {
    f.targets.forEach((r, i) => {
      if ((t + i * 37) % everyMs < step) r.nudge();
    });
    await f.clock.advanceAsync(step);
  }
}

/** The most connects started within one 100 ms bin, from `from` on. */
function peakPer100ms(f: Fleet, from: number): number {
  const bins = new Map<number, number>();
  for (const c of f.connects)
    if (c.at >= from)
      bins.set(Math.floor((c.at - from) / 100), (bins.get(Math.floor((c.at - from) / 100)) ?? 0) + 1);
  return Math.max(0, ...bins.values());
}

describe('a fleet of reconnectors after an outage', () => {
  it('a long outage: callers arriving in step do not bring the fleet back as one wall', async () => {
    // 200 targets, callers every second during the first 20 s, then all waiting; the server returns at 30 s
    // and every target's callers send their next operations within the same 200 ms (the waits that timed out).
    const f = await fleet(200);
    await traffic(f, 20_000, 1000);
    await f.clock.advanceAsync(10_000);
    f.server.up = true;
    const back = f.clock.now();
    await traffic(f, 200, 100);
    await f.clock.advanceAsync(5000);
    // Spread over the window 30 s down gives (5 s, the ceiling): a few per 100 ms, not 200 (at one minProbeGap
    // they came in the same 200 ms: peak 200).
    expect(peakPer100ms(f, back)).toBeLessThanOrEqual(20);
    const upAfter = f.upAt.map((t) => (t ?? Infinity) - back);
    expect(Math.max(...upAfter)).toBeLessThanOrEqual(5200); // within the window, far within the 30 s cap
    expect(upAfter.filter((t) => t <= 1000).length).toBeLessThan(120); // spread, not all early
    // Each waiting operation was let go the moment its target connected.
    expect(f.servedAt).toEqual(f.upAt);
  });

  it('a fleet dropped again 2 s after it came back from a long outage keeps its time down: still spread, not one wall', async () => {
    const f = await fleet(200);
    await traffic(f, 20_000, 1000);
    await f.clock.advanceAsync(10_000);
    f.server.up = true;
    await traffic(f, 7000, 1000);
    expect(f.targets.every((r) => r.isConnected())).toBe(true);
    // The server goes again (a second restart) 2 s after the last target came back, for 1 s.
    f.server.up = false;
    f.targets.forEach((r) => r.lost(new Error('down again')));
    await traffic(f, 1000, 1000);
    f.server.up = true;
    const back = f.clock.now();
    await traffic(f, 200, 100);
    await f.clock.advanceAsync(5000);
    // Counted from zero, the second loss was a blip: the callers' on-demand attempts all within one minProbeGap of
    // the return (peak 200, 185 of them on demand). Carried over (24–33 s down at once), their window is 3.8–5 s and
    // what is left is the backoff schedule's own jittered attempts (27 at most per 100 ms, with this seed).
    expect(peakPer100ms(f, back)).toBeLessThanOrEqual(40);
    expect(peakPer100ms({ ...f, connects: f.connects.filter((c) => c.onDemand) }, back)).toBeLessThanOrEqual(
      5,
    );
    const upAfter = f.upAt.map((t) => (t ?? -Infinity) - back);
    expect(Math.min(...upAfter)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...upAfter)).toBeLessThanOrEqual(5200);
  });

  it('a fleet that held up as long as it had been down starts its next time down at zero: a blip recovers at once', async () => {
    const f = await fleet(200);
    await traffic(f, 20_000, 1000);
    await f.clock.advanceAsync(10_000);
    f.server.up = true;
    await traffic(f, 7000, 1000);
    await f.clock.advanceAsync(30_000);
    f.server.up = false;
    f.targets.forEach((r) => r.lost(new Error('down again')));
    await traffic(f, 900, 50);
    f.server.up = true;
    const back = f.clock.now();
    await traffic(f, 150, 50);
    expect(Math.max(...f.upAt.map((t) => (t ?? Infinity) - back))).toBeLessThanOrEqual(100);
  });

  it('a blip (under ten minProbeGaps) recovers as before: every target within one minProbeGap of the return', async () => {
    const f = await fleet(200);
    await traffic(f, 900, 50);
    f.server.up = true;
    const back = f.clock.now();
    await traffic(f, 150, 50);
    expect(Math.max(...f.upAt.map((t) => (t ?? Infinity) - back))).toBeLessThanOrEqual(100);
    expect(f.servedAt).toEqual(f.upAt);
  });

  it('a short outage (1 s, 2 s) recovers within a fifth of the time down past 1 s (or one minProbeGap), plus the wait for an operation to ask', async () => {
    for (const down of [1000, 2000]) {
      const f = await fleet(200);
      await traffic(f, down, 50);
      f.server.up = true;
      const back = f.clock.now();
      await traffic(f, 300, 50);
      const upAfter = f.upAt.map((t) => (t ?? Infinity) - back);
      // Past a blip an attempt is drawn when an operation asks: at worst one operation's interval (50 ms) later.
      for (const t of upAfter) expect(t).toBeLessThanOrEqual(Math.max(100, (down + t - 1000) / 5) + 50);
      expect(f.servedAt).toEqual(f.upAt);
    }
  });

  it('under steady traffic, one target’s on-demand attempts space out with the time down, jittered and capped', async () => {
    // One target, an operation every 10 ms for 120 s down: attempts at least half a fifth of the time down past
    // the 5 s grace apart (and minProbeGap), at most the 5 s ceiling (plus the traffic's 10 ms grid).
    for (const [max, ceiling] of [
      [30_000, 5000],
      [1000, 1000],
    ] as const) {
      const f = await fleet(1, {
        backoff: { type: 'exponential', base: 500, factor: 2, max, jitter: 'full' },
      });
      await traffic(f, 120_000, 10);
      // Each on-demand attempt, and the attempt (of either kind) before it.
      const gaps = f.connects.slice(1).flatMap((c, i) => {
        const from = f.connects[i]!.at;
        return c.onDemand ? [{ at: from, gap: c.at - from }] : [];
      });
      expect(gaps.length).toBeGreaterThan(40);
      for (const { at: from, gap } of gaps) {
        expect(gap).toBeGreaterThanOrEqual(Math.max(100, Math.min((from - 5000) / 5, ceiling) / 2) - 1);
        expect(gap).toBeLessThanOrEqual(ceiling + 10);
      }
      const late = gaps.filter((g) => g.at > 60_000).map((g) => g.gap);
      expect(Math.min(...late)).toBeGreaterThanOrEqual(ceiling / 2 - 1);
      // Jittered: the gaps of the last minute are not all alike.
      expect(new Set(late).size).toBeGreaterThan(late.length / 2);
      f.server.up = true;
      await traffic(f, ceiling + 100, 10);
      expect(f.targets[0]!.status).toBe('connected');
    }
  });
});
