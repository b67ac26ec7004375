import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/engine/breaker/circuit-breaker.js';
import { RetryBudget } from '../../src/engine/budget/retry-budget.js';
import { RetryExecutor, type RetryExecutorOptions } from '../../src/engine/retry-executor.js';
import {
  EventNames,
  MetricNames,
  RetryReasons,
  SpanNames,
  type RetryReason,
} from '../../src/telemetry/names.js';
import { createFakeClock } from '../../src/time/fake-clock.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import {
  breakerPolicy,
  budgetPolicy,
  classify,
  FakeDriverError,
  FakeSource,
  nodes,
  retryPolicy,
  track,
} from './helpers.js';

class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = useInMemoryTracing({ activeContext: true });
const reader = new TestReader();

// The meter provider must exist before executors are built: the metrics API has no proxy meter.
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => {
  metrics.disable();
});

function setup(over: Partial<RetryExecutorOptions<string>> = {}) {
  const clock = createFakeClock();
  const source = new FakeSource(nodes);
  const executor = new RetryExecutor<string>({
    target: 'db',
    system: 'fakedb',
    policy: retryPolicy(),
    classify,
    source,
    clock,
    random: () => 0.5,
    ...over,
  });
  return { clock, executor, source };
}

function spans(): { execute: ReadableSpan[]; attempts: ReadableSpan[] } {
  const all = exporter.getFinishedSpans();
  return {
    execute: all.filter((s) => s.name === SpanNames.EXECUTE),
    attempts: all.filter((s) => s.name === SpanNames.ATTEMPT),
  };
}

function failing(...errors: unknown[]) {
  let calls = 0;
  return async (): Promise<string> => {
    const error = errors[calls++];
    await Promise.resolve();
    if (error !== undefined) throw error;
    return 'ok';
  };
}

describe('span tree', () => {
  it('one reconnect.execute with one reconnect.attempt child on success, attributes as documented', async () => {
    const { executor } = setup();
    await executor.execute(failing(), { idempotent: true, name: 'GET' });
    const { execute, attempts } = spans();
    expect(execute).toHaveLength(1);
    expect(attempts).toHaveLength(1);
    const [op] = execute;
    expect(op!.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system': 'fakedb',
      'reconnect.idempotent': true,
      'reconnect.operation': 'GET',
      'reconnect.attempts': 1,
    });
    expect(op!.events).toEqual([]);
    expect(op!.status.code).toBe(SpanStatusCode.UNSET);
    expect(attempts[0]!.parentSpanContext?.spanId).toBe(op!.spanContext().spanId);
    expect(attempts[0]!.attributes).toEqual({
      'db.system': 'fakedb',
      'reconnect.attempt': 1,
      'server.address': 'a',
      'server.port': 1,
    });
  });

  it('N attempts → N reconnect.attempt children and N−1 retry decisions', async () => {
    const { executor, clock } = setup();
    const result = track(
      executor.execute(
        failing(new FakeDriverError('connection', { code: 'ECONNRESET' }), new FakeDriverError('timeout')),
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    const { execute, attempts } = spans();
    expect(execute).toHaveLength(1);
    expect(attempts).toHaveLength(3);
    const parent = execute[0]!.spanContext().spanId;
    expect(attempts.every((a) => a.parentSpanContext?.spanId === parent)).toBe(true);
    expect(attempts.map((a) => a.attributes)).toEqual([
      {
        'db.system': 'fakedb',
        'reconnect.attempt': 1,
        'server.address': 'a',
        'server.port': 1,
        'error.type': 'ECONNRESET',
        'reconnect.error.kind': 'connection',
      },
      {
        'db.system': 'fakedb',
        'reconnect.attempt': 2,
        'server.address': 'b',
        'server.port': 2,
        'error.type': 'FakeDriverError',
        'reconnect.error.kind': 'timeout',
      },
      { 'db.system': 'fakedb', 'reconnect.attempt': 3, 'server.address': 'a', 'server.port': 1 },
    ]);
    expect(attempts.map((a) => a.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(execute[0]!.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system': 'fakedb',
      'reconnect.idempotent': true,
      'reconnect.attempts': 3,
    });
    expect(execute[0]!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'retry',
          reason: 'retryable',
          delay_ms: 100,
          'reconnect.attempt': 1,
          'error.type': 'ECONNRESET',
        },
      ],
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'retry',
          reason: 'retryable',
          delay_ms: 100,
          'reconnect.attempt': 2,
          'error.type': 'FakeDriverError',
        },
      ],
    ]);
  });

  it("the operation runs inside its attempt span's context (driver spans nest under reconnect.attempt)", async () => {
    const { executor } = setup();
    let active: string | undefined;
    await executor.execute(() => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      return 1;
    });
    expect(active).toBe(spans().attempts[0]!.spanContext().spanId);
  });

  it('nests reconnect.execute under the caller’s active span', async () => {
    const { executor } = setup();
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('request', async (span) => {
      await executor.execute(() => 1);
      span.end();
    });
    const request = exporter.getFinishedSpans().find((s) => s.name === 'request')!;
    expect(spans().execute[0]!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
  });
});

