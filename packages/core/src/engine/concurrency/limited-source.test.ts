import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  isAbortedError,
  isConcurrencyLimitedError,
  type ConcurrencyLimitedError,
} from '../../errors.js';
import type { ConcurrencyPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { breakerPolicy } from '../../../test/engine/helpers.js';
import { CircuitBreaker } from '../breaker/circuit-breaker.js';
import { RetryBudget } from '../budget/retry-budget.js';
import { RetryExecutor } from '../retry-executor.js';
import type { AcquireRequest, AttemptReport, ConnectionSource, Lease } from '../types.js';
import { ConcurrencyLimiter, Permit } from './concurrency-limiter.js';
import { LimitedSource } from './limited-source.js';

function concurrency(p: Partial<ConcurrencyPolicy> = {}): ConcurrencyPolicy {
  return {
    limit: 1,
    initialLimit: 20,
    minLimit: 2,
    maxLimit: 200,
    tolerance: 2,
    window: 100,
    baselineWindow: 10_000,
    maxQueue: 0,
    queueTimeout: 50,
    ...p,
  };
}

class Inner implements ConnectionSource<string> {
  acquired = 0;
  readonly reports: AttemptReport[] = [];
  acquire(_request: AcquireRequest): Lease<string> {
    this.acquired++;
    return { client: 'client' };
  }
  report(_lease: Lease<string>, report: AttemptReport): void {
    this.reports.push(report);
  }
}

function setup(p: Partial<ConcurrencyPolicy> = {}, withBreaker = true) {
  const clock = createFakeClock();
  const inner = new Inner();
  const limiter = new ConcurrencyLimiter(concurrency(p), clock, 'db');
  const breaker = withBreaker ? new CircuitBreaker(breakerPolicy({ failureThreshold: 2 }), clock) : undefined;
  const budget = new RetryBudget({ enabled: true, ratio: 0.1, minPerSecond: 0, window: 10_000 }, clock);
  const executor = new RetryExecutor<string>({
    target: 'db',
    system: 'fakedb',
    policy: {
      maxRetries: 3,
      backoff: { type: 'fixed', base: 10, factor: 2, max: 100, jitter: 'none' },
      retryOn: { errors: ['connection', 'timeout', 'unknown'], codes: [], statusCodes: [] },
      attemptTimeout: 1000,
      deadline: 5000,
      budget: { enabled: true, ratio: 0.1, minPerSecond: 0, window: 10_000 },
      hedge: { enabled: false, delay: 'p95', maxExtraLoad: 0.05, maxAttempts: 2 },
    },
    classify: () => ({ kind: 'connection' }),
    source: new LimitedSource(inner, limiter, clock),
    ...(breaker ? { breaker } : {}),
    budget,
    clock,
    random: () => 0.5,
  });
  return { clock, inner, limiter, breaker, budget, executor };
}

/** An operation that ends when the test says so, after `ms` on the fake clock if given. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, op: async () => (await opened, 'ok') };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

describe('LimitedSource', () => {
  it('refuses the excess at once, not_sent, naming the target and the limit, charging neither breaker nor budget', async () => {
    const { executor, limiter, inner, breaker } = setup({ limit: 1, maxQueue: 0 });
    const g = gate();
    const first = executor.execute(g.op);
    const refusals: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      await executor.execute(() => 'never').catch((e: unknown) => refusals.push(e));
    }
    expect(refusals).toHaveLength(5);
    const e = refusals[0] as ConcurrencyLimitedError;
    expect(isConcurrencyLimitedError(e)).toBe(true);
    expect(e.code).toBe(ErrorCodes.CONCURRENCY_LIMITED);
    expect(e.outcome).toBe('not_sent');
    expect(e.limit).toBe(1);
    expect(e.message).toContain('"db"');
    expect(e.message).toContain('concurrency limit (1, 1 in flight)');
    // Refused before the inner source: no connection was taken; not retried; the breaker saw no failure.
    expect(inner.acquired).toBe(1);
    expect(breaker!.state).toBe('closed');
    expect(limiter.counts.refused).toBe(5);
    g.open();
    await expect(first).resolves.toBe('ok');
    expect(limiter.inFlight).toBe(0);
    // Five refusals in a row did not open the breaker (threshold 2): the next operation runs.
    await expect(executor.execute(() => 'next')).resolves.toBe('next');
  });

  it('queues up to maxQueue for at most queueTimeout, then refuses (queued)', async () => {
    const { executor, limiter, clock } = setup({ limit: 1, maxQueue: 1, queueTimeout: 50 });
    const g = gate();
    const first = executor.execute(g.op);
    const second = executor.execute(() => 'second');
    const third = executor.execute(() => 'third').catch((e: unknown) => e);
    await flush();
    expect(limiter.waiting).toBe(1);
    // The queue (1) is full: the third is refused at once, not queued.
    expect(((await third) as ConcurrencyLimitedError).queued).toBe(false);
    g.open();
    await expect(first).resolves.toBe('ok');
    await expect(second).resolves.toBe('second');

    const h = gate();
    const blocker = executor.execute(h.op);
    const late = executor.execute(() => 'late').catch((e: unknown) => e);
    await flush();
    await clock.advanceAsync(49);
    expect(limiter.waiting).toBe(1);
    await clock.advanceAsync(1);
    const refused = (await late) as ConcurrencyLimitedError;
    expect(isConcurrencyLimitedError(refused)).toBe(true);
    expect(refused.queued).toBe(true);
    expect(refused.outcome).toBe('not_sent');
    expect(limiter.counts.timedOut).toBe(1);
    h.open();
    await blocker;
  });

  it('a queued operation the caller aborts leaves the queue', async () => {
    const { executor, limiter } = setup({ limit: 1, maxQueue: 5, queueTimeout: 1000 });
    const g = gate();
    const first = executor.execute(g.op);
    const ac = new AbortController();
    const queued = executor.execute(() => 'x', { signal: ac.signal }).catch((e: unknown) => e);
    await flush();
    expect(limiter.waiting).toBe(1);
    ac.abort();
    expect(isAbortedError(await queued)).toBe(true);
    expect(limiter.waiting).toBe(0);
    g.open();
    await first;
    expect(limiter.inFlight).toBe(0);
  });

  it('gives the permit back when the attempt times out, though the operation never settles', async () => {
    const { executor, limiter, clock } = setup({ limit: 'adaptive', initialLimit: 4 }, false);
    const hung = executor
      .execute(() => new Promise<string>(() => undefined), { deadline: 1500 })
      .catch((e: unknown) => e);
    await flush();
    expect(limiter.inFlight).toBe(1);
    await clock.advanceAsync(1000);
    // The attempt timed out (1 s): its permit is free although the operation never settled (and the retry
    // budget, with no floor, refused a retry).
    expect(limiter.inFlight).toBe(0);
    await clock.advanceAsync(600);
    expect(await hung).toBeInstanceOf(Error);
    expect(limiter.inFlight).toBe(0);
  });

  it('feeds each operation’s latency from the grant (not its wait in the queue) to the adaptive limit', async () => {
    const { executor, limiter, clock } = setup({
      limit: 'adaptive',
      initialLimit: 1,
      minLimit: 1,
      maxLimit: 1,
      maxQueue: 1,
      queueTimeout: 50,
    });
    const op = async () => {
      await new Promise<void>((r) => clock.setTimeout(r, 20));
      return 'ok';
    };
    for (let i = 0; i < 3; i++) {
      // Two at a time under a limit of one: the second waits 20 ms in the queue, then runs 20 ms.
      const a = executor.execute(op);
      const b = executor.execute(op);
      await flush();
      expect(limiter.waiting).toBe(1);
      await clock.advanceAsync(20);
      await clock.advanceAsync(20);
      await expect(Promise.all([a, b])).resolves.toEqual(['ok', 'ok']);
    }
    // Six samples over 120 ms closed one window: 20 ms each (40 ms, had the queue wait counted).
    expect(limiter.baseline).toBe(20);
  });

  it('takes back a permit never released, once its deadline is well past', () => {
    const clock = createFakeClock();
    const limiter = new ConcurrencyLimiter(concurrency({ limit: 1 }), clock, 'db');
    const admission = { deadlineAt: 100, aborted: false, onAbort: () => {}, offAbort: () => {} };
    // maxQueue 0: the limiter answers synchronously, a permit or a throw.
    expect(limiter.acquire(admission)).toBeInstanceOf(Permit);
    expect(() => limiter.acquire({ ...admission, deadlineAt: 5000 })).toThrow(/concurrency limit/);
    clock.advance(1200);
    expect(() => limiter.acquire({ ...admission, deadlineAt: 5000 })).not.toThrow();
    expect(limiter.inFlight).toBe(1);
  });

  it('lets operations pass without a permit while the target is not connected', () => {
    const { limiter, clock } = setup({ limit: 1 });
    const inner = new Inner();
    const down = Object.assign(inner, { connected: () => false });
    const source = new LimitedSource(down, limiter, clock);
    const request = { deadlineAt: 1000, aborted: false } as unknown as AcquireRequest;
    for (let i = 0; i < 3; i++) expect(source.acquire(request)).toEqual({ client: 'client' });
    expect(inner.acquired).toBe(3);
    expect(limiter.inFlight).toBe(0);
  });
});
