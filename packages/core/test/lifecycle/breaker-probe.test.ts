// A server that answers its health probes while its operations fail (a table locked, a slow spell) opens the
// breaker; once the lock is gone, operations should not keep failing fast for the rest of openFor. Found by the
// fault matrix (docs/faults.md, MariaDB `table-locked`): preset:mysql's breaker opened during a 3 s lock and every
// operation failed for 30 s after it, though every probe passed. A passing probe a probe interval after the breaker
// opened now lets a trial call through.
import { describe, expect, it } from 'vitest';
import { createFakeClock, isBreakerOpenError, type PolicyInput } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from './memory-driver.js';

const policy: PolicyInput = {
  retry: { maxRetries: 0, attemptTimeout: 500, deadline: 1000, budget: { enabled: false } },
  healthCheck: { interval: 1000, timeout: 200, jitter: 0 },
  circuitBreaker: { enabled: true, failureThreshold: 2, openFor: 30_000 },
};

describe('a passing health probe lets an open breaker try again', () => {
  it('operations failing on a server that answers: open, then a trial a probe interval later, closed by its success', async () => {
    const clock = createFakeClock(0);
    const { driver } = createMemoryDriver();
    const target = createTarget({ name: 'db', driver, options: {}, policy, clock });
    const started = target.start();
    await clock.advanceAsync(0);
    await started;
    const breaker: string[] = [];
    target.on('breakerStateChange', (e) => breaker.push(e.to));
    let locked = true;
    const op = (c: MemoryClient) =>
      locked ? Promise.reject(new MemoryError('Lock wait timeout exceeded', 'transient')) : c.query('q');
    const run = async () => {
      const p = target.execute(op, { idempotent: true }).catch((e: unknown) => e);
      await clock.advanceAsync(0);
      return p;
    };
    await run();
    await run();
    expect(breaker).toEqual(['open']);
    expect(target.isConnected()).toBe(true); // the server answered: not down
    locked = false;
    expect(isBreakerOpenError(await run())).toBe(true); // refused: openFor is 30 s
    await clock.advanceAsync(1000); // the next probe passes
    expect(breaker).toEqual(['open', 'half-open']);
    expect(await run()).toBe('q@single'); // the trial call, long before openFor ended
    expect(breaker).toEqual(['open', 'half-open', 'closed']);
    await target.stop();
  });
});
