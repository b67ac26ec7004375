import type { Classification, ErrorKind, NodeAddress } from '../../src/driver/driver.js';
import type { AcquireRequest, AttemptReport, ConnectionSource, Lease } from '../../src/engine/types.js';
import type { BudgetPolicy, CircuitBreakerPolicy, RetryPolicy } from '../../src/policy/resolved.js';

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
