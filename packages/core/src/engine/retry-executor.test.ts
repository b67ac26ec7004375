import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AttemptTimeoutError,
  BreakerOpenError,
  ConfigError,
  DeadlineExceededError,
  NoNodeAvailableError,
  NotConnectedError,
  NotRetryableError,
  OutcomeUnknownError,
  RetriesExhaustedError,
  isAbortedError,
  isBreakerOpenError,
  isBudgetExhaustedError,
  isDeadlineExceededError,
  isOutcomeUnknownError,
  isRetriesExhaustedError,
} from '../errors.js';
import { createFakeClock } from '../time/fake-clock.js';
import {
  breakerPolicy,
  budgetPolicy,
  FakeDriverError,
  FakeSource,
  flush,
  nodes,
  retryPolicy,
  track,
  testExecutor,
} from '../../test/engine/helpers.js';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { RetryBudget } from './budget/retry-budget.js';
import type { RetryExecutor } from './retry-executor.js';
import type { AcquireRequest, AttemptContext, Lease } from './types.js';

const setup = testExecutor;

/** An executor whose breaker (threshold 1, open 1 s, one trial call) one failed call has just opened. */
async function trippedBreaker() {
  const clock = createFakeClock();
  const breaker = new CircuitBreaker(
    breakerPolicy({ failureThreshold: 1, openFor: 1000, halfOpenMaxCalls: 1 }),
    clock,
  );
  const { executor } = setup({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
  await executor
    .execute(() => Promise.reject(new FakeDriverError('connection')), { idempotent: true })
    .catch(() => {});
  return { clock, breaker, executor };
}

/** An operation failing with `errors` in turn, then returning 'ok'; counts its calls. */
function scripted(...errors: unknown[]) {
  const calls: AttemptContext[] = [];
  const op = async (_client: string, ctx: AttemptContext): Promise<string> => {
    calls.push(ctx);
    const error = errors[calls.length - 1];
    await Promise.resolve();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { op, calls };
}

describe('RetryExecutor: the deadline caps the backoff wait', () => {
  it('a backoff that would end past the deadline gives up at once with the deadline error, not after the wait', async () => {
    const { executor, clock, giveUps } = setup({
      policy: retryPolicy({
        deadline: 1000,
        backoff: { type: 'fixed', base: 5000, factor: 2, max: 5000, jitter: 'none' },
      }),
    });
    let calls = 0;
    const result = track(
      executor.execute(
        () => {
          calls++;
          return Promise.reject(new FakeDriverError('connection'));
        },
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(0);
    expect(result.done).toBe(true);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect(calls).toBe(1);
    expect(giveUps.map((g) => g.reason)).toEqual(['deadline']);
    expect(clock.now()).toBe(0);
  });
});

describe('RetryExecutor: success path', () => {
  it('attemptTimeout 0 and deadline 0 mean no limit: no timer during the attempt, retries still work', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 0, deadline: 0 }) });
    let release: (v: string) => void = () => {};
    let calls = 0;
    const result = track(
      executor.execute(
        () =>
          ++calls === 1
            ? Promise.reject(new FakeDriverError('connection'))
            : new Promise<string>((r) => (release = r)),
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(100);
    expect(calls).toBe(2);
    expect(clock.pending()).toBe(0); // the second attempt runs with no timer at all
    await clock.advanceAsync(1_000_000);
    expect(result.done).toBe(false);
    release('late');
    await flush();
    expect(result.value).toBe('late');
  });

  it('returns the value of the first attempt, reports it, and leaves no timer', async () => {
    const { executor, clock, source } = setup();
    const { op, calls } = scripted();
    await expect(executor.execute(op, { idempotent: true })).resolves.toBe('ok');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.attempt).toBe(1);
    expect(source.reports).toEqual([{ ok: true, durationMs: 0 }]);
    expect(clock.pending()).toBe(0);
  });

  it('the operation and the source see their interfaces only: no executor internals, no settle callbacks', async () => {
    const { executor, source } = setup();
    const { op, calls } = scripted();
    await executor.execute(op, { idempotent: true });
    const ctx = calls[0]!;
    // Own data: the attempt number, the node to avoid and the node it runs on; the rest are prototype getters.
    expect(Object.keys(ctx).sort()).toEqual(['attempt', 'avoid', 'node']);
    expect(Object.getOwnPropertySymbols(ctx)).toEqual([]);
    for (const name of ['start', 'value', 'error', 'resolve', 'reject', 'host', 'run', 'op']) {
      expect(name in ctx, name).toBe(false);
    }
    expect(ctx.signal.aborted).toBe(false);
    const request = source.requests[0]!;
    expect([request.attempt, request.readOnly, request.avoid]).toEqual([1, false, undefined]);
    expect(request.deadlineAt).toBe(10_000);
  });

  it('ctx.timeoutMs is the limit of this call’s attempt: its own attemptTimeout, or the deadline left, or none', async () => {
    const limitOf = async (
      options: Parameters<RetryExecutor<string>['execute']>[1],
      policy = retryPolicy(),
    ) => {
      const { executor } = setup({ policy });
      const { op, calls } = scripted();
      await executor.execute(op, { idempotent: true, ...options });
      return calls[0]!.timeoutMs;
    };
    expect(await limitOf({})).toBe(1000); // the policy's attempt timeout
    expect(await limitOf({ attemptTimeout: '5s' })).toBe(5000); // longer than the policy's, for this call
    expect(await limitOf({ deadline: 300 })).toBe(300); // the deadline comes first
    expect(await limitOf({}, retryPolicy({ attemptTimeout: 0, deadline: 0 }))).toBe(Number.POSITIVE_INFINITY);

    // A retry gets what is left of the deadline after the first attempt and the 100 ms backoff.
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 0, deadline: 1000 }) });
    const { op, calls } = scripted(new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(100);
    await flush();
    expect(result.value).toBe('ok');
    expect(calls.map((c) => c.timeoutMs)).toEqual([1000, 900]);
  });

  it('ctx.aborted says the attempt was cut short without the signal being read first', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 100, maxRetries: 0 }) });
    let ctx: AttemptContext | undefined;
    const result = track(
      executor.execute((_c, c) => {
        ctx = c;
        return new Promise<string>(() => {});
      }),
    );
    await flush();
    expect(ctx!.aborted).toBe(false);
    await clock.advanceAsync(100);
    await flush();
    expect(result.error).toBeInstanceOf(OutcomeUnknownError);
    expect(ctx!.aborted).toBe(true);
    expect(ctx!.signal.aborted).toBe(true); // made late, already aborted
  });

  it('the acquire request names the context its attempt’s operation will receive (what a driver binds to)', async () => {
    const { executor, source } = setup();
    const { op, calls } = scripted();
    await executor.execute(op, { idempotent: true });
    expect(source.requests[0]!.context).toBe(calls[0]);
  });

  it('accepts synchronous operations and sync values without any timer', async () => {
    const { executor, clock } = setup();
    await expect(executor.execute(() => 42)).resolves.toBe(42);
    expect(clock.pending()).toBe(0);
  });
});

