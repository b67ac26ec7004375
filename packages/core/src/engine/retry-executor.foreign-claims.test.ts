// What an error thrown by the operation says about itself is about its own call, not this operation's: a
// Reconnect error claiming `not_sent` (another target's open breaker) makes a non-idempotent operation's outcome
// unknown only when the driver did not itself say "not sent"; an idempotent one, a non-Reconnect error with an
// `outcome` field and a Reconnect error claiming anything else are rethrown as they are; and `retryable: false`
// on such an error does not stop a retry the driver's classification allows.
import { describe, expect, it } from 'vitest';
import type { Classification } from '../error-kinds.js';
import {
  BreakerOpenError,
  NotConnectedError,
  OutcomeUnknownError,
  isOutcomeUnknownError,
} from '../errors.js';
import { classify, retryPolicy, testExecutor } from '../../test/engine/helpers.js';
import type { RetryExecutor } from './retry-executor.js';

// Retries without a wait: nothing here is about time.
const executorWith = (classifyAs: (error: unknown) => Classification = classify) =>
  testExecutor({ policy: retryPolicy({ maxRetries: 2, delay: () => 0 }), classify: classifyAs }).executor;

/** Runs an operation that throws `error` on its first call; what execute() rejected with, and how many calls. */
async function thrownOnce(
  executor: RetryExecutor<string>,
  error: unknown,
  idempotent: boolean,
): Promise<{ error: unknown; calls: number; value?: string }> {
  let calls = 0;
  try {
    const value = await executor.execute(
      async () => {
        await Promise.resolve();
        if (++calls === 1) throw error;
        return 'ok';
      },
      { idempotent },
    );
    return { error: undefined, calls, value };
  } catch (e) {
    return { error: e, calls };
  }
}

describe("RetryExecutor: another call's not_sent claim", () => {
  it('a non-idempotent write that then met an open breaker elsewhere: outcome unknown', async () => {
    const other = new BreakerOpenError('Circuit breaker of target "cache" is open');
    const { error, calls } = await thrownOnce(executorWith(), other, false);
    expect(isOutcomeUnknownError(error)).toBe(true);
    expect((error as OutcomeUnknownError).cause).toBe(other);
    expect(calls).toBe(1);
  });

  it('an idempotent operation: the claim is rethrown as it is (nothing to be unsure about)', async () => {
    const other = new BreakerOpenError();
    const { error, calls } = await thrownOnce(executorWith(), other, true);
    expect(error).toBe(other);
    expect(calls).toBe(1);
  });

  it('a non-idempotent one the driver itself classifies as not sent: rethrown as it is', async () => {
    const other = new BreakerOpenError();
    const notSent = (e: unknown): Classification =>
      e === other ? { kind: 'fatal', sent: false } : classify(e);
    const { error, calls } = await thrownOnce(executorWith(notSent), other, false);
    expect(error).toBe(other);
    expect(calls).toBe(1);
  });

  it('a Reconnect error that claims anything but not_sent: rethrown as it is', async () => {
    const unknown = new OutcomeUnknownError('from another target');
    const { error } = await thrownOnce(executorWith(), unknown, false);
    expect(error).toBe(unknown);
  });

  it("a driver error with an outcome field is no claim (only Reconnect's errors make one): rethrown as it is", async () => {
    const foreign = Object.assign(new Error('some library'), { outcome: 'not_sent' });
    const { error } = await thrownOnce(executorWith(), foreign, false);
    expect(error).toBe(foreign);
  });
});

describe("RetryExecutor: another call's retryable: false", () => {
  it('does not stop a retry the driver classifies as retryable (it was not this source refusing)', async () => {
    const failFast = new NotConnectedError('cache is reconnecting', { retryable: false });
    const asConnection = (e: unknown): Classification =>
      e === failFast ? { kind: 'connection' } : classify(e);
    const { error, calls, value } = await thrownOnce(executorWith(asConnection), failFast, true);
    expect(error).toBeUndefined();
    expect(value).toBe('ok');
    expect(calls).toBe(2);
  });
});