describe('give-up decisions on the span', () => {
  const cases: {
    reason: RetryReason;
    /** `error.type` of the error thrown (on the span). */
    errorType: string;
    /** `error.type` of the last attempt's error (on the decision event), when an attempt ran. */
    attemptErrorType?: string;
    idempotent: boolean;
    outcome?: string;
    run: () => Promise<{ attempts: number }>;
  }[] = [
    {
      reason: RetryReasons.NOT_RETRYABLE,
      errorType: 'ER_PARSE',
      attemptErrorType: 'ER_PARSE',
      idempotent: true,
      run: async () => {
        const { executor } = setup();
        await executor
          .execute(failing(new FakeDriverError('fatal', { code: 'ER_PARSE' })), { idempotent: true })
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.DEADLINE,
      errorType: 'ERR_DEADLINE_EXCEEDED',
      attemptErrorType: 'FakeDriverError',
      idempotent: true,
      outcome: 'unknown',
      run: async () => {
        const { executor } = setup({ policy: retryPolicy({ deadline: 50 }) });
        await executor
          .execute(failing(new FakeDriverError('connection')), { idempotent: true })
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.BUDGET_EXHAUSTED,
      errorType: 'ERR_BUDGET_EXHAUSTED',
      attemptErrorType: 'FakeDriverError',
      idempotent: true,
      outcome: 'unknown',
      run: async () => {
        const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), createFakeClock());
        const { executor } = setup({ budget });
        await executor
          .execute(failing(new FakeDriverError('connection')), { idempotent: true })
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.BREAKER_OPEN,
      errorType: 'ERR_BREAKER_OPEN',
      idempotent: false,
      outcome: 'not_sent',
      run: async () => {
        const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), createFakeClock());
        breaker.failure();
        const { executor } = setup({ breaker });
        await executor.execute(failing()).catch(() => {});
        return { attempts: 0 };
      },
    },
    {
      reason: RetryReasons.NOT_IDEMPOTENT,
      errorType: 'ERR_OUTCOME_UNKNOWN',
      attemptErrorType: 'FakeDriverError',
      idempotent: false,
      outcome: 'unknown',
      run: async () => {
        const { executor } = setup();
        await executor.execute(failing(new FakeDriverError('connection'))).catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.ABORTED,
      errorType: 'ERR_ABORTED',
      idempotent: false,
      outcome: 'not_sent',
      run: async () => {
        const { executor } = setup();
        await executor.execute(failing(), { signal: AbortSignal.abort() }).catch(() => {});
        return { attempts: 0 };
      },
    },
  ];

  for (const c of cases) {
    it(`${c.reason}: a give_up decision event, error.type and an error status`, async () => {
      const { attempts } = await c.run();
      const { execute } = spans();
      expect(execute).toHaveLength(1);
      const span = execute[0]!;
      const decision = span.events.at(-1)!;
      expect(decision.name).toBe(EventNames.RETRY_DECISION);
      // Exactly the documented attributes: no `delay_ms` on a give-up, `error.type` when an attempt failed.
      expect(decision.attributes).toEqual({
        decision: 'give_up',
        reason: c.reason,
        'reconnect.attempt': attempts,
        ...(c.attemptErrorType === undefined ? {} : { 'error.type': c.attemptErrorType }),
      });
      expect(span.attributes).toEqual({
        'reconnect.target': 'db',
        'db.system': 'fakedb',
        'reconnect.idempotent': c.idempotent,
        'reconnect.attempts': attempts,
        'error.type': c.errorType,
        ...(c.outcome === undefined ? {} : { 'reconnect.outcome': c.outcome }),
      });
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: c.reason });
      expect(spans().attempts).toHaveLength(attempts);
    });
  }

  it('max_retries: give_up after the last retry, with the outcome attribute', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ maxRetries: 1 }) });
    const c = () => new FakeDriverError('connection');
    const p = track(executor.execute(failing(c(), c()), { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(p.done).toBe(true);
    const span = spans().execute[0]!;
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'retry',
          reason: 'retryable',
          delay_ms: 100,
          'reconnect.attempt': 1,
          'error.type': 'FakeDriverError',
        },
      ],
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'give_up',
          reason: 'max_retries',
          'reconnect.attempt': 2,
          'error.type': 'FakeDriverError',
        },
      ],
    ]);
    expect(span.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system': 'fakedb',
      'reconnect.idempotent': true,
      'error.type': 'ERR_RETRIES_EXHAUSTED',
      'reconnect.attempts': 2,
      'reconnect.outcome': 'unknown',
    });
    expect(spans().attempts).toHaveLength(2);
  });

  it('breaker transitions and budget exhaustion are span events', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 100 }), clock);
    const { executor } = setup({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
    await executor.execute(failing(new FakeDriverError('connection')), { idempotent: true }).catch(() => {});
    clock.advance(100);
    await executor.execute(failing(), { idempotent: true });
    const [first, second] = spans().execute;
    expect(first!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.BREAKER_OPEN,
        { 'reconnect.target': 'db', 'reconnect.breaker.from': 'closed', 'reconnect.breaker.state': 'open' },
      ],
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'give_up',
          reason: 'max_retries',
          'reconnect.attempt': 1,
          'error.type': 'FakeDriverError',
        },
      ],
    ]);
    expect(second!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.BREAKER_HALF_OPEN,
        {
          'reconnect.target': 'db',
          'reconnect.breaker.from': 'open',
          'reconnect.breaker.state': 'half-open',
        },
      ],
      [
        EventNames.BREAKER_CLOSED,
        {
          'reconnect.target': 'db',
          'reconnect.breaker.from': 'half-open',
          'reconnect.breaker.state': 'closed',
        },
      ],
    ]);

    exporter.reset();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
    const other = setup({ budget, clock }).executor;
    await other.execute(failing(new FakeDriverError('connection')), { idempotent: true }).catch(() => {});
    expect(spans().execute[0]!.events.map((e) => [e.name, e.attributes])).toEqual([
      [EventNames.BUDGET_EXHAUSTED, { 'reconnect.target': 'db', 'reconnect.attempt': 1 }],
      [
        EventNames.RETRY_DECISION,
        {
          decision: 'give_up',
          reason: 'budget_exhausted',
          'reconnect.attempt': 1,
          'error.type': 'FakeDriverError',
        },
      ],
    ]);
  });
});

