// The health checker over its life: a reload's new policy, stop() in the middle of a probe, probes that overlap,
// and which outcomes make it suspect the server (a probe now) or leave it to the next interval.
import { describe, expect, it } from 'vitest';
import { isAttemptTimeoutError } from '../../errors.js';
import type { HealthCheckPolicy } from '../../policy/resolved.js';
import { createFakeClock, type FakeClock } from '../../time/fake-clock.js';
import { HealthChecker, initialHealth, type ProbeResult } from './health-checker.js';

const policy = (over: Partial<HealthCheckPolicy> = {}): HealthCheckPolicy => ({
  ...{ enabled: true, interval: 10_000, timeout: 1000, jitter: 0 },
  ...{ failureThreshold: 3, successThreshold: 1 },
  ...over,
});

/** A checker whose probes the test settles by hand (`answer`), recording when each one started. */
function manual(clock: FakeClock, p: HealthCheckPolicy) {
  const started: number[] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const checker = new HealthChecker({
    policy: p,
    clock,
    probe: () => {
      started.push(clock.now());
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
  });
  const probes: ProbeResult[] = [];
  checker.on('probe', (r) => probes.push(r));
  return { checker, started, pending, probes };
}

describe('HealthChecker.setPolicy (a reload)', () => {
  it('a probe waiting for its timer is rescheduled on the new interval, from now', async () => {
    const clock = createFakeClock(0);
    const started: number[] = [];
    const probe = () => (started.push(clock.now()), Promise.resolve());
    const checker = new HealthChecker({ policy: policy(), clock, probe });
    checker.start();
    await clock.advanceAsync(2000);
    checker.setPolicy(policy({ interval: 1000 }));
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(9000);
    expect(started).toEqual([3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000, 11_000]);
    checker.stop();
    expect(clock.pending()).toBe(0);
  });

  it('before start() a new policy schedules nothing', async () => {
    const clock = createFakeClock(0);
    const { checker, started } = manual(clock, policy({ enabled: false }));
    checker.setPolicy(policy({ interval: 100 }));
    expect(clock.pending()).toBe(0);
    checker.suspect();
    await clock.advanceAsync(1000);
    expect(started).toEqual([]);
  });

  it('a probe in flight finishes first; the next one follows the new policy', async () => {
    const clock = createFakeClock(0);
    const { checker, started, pending } = manual(clock, policy({ interval: 1000, timeout: 900 }));
    checker.start();
    await clock.advanceAsync(1000);
    expect(started).toEqual([1000]);
    checker.setPolicy(policy({ interval: 3000, timeout: 900 }));
    expect(clock.pending()).toBe(1); // only the probe's own timeout
    pending.shift()!.resolve();
    await clock.advanceAsync(3000);
    expect(started).toEqual([1000, 4000]);
    checker.stop();
  });

  it('enabling probing on a running checker starts it now; disabling stops the waiting probe', async () => {
    const clock = createFakeClock(0);
    const { checker, started, pending } = manual(clock, policy({ enabled: false, interval: 500 }));
    checker.start();
    expect(clock.pending()).toBe(0);
    checker.setPolicy(policy({ interval: 500 }));
    await clock.advanceAsync(500);
    expect(started).toEqual([500]);
    pending.shift()!.resolve();
    await clock.advanceAsync(0);
    expect(clock.pending()).toBe(1);
    checker.setPolicy(policy({ enabled: false, interval: 500 }));
    expect(clock.pending()).toBe(0);
    await clock.advanceAsync(5000);
    expect(started).toEqual([500]);
  });

  it('a probe run by hand leaves nothing in flight: a later policy can schedule the next', async () => {
    const clock = createFakeClock(0);
    const { checker, started, pending } = manual(clock, policy({ enabled: false, interval: 700 }));
    checker.start();
    const done = checker.check();
    pending.shift()!.resolve();
    await done;
    checker.setPolicy(policy({ interval: 700 }));
    await clock.advanceAsync(700);
    expect(started).toEqual([0, 700]);
    checker.stop();
  });
});

describe('HealthChecker.stop and overlapping probes', () => {
  it('a probe cut by stop() says nothing about the server: no probe event, counters untouched', async () => {
    const clock = createFakeClock(0);
    const { checker, probes } = manual(clock, policy({ failureThreshold: 1 }));
    const downs: unknown[] = [];
    checker.on('down', (e) => downs.push(e));
    checker.start();
    const result = checker.check();
    checker.stop();
    const r = await result;
    expect(r.ok).toBe(false);
    expect((r.error as Error).message).toBe('Health checker stopped');
    expect(probes).toEqual([]);
    expect(downs).toEqual([]);
    expect(checker.counters).toBe(initialHealth);
  });

  it('stop() aborts the probe in flight even when an earlier overlapping one finished after it started', async () => {
    const clock = createFakeClock(0);
    const { checker, pending, probes } = manual(clock, policy());
    const first = checker.check();
    const second = checker.check();
    pending[0]!.resolve();
    await first;
    expect(probes).toHaveLength(1);
    checker.stop();
    pending[1]!.resolve();
    expect((await second).error).toMatchObject({ message: 'Health checker stopped' });
    expect(probes).toHaveLength(1);
  });

  it('times each probe on the clock: a success and a time-out with their durations and error', async () => {
    const clock = createFakeClock(50_000);
    const { checker, pending } = manual(clock, policy({ timeout: 800 }));
    const ok = checker.check();
    await clock.advanceAsync(120);
    pending.shift()!.resolve();
    expect(await ok).toEqual({ ok: true, durationMs: 120, error: undefined });
    const slow = checker.check();
    await clock.advanceAsync(800);
    const r = await slow;
    expect(r).toMatchObject({ ok: false, durationMs: 800 });
    expect(isAttemptTimeoutError(r.error)).toBe(true);
  });
});

describe('HealthChecker.record: what makes it probe now', () => {
  it('a success on a healthy, clean counter changes nothing', () => {
    const checker = new HealthChecker({ policy: policy(), probe: () => Promise.resolve() });
    checker.record(true);
    expect(checker.counters).toBe(initialHealth);
  });

  it('outcomes of a target that is down wait for the next interval: no probe at once', async () => {
    const clock = createFakeClock(0);
    const { checker, started, pending } = manual(
      clock,
      policy({ interval: 5000, failureThreshold: 1, successThreshold: 3 }),
    );
    checker.start();
    checker.record(false, new Error('reset')); // down
    expect(checker.healthy).toBe(false);
    await clock.advanceAsync(100);
    checker.record(false);
    checker.record(true); // one of three successes: still down, failures 0
    checker.record(true);
    checker.record(false);
    await clock.advanceAsync(100);
    expect(started).toEqual([]);
    await clock.advanceAsync(4800);
    expect(started).toEqual([5000]);
    pending.shift()!.resolve();
    checker.stop();
  });
});
