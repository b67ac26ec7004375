import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../time/fake-clock.js';
import { breakerPolicy, FakeDriverError, retryPolicy, testExecutor } from '../../test/engine/helpers.js';
import { CircuitBreaker } from './breaker/circuit-breaker.js';

// A write refused by a read-only node (Redis READONLY, MySQL 1290 after a failover or with read_only on) comes from a
// server that is up and answering: the breaker must not open on it, or the target's reads would be refused too
// (the fault matrix's `readonly` cell: the breaker opened on 1290 refusals and failed reads the server would serve).
describe('a read-only node’s refusal and the breaker', () => {
  it('counts as the server answering, not as a failure: reads keep going through', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 2 }), clock);
    const { executor } = testExecutor({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
    const readOnly = () =>
      Promise.reject(new FakeDriverError('transient', { code: 'READONLY', sent: false, readOnlyNode: true }));
    for (let i = 0; i < 5; i++) await executor.execute(readOnly).catch(() => {});
    expect(breaker.state).toBe('closed');
    await expect(executor.execute(() => 'read', { idempotent: true })).resolves.toBe('read');
  });

  it('the same refusal without the flag is a health failure: two open the breaker (the contrast)', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 2 }), clock);
    const { executor } = testExecutor({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
    const busy = () => Promise.reject(new FakeDriverError('transient', { code: 'LOADING', sent: false }));
    for (let i = 0; i < 2; i++) await executor.execute(busy).catch(() => {});
    expect(breaker.state).toBe('open');
  });
});
