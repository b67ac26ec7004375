// The executor exposes the retry policy it runs with (part of its public surface, for whoever holds one).
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../time/fake-clock.js';
import { classify, FakeSource, retryPolicy } from '../../test/engine/helpers.js';
import { RetryExecutor } from './retry-executor.js';

describe('RetryExecutor.policy', () => {
  it('is the policy it was built with', () => {
    const policy = retryPolicy({ maxRetries: 7 });
    const executor = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy,
      classify,
      source: new FakeSource(),
      clock: createFakeClock(),
    });
    expect(executor.policy).toBe(policy);
  });
});