describe('metrics', () => {
  async function collect(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return resourceMetrics;
  }

  function points(rm: ResourceMetrics, name: string) {
    const metric = rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: unknown }[];
  }

  it('counts attempts and retry decisions, records operation duration and breaker state', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 5 }), clock);
    const { executor } = setup({ clock, breaker, target: 'metrics-db' });
    const p = track(
      executor.execute(failing(new FakeDriverError('connection', { code: 'ECONNREFUSED' })), {
        idempotent: true,
      }),
    );
    await clock.advanceAsync(1000);
    expect(p.value).toBe('ok');
    await executor
      .execute(failing(new FakeDriverError('fatal', { code: 'ER_PARSE' })), { idempotent: true })
      .catch(() => {});

    const rm = await collect();
    type Point = { attributes: Record<string, unknown>; value: unknown };
    const mine = (pts: Point[]): Point[] =>
      pts.filter((x) => x.attributes['reconnect.target'] === 'metrics-db');
    const attempts = mine(points(rm, MetricNames.ATTEMPTS));
    expect(attempts.map((x) => [x.attributes['error.type'], x.value]).sort()).toEqual(
      [
        [undefined, 1],
        ['ECONNREFUSED', 1],
        ['ER_PARSE', 1],
      ].sort(),
    );
    const retries = mine(points(rm, MetricNames.RETRIES));
    expect(retries.map((x) => [x.attributes.decision, x.attributes.reason, x.value]).sort()).toEqual(
      [
        ['give_up', 'not_retryable', 1],
        ['retry', 'retryable', 1],
      ].sort(),
    );
    const durations = mine(points(rm, MetricNames.OPERATION_DURATION));
    expect(durations.map((x) => (x.value as { count: number }).count).reduce((a, b) => a + b, 0)).toBe(2);
    const state = mine(points(rm, MetricNames.BREAKER_STATE));
    expect(state.map((x) => [x.attributes['reconnect.breaker.state'], x.value])).toEqual([['closed', 1]]);
  });
});
