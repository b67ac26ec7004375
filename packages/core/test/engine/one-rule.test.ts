// The executor's half of "one rule for every outage" (issue #15): an open breaker is not asked while the source
// says it is reconnecting (the source's whileReconnecting rule decides), and a source's fail-fast refusal
// (`retryable: false`) reaches the caller at once, unretried.
import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  createFakeClock,
  isBreakerOpenError,
  isNotConnectedError,
  NotConnectedError,
  RetryExecutor,
} from '../../src/index.js';
import { breakerPolicy, classify, FakeDriverError, FakeSource, retryPolicy } from './helpers.js';

class ReconnectingSource extends FakeSource {
  up = true;
  connected(): boolean {
    return this.up;
  }
}

async function openBreaker() {
  const clock = createFakeClock();
  const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 30_000 }), clock);
  const source = new ReconnectingSource();
  const executor = new RetryExecutor<string>({
    target: 't',
    system: 'fake',
    policy: retryPolicy({ maxRetries: 3 }),
    classify,
    source,
    breaker,
    clock,
  });
  await executor
    .execute(() => Promise.reject(new FakeDriverError('connection')), { idempotent: true, deadline: 50 })
    .catch(() => undefined);
  expect(breaker.state).toBe('open');
  return { clock, breaker, source, executor };
}

describe('the breaker guards a server believed up', () => {
  it('with the source up, an open breaker fails the operation fast', async () => {
    const { executor, source } = await openBreaker();
    source.requests.length = 0;
    const error = await executor.execute(() => 'ok', { idempotent: true }).catch((e: unknown) => e);
    expect(isBreakerOpenError(error)).toBe(true);
    expect(source.requests).toHaveLength(0);
  });

  it('with the source reconnecting, the breaker is not asked: acquire decides, and the operation runs', async () => {
    const { executor, source, breaker } = await openBreaker();
    source.up = false;
    source.requests.length = 0;
    await expect(executor.execute(() => 'ok', { idempotent: true })).resolves.toBe('ok');
    expect(source.requests).toHaveLength(1);
    expect(breaker.state).toBe('open'); // not moved to half-open by a call it never saw
  });

  it('a fail-fast refusal from acquire (retryable: false) is thrown as it is, after one attempt', async () => {
    const { executor, source } = await openBreaker();
    source.up = false;
    source.requests.length = 0;
    const refusal = new NotConnectedError('Target "t" is not connected: it is reconnecting', {
      kind: 'connection',
      retryable: false,
    });
    source.acquireErrors = [refusal, refusal, refusal];
    const error = await executor.execute(() => 'ok', { idempotent: true }).catch((e: unknown) => e);
    expect(error).toBe(refusal);
    expect(isNotConnectedError(error)).toBe(true);
    expect(source.requests).toHaveLength(1);
  });

  it('an ordinary not-connected failure from acquire is still retried', async () => {
    const clock = createFakeClock();
    const source = new FakeSource();
    source.acquireErrors = [new NotConnectedError('down', { kind: 'connection' })];
    const executor = new RetryExecutor<string>({
      target: 't',
      system: 'fake',
      policy: retryPolicy({ maxRetries: 3 }),
      classify,
      source,
      clock,
    });
    const done = executor.execute(() => 'ok', { idempotent: true });
    await clock.advanceAsync(100);
    await expect(done).resolves.toBe('ok');
    expect(source.requests).toHaveLength(2);
  });
});