describe('RetryExecutor: retries', () => {
  it('retries retryable failures after the backoff delay, then succeeds', async () => {
    const { executor, clock, retries } = setup();
    const { op, calls } = scripted(new FakeDriverError('connection'), new FakeDriverError('timeout'));
    const result = track(executor.execute(op, { idempotent: true, name: 'GET' }));
    await flush();
    expect(calls).toHaveLength(1);
    await clock.advanceAsync(99);
    expect(calls).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(calls).toHaveLength(2);
    await clock.advanceAsync(100);
    expect(result).toMatchObject({ done: true, value: 'ok' });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.reason, r.operation])).toEqual([
      [1, 100, 'retryable', 'GET'],
      [2, 100, 'retryable', 'GET'],
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('asks the source for a different node than the one that failed (failover)', async () => {
    const source = new FakeSource(nodes);
    const { executor, clock } = setup({ source });
    const { op, calls } = scripted(new FakeDriverError('connection'), new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(source.requests.map((r) => r.avoid?.id)).toEqual([undefined, 'a:1', 'b:2']);
    expect(calls.map((c) => c.node?.id)).toEqual(['a:1', 'b:2', 'a:1']);
  });

  it('reports every attempt to the source with its classification', async () => {
    const { executor, clock, source } = setup();
    const err = new FakeDriverError('connection', { code: 'ECONNRESET' });
    const { op } = scripted(err);
    track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(source.reports).toEqual([
      { ok: false, durationMs: 0, error: err, classification: { kind: 'connection', code: 'ECONNRESET' } },
      { ok: true, durationMs: 0 },
    ]);
  });

  it('retries by native code and HTTP status from retryOn', async () => {
    const { executor, clock } = setup({
      policy: retryPolicy({ retryOn: { errors: [], codes: [1213], statusCodes: [503] } }),
    });
    const { op, calls } = scripted(
      new FakeDriverError('transient', { code: '1213' }),
      new FakeDriverError('transient', { statusCode: 503 }),
    );
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(3);
  });

  it('a server hint (retryAfterMs) is a minimum delay', async () => {
    const { executor, clock, retries } = setup({
      policy: retryPolicy({ retryOn: { errors: ['throttled'], codes: [], statusCodes: [] } }),
    });
    const { op, calls } = scripted(new FakeDriverError('throttled', { retryAfterMs: 2500 }));
    track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(2499);
    expect(calls).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(calls).toHaveLength(2);
    expect(retries[0]!.delayMs).toBe(2500);
  });

  it('a code-defined delay(attempt) replaces the backoff', async () => {
    const seen: number[] = [];
    const { executor, clock, retries } = setup({
      policy: retryPolicy({ delay: (n) => (seen.push(n), n * 10) }),
    });
    const { op } = scripted(new FakeDriverError('connection'), new FakeDriverError('connection'));
    track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(seen).toEqual([1, 2]);
    expect(retries.map((r) => r.delayMs)).toEqual([10, 20]);
  });

  it('retryIf may allow an error retryOn does not list, with the attempt context', async () => {
    const ctxs: unknown[] = [];
    const { executor, clock } = setup({
      policy: retryPolicy({
        retryIf: (_e, ctx) => (ctxs.push([ctx.attempt, ctx.classification.kind, ctx.idempotent]), true),
      }),
    });
    const { op } = scripted(new FakeDriverError('fatal'));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(ctxs).toEqual([[1, 'fatal', true]]);
  });
});

describe('RetryExecutor: give-up reasons', () => {
  it('max_retries: RetriesExhaustedError with every attempt, the last driver error as cause, target set', async () => {
    const { executor, clock, giveUps } = setup({ policy: retryPolicy({ maxRetries: 2 }) });
    const errors = [1, 2, 3].map((i) => new FakeDriverError('connection', {}, `boom ${i}`));
    const { op, calls } = scripted(...errors);
    const result = track(executor.execute(op, { idempotent: true, name: 'op' }));
    await clock.advanceAsync(1000);
    const error = result.error as RetriesExhaustedError;
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toHaveLength(3);
    expect(error.attempts.map((a) => [a.attempt, a.error, a.kind, a.durationMs])).toEqual([
      [1, errors[0], 'connection', 0],
      [2, errors[1], 'connection', 0],
      [3, errors[2], 'connection', 0],
    ]);
    expect(error.cause).toBe(errors[2]);
    expect(error.target).toBe('db');
    expect(error.outcome).toBe('unknown');
    expect(giveUps).toEqual([{ operation: 'op', attempt: 3, reason: 'max_retries', error }]);
    expect(clock.pending()).toBe(0);
  });

  it('maxRetries 0 makes one attempt', async () => {
    const { executor } = setup({ policy: retryPolicy({ maxRetries: 0 }) });
    const { op, calls } = scripted(new FakeDriverError('connection'));
    await expect(executor.execute(op, { idempotent: true })).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toHaveLength(1);
  });

  it('not_retryable on the first attempt: the driver error itself, unchanged', async () => {
    const { executor, giveUps } = setup();
    const sqlError = new FakeDriverError('fatal', { code: 'ER_PARSE_ERROR' });
    const { op, calls } = scripted(sqlError);
    const error = await executor.execute(op, { idempotent: true }).catch((e: unknown) => e);
    expect(error).toBe(sqlError);
    expect(calls).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'not_retryable', attempt: 1, error: sqlError });
  });

  it('not_retryable after retries: NotRetryableError with the driver error as cause', async () => {
    const { executor, clock } = setup();
    const fatal = new FakeDriverError('fatal');
    const { op } = scripted(new FakeDriverError('connection'), fatal);
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.error).toBeInstanceOf(NotRetryableError);
    expect((result.error as NotRetryableError).cause).toBe(fatal);
    expect((result.error as NotRetryableError).target).toBe('db');
    expect((result.error as NotRetryableError).outcome).toBe('unknown');
  });

  it('not_idempotent: a failure that may have reached the server is never repeated', async () => {
    const { executor, giveUps } = setup();
    const lost = new FakeDriverError('connection', { code: 'PROTOCOL_CONNECTION_LOST' });
    const { op, calls } = scripted(lost);
    const error = await executor.execute(op).catch((e: unknown) => e);
    expect(isOutcomeUnknownError(error)).toBe(true);
    expect(error).toMatchObject({ outcome: 'unknown', target: 'db', cause: lost, kind: 'connection' });
    expect(calls).toHaveLength(1);
    expect(giveUps[0]!.reason).toBe('not_idempotent');
  });

  it('a non-idempotent operation is retried when the driver says the request was not sent', async () => {
    const { executor, clock } = setup();
    const { op, calls } = scripted(new FakeDriverError('connection', { sent: false }));
    const result = track(executor.execute(op));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('acquire errors (ReconnectError, not_sent) are retried even for non-idempotent operations', async () => {
    const source = new FakeSource();
    source.acquireErrors = [new NoNodeAvailableError()];
    const { executor, clock } = setup({ source });
    const { op, calls } = scripted();
    const result = track(executor.execute(op));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(1); // the op ran once, after the failed acquire
    expect(source.requests).toHaveLength(2);
    expect(source.reports).toEqual([{ ok: true, durationMs: 0 }]); // no lease, no report for the acquire failure
  });

  it('a ReconnectError thrown by the operation is not trusted: a write that then hits an open breaker runs once, outcome unknown', async () => {
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), createFakeClock());
    const { executor, clock, giveUps } = setup({ breaker });
    const writes: string[] = [];
    // The op writes, then calls another target whose breaker is open (its `outcome: 'not_sent'` is
    // about that other call, not about this write).
    const inner = new BreakerOpenError('Circuit breaker of target "other" is open');
    const result = track(
      executor.execute(async () => {
        writes.push('INSERT');
        await Promise.resolve();
        throw inner;
      }),
    );
    await clock.advanceAsync(10_000);
    expect(writes).toEqual(['INSERT']);
    expect(isOutcomeUnknownError(result.error)).toBe(true);
    expect(result.error).toMatchObject({ outcome: 'unknown', cause: inner, kind: 'unknown', target: 'db' });
    expect(giveUps.map((g) => g.reason)).toEqual(['not_idempotent']);
    expect(breaker.state).toBe('closed'); // another target's open breaker says nothing about this server
  });

  it('a ConfigError thrown by the operation is not retried (the driver cannot classify it)', async () => {
    const { executor, clock, giveUps } = setup();
    const bad = new ConfigError([{ path: ['x'], kind: 'invalid_type', message: 'bad' }]);
    let calls = 0;
    const result = track(
      executor.execute(
        () => {
          calls++;
          throw bad;
        },
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(10_000);
    expect(calls).toBe(1);
    expect(result.error).toBe(bad);
    expect(giveUps.map((g) => g.reason)).toEqual(['not_retryable']);
  });

  it('a ReconnectError thrown by an idempotent operation follows retryOn by its driver kind (unknown)', async () => {
    const { executor, clock } = setup({
      policy: retryPolicy({ retryOn: { errors: ['unknown'], codes: [], statusCodes: [] } }),
    });
    const { op, calls } = scripted(new NoNodeAvailableError());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('an attempt timeout aborts the attempt signal; an op that ignores it still settles at the timeout', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 500 }) });
    const signals: AbortSignal[] = [];
    let calls = 0;
    const op = (_c: string, ctx: AttemptContext): Promise<string> => {
      calls++;
      signals.push(ctx.signal);
      return calls === 1 ? new Promise<string>(() => {}) : Promise.resolve('second');
    };
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(499);
    expect(result.done).toBe(false);
    expect(signals[0]!.aborted).toBe(false);
    await clock.advanceAsync(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(AttemptTimeoutError);
    await clock.advanceAsync(100);
    expect(result.value).toBe('second');
    expect(clock.pending()).toBe(0);
  });

  it('an attempt timeout of a non-idempotent op is outcome unknown (OutcomeUnknownError, cause AttemptTimeoutError)', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 500 }) });
    const result = track(executor.execute(() => new Promise<string>(() => {})));
    await clock.advanceAsync(500);
    expect(result.error).toBeInstanceOf(OutcomeUnknownError);
    expect((result.error as OutcomeUnknownError).cause).toBeInstanceOf(AttemptTimeoutError);
    expect(clock.pending()).toBe(0);
  });

  it('deadline: gives up at once instead of sleeping past a deadline it knows it will miss', async () => {
    const { executor, clock, giveUps } = setup({
      policy: retryPolicy({
        deadline: 3000,
        backoff: { type: 'fixed', base: 5000, factor: 2, max: 5000, jitter: 'none' },
      }),
    });
    const err = new FakeDriverError('connection');
    const { op, calls } = scripted(err);
    const error = await executor.execute(op, { idempotent: true }).catch((e: unknown) => e);
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(error).toMatchObject({ deadlineMs: 3000, cause: err, target: 'db' });
    expect((error as DeadlineExceededError).attempts).toHaveLength(1);
    expect(clock.now()).toBe(0); // never slept
    expect(clock.pending()).toBe(0);
    expect(calls).toHaveLength(1);
    expect(giveUps[0]!.reason).toBe('deadline');
  });

  it('deadline: an attempt running into the deadline is cut at the deadline, not at its own timeout', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ deadline: 1000, attemptTimeout: 10_000 }) });
    let signal: AbortSignal | undefined;
    const result = track(
      executor.execute(
        (_c, ctx) => {
          signal = ctx.signal;
          return new Promise<string>(() => {});
        },
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(999);
    expect(result.done).toBe(false);
    await clock.advanceAsync(1);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect(signal?.reason).toBeInstanceOf(DeadlineExceededError);
    expect(clock.pending()).toBe(0);
  });

  it('per-call deadline and attemptTimeout override the policy (strings accepted); invalid ones throw ConfigError', async () => {
    const { executor, clock } = setup();
    const result = track(
      executor.execute(() => new Promise<string>(() => {}), { idempotent: true, deadline: '250ms' }),
    );
    await clock.advanceAsync(250);
    expect(result.error).toBeInstanceOf(DeadlineExceededError);
    const bad = await executor.execute(() => 1, { deadline: 'soon' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad).toMatchObject({ target: 'db', issues: [{ path: ['deadline'], kind: 'invalid_duration' }] });
  });

  it('aborted: a caller abort during the wait gives up at once with the reason as cause', async () => {
    const { executor, clock, giveUps } = setup();
    const controller = new AbortController();
    const { op, calls } = scripted(new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await clock.advanceAsync(50);
    expect(clock.pending()).toBe(1); // the backoff wait
    const reason = new Error('user left');
    controller.abort(reason);
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect((result.error as AbortedError).cause).toBe(reason);
    expect((result.error as AbortedError).target).toBe('db');
    expect(clock.pending()).toBe(0);
    expect(calls).toHaveLength(1);
    expect(giveUps[0]!.reason).toBe('aborted');
  });

  it('aborted: a caller abort during an attempt aborts the attempt signal and settles at once', async () => {
    const { executor, clock } = setup();
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const result = track(
      executor.execute(
        (_c, ctx) => {
          signal = ctx.signal;
          return new Promise<string>(() => {});
        },
        { idempotent: true, signal: controller.signal },
      ),
    );
    await flush();
    controller.abort('stop');
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe('stop');
    expect(clock.pending()).toBe(0);
  });

  it('aborted: a caller abort of a running non-idempotent operation reports outcome unknown (it may have been sent)', async () => {
    const { executor, clock, giveUps } = setup();
    const controller = new AbortController();
    let calls = 0;
    const result = track(
      executor.execute(
        () => {
          calls++;
          return new Promise<string>(() => {});
        },
        { signal: controller.signal },
      ),
    );
    await flush();
    controller.abort('stop');
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect((result.error as AbortedError).outcome).toBe('unknown');
    expect(calls).toBe(1);
    expect(giveUps.map((g) => g.reason)).toEqual(['aborted']);
    expect(clock.pending()).toBe(0);
  });

  it('aborted: an abort noticed after acquire but before the operation started reports outcome not_sent', async () => {
    const controller = new AbortController();
    class AbortingSource extends FakeSource {
      override acquire(request: AcquireRequest): Lease<string> {
        const lease = super.acquire(request);
        controller.abort('gone'); // the caller leaves while the client is handed over
        return lease;
      }
    }
    const { executor, source } = setup({ source: new AbortingSource() });
    const { op, calls } = scripted();
    const error = await executor.execute(op, { signal: controller.signal }).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect((error as AbortedError).outcome).toBe('not_sent');
    expect(calls).toHaveLength(0);
    // The lease is handed back (the source counts leases in use), saying the caller stopped it before it ran.
    expect(source.reports).toHaveLength(1);
    expect(source.reports[0]).toMatchObject({
      ok: false,
      interrupt: 'aborted',
      classification: { sent: false },
    });
  });

  it('deadline: a deadline found expired after acquire but before the operation started reports outcome not_sent', async () => {
    const clock = createFakeClock();
    class LateSource extends FakeSource {
      override acquire(request: AcquireRequest): Lease<string> {
        const lease = super.acquire(request);
        clock.advance(2000); // the connection arrives after the deadline
        return Promise.resolve(lease) as unknown as Lease<string>;
      }
    }
    const { executor, source } = setup({
      clock,
      source: new LateSource(),
      policy: retryPolicy({ deadline: 1000 }),
    });
    const { op, calls } = scripted();
    const result = track(executor.execute(op));
    await flush();
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect((result.error as DeadlineExceededError).outcome).toBe('not_sent');
    expect(calls).toHaveLength(0);
    // The lease is handed back all the same (a source counts the leases in use: see TargetSource's release pacing).
    expect(source.reports).toHaveLength(1);
    expect(source.reports[0]).toMatchObject({
      ok: false,
      interrupt: 'deadline',
      classification: { sent: false },
    });
  });

  it('aborted: an already-aborted signal never runs the operation', async () => {
    const { executor, source } = setup();
    const { op, calls } = scripted();
    await expect(executor.execute(op, { signal: AbortSignal.abort('no') })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(calls).toHaveLength(0);
    expect(source.requests).toHaveLength(0);
  });

  it('budget_exhausted: a spent budget fails fast with the driver error as cause', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
    const { executor, giveUps } = setup({ budget, clock });
    const err = new FakeDriverError('connection');
    const { op, calls } = scripted(err);
    const error = await executor.execute(op, { idempotent: true }).catch((e: unknown) => e);
    expect(isBudgetExhaustedError(error)).toBe(true);
    expect(error).toMatchObject({ cause: err, target: 'db' });
    expect(calls).toHaveLength(1);
    expect(giveUps[0]!.reason).toBe('budget_exhausted');
  });

  it('budget: operations deposit and retries withdraw', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0.5, minPerSecond: 0 }), clock);
    const { executor } = setup({ budget, clock });
    await executor.execute(() => 1);
    await executor.execute(() => 1);
    expect(budget.available()).toBe(1);
    const { op } = scripted(new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(budget.available()).toBe(0.5); // 3 deposits · 0.5 − 1 retry
  });

  it('budget: a retry that will wait for the reconnect (source not connected) is not charged', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
    const source = new FakeSource();
    let connected = true;
    (source as FakeSource & { connected(): boolean }).connected = () => connected;
    const { executor } = setup({ budget, clock, source });
    const spent = track(
      executor.execute(scripted(new FakeDriverError('connection')).op, { idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(isBudgetExhaustedError(spent.error)).toBe(true); // connected: the retry would be load now
    connected = false;
    const waits = track(
      executor.execute(scripted(new FakeDriverError('connection')).op, { idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(waits.value).toBe('ok');
    expect(budget.available()).toBe(0);
  });

  it('budget: successes earn the floor — no retry before any success, one after a success', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 10 }), clock);
    clock.advance(10_000); // past the starting credit
    const { executor } = setup({ budget, clock });
    const before = track(
      executor.execute(scripted(new FakeDriverError('connection')).op, { idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(isBudgetExhaustedError(before.error)).toBe(true);
    await executor.execute(() => 1); // one success: the floor allows one retry
    const after = track(
      executor.execute(scripted(new FakeDriverError('connection')).op, { idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(after.value).toBe('ok');
  });

  it('budget: every retry withdraws, whatever the error kind (retryIf-allowed fatal, unknown)', async () => {
    for (const kind of ['fatal', 'unknown', 'auth'] as const) {
      const clock = createFakeClock();
      const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
      const { executor, giveUps } = setup({ budget, clock, policy: retryPolicy({ retryIf: () => true }) });
      const err = new FakeDriverError(kind);
      const { op, calls } = scripted(err);
      const result = track(executor.execute(op, { idempotent: true }));
      await clock.advanceAsync(1000);
      expect(isBudgetExhaustedError(result.error)).toBe(true);
      expect(result.error).toMatchObject({ cause: err });
      expect(calls).toHaveLength(1);
      expect(giveUps.map((g) => g.reason)).toEqual(['budget_exhausted']);
    }
  });

  it('budget: a retry after a fatal error allowed by retryIf spends the budget like any other', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0.5, minPerSecond: 0 }), clock);
    const { executor } = setup({ budget, clock, policy: retryPolicy({ retryIf: () => true }) });
    await executor.execute(() => 1);
    expect(budget.available()).toBe(0.5);
    const { op, calls } = scripted(new FakeDriverError('fatal'));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(budget.available()).toBe(0); // 2 deposits · 0.5 − 1 retry
  });

  it('breaker_open: an open breaker fails fast, nothing sent', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    const { executor, source, giveUps } = setup({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
    const { op, calls } = scripted(new FakeDriverError('connection'));
    await expect(executor.execute(op, { idempotent: true })).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(breaker.state).toBe('open');
    const error = await executor.execute(op, { idempotent: true }).catch((e: unknown) => e);
    expect(isBreakerOpenError(error)).toBe(true);
    expect(error).toMatchObject({ outcome: 'not_sent', target: 'db' });
    expect((error as BreakerOpenError).message).toContain('1000 ms');
    expect(calls).toHaveLength(1);
    expect(source.requests).toHaveLength(1);
    expect(giveUps[1]).toMatchObject({ reason: 'breaker_open', attempt: 0 });
  });

  it('breaker_open mid-operation, nothing sent yet: the retry is refused at once with the last driver error as cause', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 30_000 }), clock);
    const { executor } = setup({ breaker, clock });
    const err = new FakeDriverError('connection', { sent: false });
    const { op, calls } = scripted(err);
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(100); // the backoff; the breaker's first trial is 1 s away
    expect(result.error).toBeInstanceOf(BreakerOpenError);
    expect((result.error as BreakerOpenError).cause).toBe(err);
    expect((result.error as BreakerOpenError).outcome).toBe('not_sent');
    expect(calls).toHaveLength(1);
  });

  it('half-open admits halfOpenMaxCalls trial calls; a successful trial closes the breaker', async () => {
    const { clock, breaker, executor } = await trippedBreaker();
    clock.advance(1000);
    let release: (v: string) => void = () => {};
    const trial = track(
      executor.execute(() => new Promise<string>((r) => (release = r)), { idempotent: true }),
    );
    await flush();
    expect(breaker.state).toBe('half-open');
    await expect(executor.execute(() => 'second', { idempotent: true })).rejects.toBeInstanceOf(
      BreakerOpenError,
    );
    release('trial');
    await flush();
    expect(trial.value).toBe('trial');
    expect(breaker.state).toBe('closed');
    await expect(executor.execute(() => 'third')).resolves.toBe('third');
  });

  it('breaker: a caller abort of a running attempt counts as neither failure nor success', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    const { executor } = setup({ breaker, clock });
    const controller = new AbortController();
    const result = track(
      executor.execute(() => new Promise<string>(() => {}), { idempotent: true, signal: controller.signal }),
    );
    await flush();
    controller.abort('stop');
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect(breaker.state).toBe('closed'); // one failure would have opened it
    expect(breaker.snapshot).toEqual({ kind: 'closed', consecutive: 0, buckets: [] });
  });

  it("breaker and passive health: the caller's own deadline cutting an attempt is no verdict; the policy's attempt timeout is", async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    const source = new FakeSource();
    const { executor } = setup({
      breaker,
      clock,
      source,
      policy: retryPolicy({ maxRetries: 0, attemptTimeout: 1000, deadline: 10_000 }),
    });
    // A caller in a hurry: a 100 ms deadline on a slow (not dead) server.
    const hurried = track(
      executor.execute(() => new Promise<string>(() => {}), { idempotent: true, deadline: 100 }),
    );
    await clock.advanceAsync(100);
    expect(isDeadlineExceededError(hurried.error)).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(source.reports).toEqual([
      expect.objectContaining({
        ok: false,
        interrupt: 'deadline',
        classification: expect.objectContaining({ kind: 'timeout' }),
      }),
    ]);
    // The policy's own attempt timeout is a health signal: the breaker counts it, the report says so.
    const timedOut = track(executor.execute(() => new Promise<string>(() => {}), { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(timedOut.error).toBeDefined();
    expect(breaker.state).toBe('open');
    expect(source.reports[1]).toEqual(expect.objectContaining({ ok: false, interrupt: 'timeout' }));
  });

  it('breaker: an aborted half-open trial call frees its slot for the next trial', async () => {
    const { clock, breaker, executor } = await trippedBreaker();
    expect(breaker.state).toBe('open');
    clock.advance(1000);
    const controller = new AbortController();
    const trial = track(
      executor.execute(() => new Promise<string>(() => {}), { idempotent: true, signal: controller.signal }),
    );
    await flush();
    expect(breaker.state).toBe('half-open');
    controller.abort('stop');
    await flush();
    expect(isAbortedError(trial.error)).toBe(true);
    expect(breaker.state).toBe('half-open'); // not open again: the abort is no verdict
    // The one trial slot is free again: the next call is admitted and its success closes the breaker.
    await expect(executor.execute(() => 'next', { idempotent: true })).resolves.toBe('next');
    expect(breaker.state).toBe('closed');
  });

  it('the breaker only counts failures that reflect server health', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    const { executor } = setup({ breaker, clock });
    for (const kind of ['fatal', 'auth'] as const) {
      await executor.execute(() => Promise.reject(new FakeDriverError(kind))).catch(() => {});
    }
    expect(breaker.state).toBe('closed');
    await executor.execute(() => Promise.reject(new FakeDriverError('transient'))).catch(() => {});
    expect(breaker.state).toBe('open');
  });
});

