// A real operation's failure is a suspicion the health checker confirms with a probe at once (not an interval
// later): a crash under traffic is declared within a few refused probes, before a burst of failing operations
// can open the breaker while the target still believes its server is up.
import { describe, expect, it } from 'vitest';
import { HealthChecker } from '../../src/lifecycle/health/health-checker.js';
import type { HealthCheckPolicy } from '../../src/policy/resolved.js';
import { createFakeClock } from '../../src/time/fake-clock.js';

const policy: HealthCheckPolicy = {
  enabled: true,
  interval: 10_000,
  timeout: 1000,
  jitter: 0,
  failureThreshold: 3,
  successThreshold: 1,
};

describe('passive failures are confirmed by probes at once', () => {
  it('one failed operation on a healthy target starts a probe now; refused probes declare it down in ms', async () => {
    const clock = createFakeClock(0);
    const probes: number[] = [];
    const checker = new HealthChecker({
      policy,
      clock,
      probe: () => {
        probes.push(clock.now());
        return Promise.reject(new Error('ECONNREFUSED'));
      },
    });
    const downs: number[] = [];
    checker.on('down', () => downs.push(clock.now()));
    checker.start();
    await clock.advanceAsync(5000);
    expect(probes).toEqual([]); // the first periodic probe is 10 s away
    checker.record(false, new Error('ECONNRESET'));
    await clock.advanceAsync(0);
    await clock.advanceAsync(0);
    await clock.advanceAsync(0);
    expect(probes).toEqual([5000, 5000]); // two confirming probes, one after the other, at once
    expect(downs).toEqual([5000]);
    checker.stop();
    expect(clock.pending()).toBe(0);
  });

  it('a failure while a probe is already suspected or running starts no second schedule', async () => {
    const clock = createFakeClock(0);
    let calls = 0;
    const checker = new HealthChecker({ policy, clock, probe: () => (calls++, Promise.resolve()) });
    checker.start();
    checker.record(false);
    checker.record(false); // already suspected: nothing more to schedule
    await clock.advanceAsync(0);
    expect(calls).toBe(1);
    await clock.advanceAsync(9999);
    expect(calls).toBe(1); // healthy again: back on the 10 s interval
    await clock.advanceAsync(1);
    expect(calls).toBe(2);
    checker.stop();
  });
});
