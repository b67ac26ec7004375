import { describe, expect, it } from 'vitest';
import type { HealthCheckPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import {
  HealthChecker,
  initialHealth,
  nextProbeDelay,
  recordOutcome,
  worstCaseDetectionMs,
} from './health-checker.js';

const policy = (over: Partial<HealthCheckPolicy> = {}): HealthCheckPolicy => ({
  enabled: true,
  interval: 10_000,
  timeout: 3000,
  jitter: 0.1,
  failureThreshold: 3,
  successThreshold: 2,
  ...over,
});

describe('recordOutcome', () => {
  it('goes down after failureThreshold consecutive failures and up after successThreshold successes', () => {
    const p = policy();
    let c = initialHealth;
    c = recordOutcome(c, false, p);
    c = recordOutcome(c, false, p);
    expect(c.healthy).toBe(true);
    c = recordOutcome(c, true, p); // breaks the streak
    c = recordOutcome(c, false, p);
    c = recordOutcome(c, false, p);
    expect(c.healthy).toBe(true);
    c = recordOutcome(c, false, p);
    expect(c).toEqual({ healthy: false, failures: 3, successes: 0 });
    c = recordOutcome(c, true, p);
    expect(c.healthy).toBe(false);
    c = recordOutcome(c, true, p);
    expect(c).toEqual({ healthy: true, failures: 0, successes: 2 });
  });
});

describe('nextProbeDelay', () => {
  it('stays within interval ± jitter and reaches both ends', () => {
    const p = policy({ interval: 10_000, jitter: 0.1 });
    expect(nextProbeDelay(p, () => 0)).toBe(9000);
    expect(nextProbeDelay(p, () => 0.999999)).toBeCloseTo(11_000, 0);
    expect(nextProbeDelay(p, () => 0.5)).toBe(10_000);
    for (let i = 0; i < 1000; i++) {
      const d = nextProbeDelay(p, Math.random);
      expect(d).toBeGreaterThanOrEqual(9000);
      expect(d).toBeLessThanOrEqual(11_000);
    }
    expect(nextProbeDelay(policy({ jitter: 0 }), () => 0.7)).toBe(10_000);
  });
});

describe('HealthChecker', () => {
  it('probes every interval (with jitter) and declares down after the threshold', async () => {
    const clock = createFakeClock(0);
    const probeTimes: number[] = [];
    let fail = false;
    const checker = new HealthChecker({
      policy: policy({ jitter: 0.1, failureThreshold: 2, successThreshold: 1 }),
      clock,
      random: () => 0, // always the low end: 9000 ms
      probe: () => {
        probeTimes.push(clock.now());
        return fail ? Promise.reject(new Error('down')) : Promise.resolve();
      },
    });
    const verdicts: string[] = [];
    checker.on('down', () => verdicts.push('down'));
    checker.on('up', () => verdicts.push('up'));
    checker.start();
    await clock.advanceAsync(18_000);
    expect(probeTimes).toEqual([9000, 18_000]);
    fail = true;
    await clock.advanceAsync(18_000);
    expect(verdicts).toEqual(['down']);
    fail = false;
    await clock.advanceAsync(9000);
    expect(verdicts).toEqual(['down', 'up']);
    checker.stop();
    expect(clock.pending()).toBe(0);
  });

  it('confirms a failed probe at once: an idle hung server is down within interval + threshold × timeout', async () => {
    const clock = createFakeClock(0);
    const probeTimes: number[] = [];
    const checker = new HealthChecker({
      policy: policy({ interval: 300, timeout: 200, jitter: 0, failureThreshold: 2, successThreshold: 1 }),
      clock,
      probe: () => {
        probeTimes.push(clock.now());
        return new Promise(() => {}); // a SIGSTOPped server: no answer, ever
      },
    });
    let downAt: number | undefined;
    checker.on('down', () => (downAt = clock.now()));
    checker.start();
    await clock.advanceAsync(1000);
    // First probe at the interval, times out at 500; the confirming probe starts at once and times out at 700.
    expect(probeTimes.slice(0, 2)).toEqual([300, 500]);
    expect(downAt).toBe(700);
    // The formula explain and the presets quote is this very bound.
    expect(worstCaseDetectionMs({ interval: 300, jitter: 0, timeout: 200, failureThreshold: 2 })).toBe(700);
    checker.stop();
    expect(clock.pending()).toBe(0);
  });

  it('goes back to the interval after a failed probe is followed by a success', async () => {
    const clock = createFakeClock(0);
    const probeTimes: number[] = [];
    let fail = true;
    const checker = new HealthChecker({
      policy: policy({ interval: 1000, timeout: 100, jitter: 0, failureThreshold: 3, successThreshold: 1 }),
      clock,
      probe: () => {
        probeTimes.push(clock.now());
        const result = fail ? Promise.reject(new Error('blip')) : Promise.resolve();
        fail = false;
        return result;
      },
    });
    checker.start();
    await clock.advanceAsync(3000);
    expect(probeTimes).toEqual([1000, 1000, 2000, 3000]);
    expect(checker.healthy).toBe(true);
    checker.stop();
  });

  it('aborts a hanging probe at timeout and counts it as a failure', async () => {
    const clock = createFakeClock(0);
    let seen: AbortSignal | undefined;
    const checker = new HealthChecker({
      policy: policy({ timeout: 500, failureThreshold: 1 }),
      clock,
      probe: (signal) => {
        seen = signal;
        return new Promise(() => {}); // ignores the signal: the checker must still give up
      },
    });
    const result = checker.check();
    await clock.advanceAsync(500);
    const r = await result;
    expect(r.ok).toBe(false);
    expect(r.durationMs).toBe(500);
    expect(seen?.aborted).toBe(true);
    expect(checker.healthy).toBe(false);
  });

  it('passive outcomes feed the same counters', () => {
    const checker = new HealthChecker({
      policy: policy({ failureThreshold: 3 }),
      probe: () => Promise.resolve(),
    });
    const downs: unknown[] = [];
    checker.on('down', (e) => downs.push(e.error));
    checker.record(false, 'e1');
    checker.record(false, 'e2');
    checker.record(false, 'e3');
    expect(downs).toEqual(['e3']);
  });

  it('does nothing when disabled', async () => {
    const clock = createFakeClock(0);
    let probes = 0;
    const checker = new HealthChecker({
      policy: policy({ enabled: false }),
      clock,
      probe: () => {
        probes++;
        return Promise.resolve();
      },
    });
    checker.start();
    await clock.advanceAsync(100_000);
    expect(probes).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