describe('RetryExecutor: listeners', () => {
  /**
   * Runs `body` while capturing what reaches `uncaughtException` (a throwing listener's error is
   * rethrown in a microtask, as TypedEmitter does). Vitest's own handler is set aside meanwhile, so
   * the captured error does not fail the run; it is restored afterwards.
   */
  async function captureUncaught(body: () => Promise<void>): Promise<unknown[]> {
    const caught: unknown[] = [];
    const others = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const onError = (e: unknown): void => void caught.push(e);
    process.on('uncaughtException', onError);
    try {
      await body();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('uncaughtException', onError);
      for (const l of others) process.on('uncaughtException', l);
    }
    return caught;
  }

  it('a throwing retry listener does not change the result, and its error surfaces (not swallowed)', async () => {
    const bug = new Error('listener bug');
    const { executor, clock } = setup({
      events: {
        retry: () => {
          throw bug;
        },
      },
    });
    const { op, calls } = scripted(new FakeDriverError('connection'));
    let result: ReturnType<typeof track<string>> | undefined;
    const caught = await captureUncaught(async () => {
      result = track(executor.execute(op, { idempotent: true }));
      await clock.advanceAsync(1000);
    });
    expect(result?.value).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(caught).toEqual([bug]);
  });

  it('a throwing giveUp listener does not change the error, and its error surfaces (not swallowed)', async () => {
    const bug = new Error('giveUp listener bug');
    const { executor, clock } = setup({
      policy: retryPolicy({ maxRetries: 1 }),
      events: {
        giveUp: () => {
          throw bug;
        },
      },
    });
    const { op } = scripted(new FakeDriverError('connection'), new FakeDriverError('connection'));
    let result: ReturnType<typeof track<string>> | undefined;
    const caught = await captureUncaught(async () => {
      result = track(executor.execute(op, { idempotent: true }));
      await clock.advanceAsync(1000);
    });
    expect(isRetriesExhaustedError(result?.error)).toBe(true);
    expect(caught).toEqual([bug]);
  });
});

