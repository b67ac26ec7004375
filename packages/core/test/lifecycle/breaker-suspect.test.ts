// An open breaker stops operations before they reach the server, so passive health learns nothing more. Found on
// a multi-node Elasticsearch target: with every node down the breaker opened, no attempt ran, the target never
// went down, never reconnected, and every call failed for the whole openFor after the nodes were back. The
// breaker opening now makes the target probe at once, so it is declared down, reconnects, and the reconnect
// closes the breaker.
import { describe, expect, it } from 'vitest';
import { createFakeClock, type PolicyInput } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

const policy: PolicyInput = {
  retry: {
    maxRetries: 0,
    attemptTimeout: 500,
    deadline: 1000,
    budget: { enabled: false },
  },
  healthCheck: { interval: 60_000, timeout: 200, jitter: 0, failureThreshold: 2 },
  reconnect: { backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' }, connectTimeout: 300 },
  circuitBreaker: { enabled: true, failureThreshold: 2, openFor: 30_000 },
  pool: { resurrect: 'optimistic', deadTimeout: 60_000, nodeFailureThreshold: 10 },
};

describe('an open breaker makes the target probe now', () => {
  it('every node down: the breaker opens, the probe declares the target down, and it is back long before openFor', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({ name: 'search', driver, options: { nodes: [9200, 9201] }, policy, clock });
    const started = target.start();
    await clock.advanceAsync(0);
    await started;
    const states: string[] = [];
    target.on('stateChange', (e) => states.push(e.to));
    const breaker: string[] = [];
    target.on('breakerStateChange', (e) => breaker.push(e.to));
    control.downNodes.add('127.0.0.1:9200');
    control.downNodes.add('127.0.0.1:9201');
    for (let i = 0; i < 2; i++) {
      const op = target
        .execute((c: MemoryClient) => c.query('q'), { idempotent: true })
        .catch((e: unknown) => e);
      await clock.advanceAsync(0);
      await op;
    }
    // Two failures open the breaker while the pool still believes both nodes alive (nodeFailureThreshold 10).
    expect(breaker).toEqual(['open']);
    expect(target.isConnected()).toBe(false); // the probes the breaker asked for found every node down
    expect(states).toContain('reconnecting');
    control.downNodes.clear();
    await clock.advanceAsync(1000); // the reconnect backoff, far less than openFor's 30 s
    expect(target.isConnected()).toBe(true);
    expect(breaker).toEqual(['open', 'closed']); // the reconnect closed it
    const op = target.execute((c: MemoryClient) => c.query('q'), { idempotent: true });
    await clock.advanceAsync(0);
    expect(await op).toMatch(/^q@127\.0\.0\.1:920[01]$/);
    await target.stop();
  });
});
