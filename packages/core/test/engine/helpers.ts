import type { Classification, ErrorKind, NodeAddress } from '../../src/driver/driver.js';
import type { AcquireRequest, AttemptReport, ConnectionSource, Lease } from '../../src/engine/types.js';
import type { GiveUpEvent, RetryEvent } from '../../src/engine/events.js';
import { RetryExecutor, type RetryExecutorOptions } from '../../src/engine/retry-executor.js';
import type { BudgetPolicy, CircuitBreakerPolicy, RetryPolicy } from '../../src/policy/resolved.js';
import { createFakeClock, type FakeClock } from '../../src/time/fake-clock.js';

/** A driver error carrying its own classification, so tests say exactly what kind of failure they throw. */
export class FakeDriverError extends Error {
  readonly classification: Classification;
  constructor(kind: ErrorKind, extra: Omit<Classification, 'kind'> = {}, message = `fake ${kind} error`) {
    super(message);
    this.name = 'FakeDriverError';
    this.classification = { kind, ...extra };
    if (extra.code !== undefined) (this as unknown as { code: unknown }).code = extra.code;
  }
}

/** The classify of a fake driver: reads FakeDriverError, calls everything else `unknown`. */
export function classify(error: unknown): Classification {
  return error instanceof FakeDriverError ? error.classification : { kind: 'unknown' };
}

/** A retry policy for tests (durations in ms), fixed 100 ms backoff by default. */
export function retryPolicy(p: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxRetries: 3,
    backoff: { type: 'fixed', base: 100, factor: 2, max: 1000, jitter: 'none' },
    retryOn: { errors: ['connection', 'timeout'], codes: [], statusCodes: [] },
    attemptTimeout: 1000,
    deadline: 10_000,
    budget: { enabled: false, ratio: 0.2, minPerSecond: 10, window: 10_000 },
    hedge: { enabled: false, delay: 'p95', maxExtraLoad: 0.05, maxAttempts: 2 },
    ...p,
  };
}

/** A budget policy for tests. */
export function budgetPolicy(p: Partial<BudgetPolicy> = {}): BudgetPolicy {
  return { enabled: true, ratio: 0.2, minPerSecond: 10, window: 10_000, ...p };
}

/** A breaker policy for tests. */
export function breakerPolicy(p: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy {
  return {
    enabled: true,
    mode: 'consecutive',
    failureThreshold: 2,
    failureRate: 0.5,
    window: 10_000,
    minimumCalls: 10,
    openFor: 1000,
    halfOpenMaxCalls: 1,
    ...p,
  };
}

/** Two nodes for failover tests. */
export const nodes: NodeAddress[] = [
  { id: 'a:1', host: 'a', port: 1 },
  { id: 'b:2', host: 'b', port: 2 },
];

/** A connection source that records every request and report; picks a node other than `avoid`. */
export class FakeSource implements ConnectionSource<string> {
  readonly requests: AcquireRequest[] = [];
  readonly reports: AttemptReport[] = [];
  /** Errors to throw from acquire, in order (undefined = succeed). */
  acquireErrors: unknown[] = [];
  constructor(readonly pool: NodeAddress[] = []) {}

  acquire(request: AcquireRequest): Lease<string> {
    this.requests.push(request);
    const error = this.acquireErrors.shift();
    if (error !== undefined) throw error;
    const node = this.pool.find((n) => n.id !== request.avoid?.id) ?? this.pool[0];
    return { client: `client@${node?.id ?? 'single'}`, node };
  }

  report(_lease: Lease<string>, report: AttemptReport): void {
    this.reports.push(report);
  }
}

/** Follows a promise's settlement without awaiting it (so a test can move a fake clock meanwhile). */
export function track<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => {
      state.done = true;
      state.value = value;
    },
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

/** Lets queued promise reactions run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

/**
 * The executor of the engine's tests: target `db`, the fake driver's classify, a fake source, a fake clock (or the
 * one given in `over`), jitter at its middle (`random` 0.5), and the retry and give-up events it emits, collected
 * (`onRetry` also hears each retry as it happens). `over` replaces any of these.
 */
export function testExecutor(
  over: Partial<RetryExecutorOptions<string>> = {},
  onRetry?: (e: RetryEvent) => void,
) {
  // The clock returned is the executor's when it is a fake one (a test that passes a clock of its own keeps it).
  const clock = (over.clock as FakeClock | undefined) ?? createFakeClock();
  const source = over.source instanceof FakeSource ? over.source : new FakeSource();
  const retries: RetryEvent[] = [];
  const giveUps: GiveUpEvent[] = [];
  const executor = new RetryExecutor<string>({
    target: 'db',
    system: 'fakedb',
    policy: retryPolicy(),
    classify,
    source,
    clock,
    random: () => 0.5,
    events: {
      retry: (e) => {
        retries.push(e);
        onRetry?.(e);
      },
      giveUp: (e) => giveUps.push(e),
    },
    ...over,
  });
  return { clock, source, executor, retries, giveUps };
}