describe('RetryExecutor: the caller signal', () => {
  it('a long-lived caller signal keeps no abort listener after operations settle (success, failure, retry)', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 100 }), clock);
    const { executor } = setup({ clock, breaker, policy: retryPolicy({ maxRetries: 1 }) });
    const { signal } = new AbortController();
    const listeners = (): number => getEventListeners(signal, 'abort').length;
    const opts = { idempotent: true, signal };
    for (let i = 0; i < 20; i++) {
      // success: synchronous value, then a promise
      await executor.execute(() => i, opts);
      await executor.execute(async () => Promise.resolve(i), opts);
      // failure on the first attempt (not retryable, rethrown unchanged), sync throw and rejection
      await executor
        .execute(() => {
          throw new FakeDriverError('fatal');
        }, opts)
        .catch(() => {});
      await executor.execute(scripted(new FakeDriverError('fatal')).op, opts).catch(() => {});
      // retry, then success
      const retried = track(executor.execute(scripted(new FakeDriverError('connection')).op, opts));
      expect(listeners()).toBe(1); // listening while the operation runs
      await clock.advanceAsync(1000);
      expect(retried.value).toBe('ok');
      // retries exhausted
      const exhausted = track(
        executor.execute(
          scripted(new FakeDriverError('connection'), new FakeDriverError('connection')).op,
          opts,
        ),
      );
      await clock.advanceAsync(1000);
      expect(isRetriesExhaustedError(exhausted.error)).toBe(true);
      expect(listeners()).toBe(0);
    }
    expect(listeners()).toBe(0);
  });
});

describe('RetryExecutor: asynchronous acquire (waiting for a connection)', () => {
  class SlowSource extends FakeSource {
    resolveWith: ((lease: { client: string }) => void) | undefined;
    rejectWith: ((error: unknown) => void) | undefined;
    signals: AbortSignal[] = [];
    override acquire(request: AcquireRequest): Lease<string> {
      this.requests.push(request);
      this.signals.push(request.signal);
      return new Promise<Lease<string>>((resolve, reject) => {
        this.resolveWith = resolve;
        this.rejectWith = reject;
      }) as unknown as Lease<string>;
    }
  }

  it('runs the operation once the connection arrives', async () => {
    const source = new SlowSource();
    const { executor, clock } = setup({ source });
    const { op, calls } = scripted();
    const result = track(executor.execute(op));
    await clock.advanceAsync(500);
    expect(calls).toHaveLength(0);
    source.resolveWith?.({ client: 'late' });
    await flush();
    expect(result.value).toBe('ok');
    expect(source.requests[0]!.deadlineAt).toBe(10_000);
    expect(clock.pending()).toBe(0);
  });

  it('the wait for a connection is bounded by the deadline; nothing was sent', async () => {
    const source = new SlowSource();
    const { executor, clock } = setup({ source, policy: retryPolicy({ deadline: 1000 }) });
    const { op, calls } = scripted();
    const result = track(executor.execute(op));
    await clock.advanceAsync(999);
    expect(result.done).toBe(false);
    await clock.advanceAsync(1);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect((result.error as DeadlineExceededError).outcome).toBe('not_sent');
    expect(source.signals[0]!.aborted).toBe(true);
    expect(calls).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('a caller abort stops the wait for a connection', async () => {
    const source = new SlowSource();
    const { executor, clock } = setup({ source });
    const controller = new AbortController();
    const result = track(executor.execute(scripted().op, { signal: controller.signal }));
    await flush();
    controller.abort('bye');
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect((result.error as AbortedError).outcome).toBe('not_sent');
    expect(source.signals[0]!.reason).toBe('bye');
    expect(clock.pending()).toBe(0);
  });

  it('a failed acquire (not connected) is retried even for a non-idempotent operation', async () => {
    const source = new SlowSource();
    const { executor, clock } = setup({ source });
    const { op, calls } = scripted();
    const result = track(executor.execute(op));
    await flush();
    source.rejectWith?.(new NotConnectedError());
    await clock.advanceAsync(100);
    expect(source.requests).toHaveLength(2);
    source.resolveWith?.({ client: 'c' });
    await flush();
    expect(result.value).toBe('ok');
    expect(calls).toHaveLength(1);
  });
});

describe('RetryExecutor: synchronous throws', () => {
  it('an operation that throws synchronously is classified and retried like a rejection', async () => {
    const { executor, clock } = setup();
    let calls = 0;
    const result = track(
      executor.execute(
        () => {
          if (++calls === 1) throw new FakeDriverError('connection');
          return 'ok';
        },
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(100);
    expect(result.value).toBe('ok');
    expect(calls).toBe(2);
  });
});
