import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../support/test-metric-reader.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../src/engine/breaker/circuit-breaker.js';
import { RetryBudget } from '../../src/engine/budget/retry-budget.js';
import { RetryExecutor, type RetryExecutorOptions } from '../../src/engine/retry-executor.js';
import type { AcquireRequest, ConnectionSource, Lease } from '../../src/engine/types.js';
import { NotConnectedError } from '../../src/errors.js';
import {
  EventNames,
  MetricNames,
  RetryReasons,
  SpanNames,
  type RetryReason,
} from '../../src/telemetry/names.js';
import { createFakeClock } from '../../src/time/fake-clock.js';
import { systemClock } from '../../src/time/clock.js';
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

const exporter = useInMemoryTracing({ activeContext: true });
const reader = new TestReader();

// The meter provider must exist before executors are built: the metrics API has no proxy meter.
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => {
  metrics.disable();
});
afterEach(() => {
  vi.unstubAllEnvs();
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

/** The operation spans (kind CLIENT, named by the conventions) and Reconnect's attempt spans. */
function spans(): { execute: ReadableSpan[]; attempts: ReadableSpan[]; waits: ReadableSpan[] } {
  const all = exporter.getFinishedSpans();
  return {
    execute: all.filter((s) => s.kind === SpanKind.CLIENT),
    attempts: all.filter((s) => s.name === SpanNames.ATTEMPT),
    waits: all.filter((s) => s.name === SpanNames.CONNECTION_WAIT),
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

const ms = (s: ReadableSpan): number => s.duration[0] * 1000 + s.duration[1] / 1e6;

describe('span tree', () => {
  it('one CLIENT operation span named by the conventions with one INTERNAL attempt child, attributes as documented', async () => {
    const { executor } = setup();
    await executor.execute(failing(), { idempotent: true, name: 'GET', collection: 'users' });
    const { execute, attempts } = spans();
    expect(execute).toHaveLength(1);
    expect(attempts).toHaveLength(1);
    const [op] = execute;
    expect(op!.name).toBe('GET users');
    expect(op!.kind).toBe(SpanKind.CLIENT);
    expect(op!.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system.name': 'fakedb',
      'db.operation.name': 'GET',
      'db.collection.name': 'users',
      'reconnect.idempotent': true,
      'server.address': 'a',
      'server.port': 1,
      'network.peer.address': 'a',
      'network.peer.port': 1,
      'reconnect.attempts': 1,
    });
    expect(op!.events).toEqual([]);
    expect(op!.status.code).toBe(SpanStatusCode.UNSET);
    expect(attempts[0]!.kind).toBe(SpanKind.INTERNAL);
    expect(attempts[0]!.parentSpanContext?.spanId).toBe(op!.spanContext().spanId);
    expect(attempts[0]!.attributes).toEqual({
      'db.system.name': 'fakedb',
      'reconnect.attempt': 1,
      'server.address': 'a',
      'server.port': 1,
      'network.peer.address': 'a',
      'network.peer.port': 1,
      'reconnect.node.id': 'a:1',
      'reconnect.attempt.outcome': 'success',
    });
  });

  it('N attempts → N attempt children and N−1 retry decisions; error.type never a class name', async () => {
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
    expect(execute[0]!.name).toBe('fakedb'); // neither an operation name nor a target: the system
    expect(attempts).toHaveLength(3);
    const parent = execute[0]!.spanContext().spanId;
    expect(attempts.every((a) => a.parentSpanContext?.spanId === parent)).toBe(true);
    const node = (host: string, port: number) => ({
      'server.address': host,
      'server.port': port,
      'network.peer.address': host,
      'network.peer.port': port,
      'reconnect.node.id': `${host}:${port}`,
    });
    expect(attempts.map((a) => a.attributes)).toEqual([
      {
        'db.system.name': 'fakedb',
        'reconnect.attempt': 1,
        ...node('a', 1),
        'reconnect.attempt.outcome': 'error',
        'error.type': 'ECONNRESET',
        'reconnect.error.kind': 'connection',
        'reconnect.outcome': 'unknown',
      },
      {
        'db.system.name': 'fakedb',
        'reconnect.attempt': 2,
        ...node('b', 2),
        'reconnect.attempt.outcome': 'error',
        // No code anywhere: the conventions' fallback, never the class name `FakeDriverError`.
        'error.type': '_OTHER',
        'reconnect.error.kind': 'timeout',
        'reconnect.outcome': 'unknown',
      },
      {
        'db.system.name': 'fakedb',
        'reconnect.attempt': 3,
        ...node('a', 1),
        'reconnect.attempt.outcome': 'success',
      },
    ]);
    expect(attempts.map((a) => a.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    // The operation span names the last node contacted.
    expect(execute[0]!.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system.name': 'fakedb',
      'reconnect.idempotent': true,
      'server.address': 'a',
      'server.port': 1,
      'network.peer.address': 'a',
      'network.peer.port': 1,
      'reconnect.attempts': 3,
    });
    expect(execute[0]!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.RETRY_DECISION,
        {
          'reconnect.retry.decision': 'retry',
          'reconnect.retry.reason': 'retryable',
          'reconnect.delay_ms': 100,
          'reconnect.attempt': 1,
          'error.type': 'ECONNRESET',
        },
      ],
      [
        EventNames.RETRY_DECISION,
        {
          'reconnect.retry.decision': 'retry',
          'reconnect.retry.reason': 'retryable',
          'reconnect.delay_ms': 100,
          'reconnect.attempt': 2,
          'error.type': '_OTHER',
        },
      ],
    ]);
  });

  it("a store's answer is db.response.status_code and error.type: a MySQL error number, an HTTP status", async () => {
    const { executor } = setup();
    await executor
      .execute(failing(new FakeDriverError('fatal', { code: 1064, aliases: ['ER_PARSE_ERROR'] })), {
        idempotent: true,
      })
      .catch(() => {});
    const mysql = spans();
    expect(mysql.attempts[0]!.attributes).toMatchObject({
      'error.type': '1064',
      'db.response.status_code': '1064',
      'reconnect.attempt.outcome': 'error',
    });
    expect(mysql.execute[0]!.attributes).toMatchObject({
      'error.type': '1064',
      'db.response.status_code': '1064',
    });
    exporter.reset();
    await executor
      .execute(
        failing(new FakeDriverError('fatal', { statusCode: 404, code: 'index_not_found_exception' })),
        {
          idempotent: true,
        },
      )
      .catch(() => {});
    expect(spans().execute[0]!.attributes).toMatchObject({
      'error.type': '404',
      'db.response.status_code': '404',
      'reconnect.error.code': 'index_not_found_exception',
    });
    // A failure no server answered has no status code.
    exporter.reset();
    const { executor: other, clock } = setup({ policy: retryPolicy({ maxRetries: 0 }) });
    await other
      .execute(failing(new FakeDriverError('connection', { code: 'ECONNREFUSED', sent: false })), {
        idempotent: true,
      })
      .catch(() => {});
    await clock.advanceAsync(0);
    const refused = spans().execute[0]!;
    expect(refused.attributes['error.type']).toBe('ECONNREFUSED');
    expect(refused.attributes).not.toHaveProperty('db.response.status_code');
    expect(refused.attributes['reconnect.outcome']).toBe('not_sent');
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

  it('nests the operation span under the caller’s active span', async () => {
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

describe("an attempt's error.type and outcome tell what ended it", () => {
  /** A source that is reconnecting: acquire waits until `connectAfterMs` (never, by default). */
  function reconnectingSource(connectAfterMs = Number.POSITIVE_INFINITY): ConnectionSource<string> {
    return {
      acquire(request: AcquireRequest): Promise<Lease<string>> {
        return new Promise((resolve, reject) => {
          if (Number.isFinite(connectAfterMs)) setTimeout(() => resolve({ client: 'c' }), connectAfterMs);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the attempt's own reason
          request.onAbort(() => reject(request.reason));
        });
      },
    };
  }

  it('waiting for a reconnect until the deadline is ERR_DEADLINE_EXCEEDED, not_connected, with its wait as a span', async () => {
    const executor = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy: retryPolicy({ attemptTimeout: 50, deadline: 300 }),
      classify,
      source: reconnectingSource(),
      clock: systemClock,
    });
    const error = await executor.execute(() => 'never', { idempotent: true }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ERR_DEADLINE_EXCEEDED');
    const { execute, attempts, waits } = spans();
    expect(attempts).toHaveLength(1);
    const attempt = attempts[0]!;
    expect(attempt.attributes).toMatchObject({
      'error.type': 'ERR_DEADLINE_EXCEEDED',
      'reconnect.attempt.outcome': 'not_connected',
      'reconnect.outcome': 'not_sent',
    });
    // The demo: an attempt that waited 3 s under a 1 s attempt timeout said ERR_ATTEMPT_TIMEOUT.
    expect(ms(attempt)).toBeGreaterThan(250);
    expect(waits).toHaveLength(1);
    expect(waits[0]!.parentSpanContext?.spanId).toBe(attempt.spanContext().spanId);
    expect(waits[0]!.attributes).toEqual({ 'error.type': 'ERR_DEADLINE_EXCEEDED' });
    expect(waits[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(ms(waits[0]!)).toBeGreaterThan(250);
    expect(execute[0]!.attributes).toMatchObject({
      'error.type': 'ERR_DEADLINE_EXCEEDED',
      'reconnect.error.code': 'ERR_DEADLINE_EXCEEDED',
    });
  });

  it('a wait that ends with a connection is a span of its own, OK, and the attempt then runs', async () => {
    const executor = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy: retryPolicy({ attemptTimeout: 50, deadline: 1000 }),
      classify,
      source: reconnectingSource(120),
      clock: systemClock,
    });
    await expect(executor.execute(() => 'ok')).resolves.toBe('ok');
    const { attempts, waits } = spans();
    expect(attempts[0]!.attributes['reconnect.attempt.outcome']).toBe('success');
    expect(waits).toHaveLength(1);
    expect(waits[0]!.attributes).toEqual({});
    expect(waits[0]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(ms(waits[0]!)).toBeGreaterThan(100);
  });

  it('the attempt timeout cutting a running operation is ERR_ATTEMPT_TIMEOUT, attempt_timeout', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 100, maxRetries: 0 }) });
    const p = track(executor.execute(() => new Promise<string>(() => {}), { idempotent: true }));
    await clock.advanceAsync(100);
    expect(p.done).toBe(true);
    expect(spans().attempts[0]!.attributes).toMatchObject({
      'error.type': 'ERR_ATTEMPT_TIMEOUT',
      'reconnect.attempt.outcome': 'attempt_timeout',
      'reconnect.error.kind': 'timeout',
    });
    expect(spans().waits).toEqual([]);
  });

  it('the deadline cutting a running operation is ERR_DEADLINE_EXCEEDED, deadline', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ attemptTimeout: 0, deadline: 200 }) });
    const p = track(executor.execute(() => new Promise<string>(() => {}), { idempotent: true }));
    await clock.advanceAsync(200);
    expect(p.done).toBe(true);
    expect(spans().attempts[0]!.attributes).toMatchObject({
      'error.type': 'ERR_DEADLINE_EXCEEDED',
      'reconnect.attempt.outcome': 'deadline',
    });
  });

  it('a target that refuses (fail-fast while reconnecting) is its own code: ERR_NOT_CONNECTED, not_connected', async () => {
    const { executor, source } = setup({ policy: retryPolicy({ maxRetries: 0 }) });
    source.acquireErrors.push(new NotConnectedError('not connected', { retryable: false }));
    await executor.execute(failing(), { idempotent: true }).catch(() => {});
    expect(spans().attempts[0]!.attributes).toMatchObject({
      'error.type': 'ERR_NOT_CONNECTED',
      'reconnect.attempt.outcome': 'not_connected',
      'reconnect.outcome': 'not_sent',
    });
  });

  it('an open breaker lets no attempt start: the operation says ERR_BREAKER_OPEN', async () => {
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), createFakeClock());
    breaker.failure();
    const { executor } = setup({ breaker });
    await executor.execute(failing()).catch(() => {});
    expect(spans().attempts).toEqual([]);
    expect(spans().execute[0]!.attributes['error.type']).toBe('ERR_BREAKER_OPEN');
  });
});

describe('give-up decisions on the span', () => {
  const cases: {
    reason: RetryReason;
    /** `error.type` of the operation (the last attempt's when the error wraps it). */
    errorType: string;
    /** `reconnect.error.code`: the code of the error execute() rejected with. */
    code: string;
    /** `error.type` of the last attempt's error (on the decision event), when an attempt ran. */
    attemptErrorType?: string;
    status?: string;
    idempotent: boolean;
    outcome?: string;
    run: () => Promise<{ attempts: number }>;
  }[] = [
    {
      reason: RetryReasons.NOT_RETRYABLE,
      errorType: 'ER_PARSE',
      code: 'ER_PARSE',
      attemptErrorType: 'ER_PARSE',
      status: 'ER_PARSE',
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
      errorType: 'ECONNRESET',
      code: 'ERR_DEADLINE_EXCEEDED',
      attemptErrorType: 'ECONNRESET',
      idempotent: true,
      outcome: 'unknown',
      run: async () => {
        const { executor } = setup({ policy: retryPolicy({ deadline: 50 }) });
        await executor
          .execute(failing(new FakeDriverError('connection', { code: 'ECONNRESET' })), { idempotent: true })
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.BUDGET_EXHAUSTED,
      errorType: 'ECONNRESET',
      code: 'ERR_BUDGET_EXHAUSTED',
      attemptErrorType: 'ECONNRESET',
      idempotent: true,
      outcome: 'unknown',
      run: async () => {
        const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), createFakeClock());
        const { executor } = setup({ budget });
        await executor
          .execute(failing(new FakeDriverError('connection', { code: 'ECONNRESET' })), { idempotent: true })
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.BREAKER_OPEN,
      errorType: 'ERR_BREAKER_OPEN',
      code: 'ERR_BREAKER_OPEN',
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
      errorType: 'ECONNRESET',
      code: 'ERR_OUTCOME_UNKNOWN',
      attemptErrorType: 'ECONNRESET',
      idempotent: false,
      outcome: 'unknown',
      run: async () => {
        const { executor } = setup();
        await executor
          .execute(failing(new FakeDriverError('connection', { code: 'ECONNRESET' })))
          .catch(() => {});
        return { attempts: 1 };
      },
    },
    {
      reason: RetryReasons.ABORTED,
      errorType: 'ERR_ABORTED',
      code: 'ERR_ABORTED',
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
    it(`${c.reason}: a give_up decision event, error.type, reconnect.error.code and an error status`, async () => {
      const { attempts } = await c.run();
      const { execute } = spans();
      expect(execute).toHaveLength(1);
      const span = execute[0]!;
      const decision = span.events.at(-1)!;
      expect(decision.name).toBe(EventNames.RETRY_DECISION);
      // Exactly the documented attributes: no delay on a give-up, `error.type` when an attempt failed.
      expect(decision.attributes).toEqual({
        'reconnect.retry.decision': 'give_up',
        'reconnect.retry.reason': c.reason,
        'reconnect.attempt': attempts,
        ...(c.attemptErrorType === undefined ? {} : { 'error.type': c.attemptErrorType }),
      });
      const lastNode = attempts > 0 ? { 'network.peer.address': 'a', 'network.peer.port': 1 } : {};
      expect(span.attributes).toEqual({
        'reconnect.target': 'db',
        'db.system.name': 'fakedb',
        'reconnect.idempotent': c.idempotent,
        ...(attempts > 0 ? { 'server.address': 'a', 'server.port': 1 } : {}),
        ...lastNode,
        'reconnect.attempts': attempts,
        'error.type': c.errorType,
        'reconnect.error.code': c.code,
        ...(c.status === undefined ? {} : { 'db.response.status_code': c.status }),
        ...(c.outcome === undefined ? {} : { 'reconnect.outcome': c.outcome }),
      });
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: c.reason });
      expect(spans().attempts).toHaveLength(attempts);
    });
  }

  it('max_retries: give_up after the last retry, with the outcome attribute', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ maxRetries: 1 }) });
    const c = () => new FakeDriverError('connection', { code: 'ECONNRESET' });
    const p = track(executor.execute(failing(c(), c()), { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(p.done).toBe(true);
    const span = spans().execute[0]!;
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EventNames.RETRY_DECISION,
        {
          'reconnect.retry.decision': 'retry',
          'reconnect.retry.reason': 'retryable',
          'reconnect.delay_ms': 100,
          'reconnect.attempt': 1,
          'error.type': 'ECONNRESET',
        },
      ],
      [
        EventNames.RETRY_DECISION,
        {
          'reconnect.retry.decision': 'give_up',
          'reconnect.retry.reason': 'max_retries',
          'reconnect.attempt': 2,
          'error.type': 'ECONNRESET',
        },
      ],
    ]);
    expect(span.attributes).toEqual({
      'reconnect.target': 'db',
      'db.system.name': 'fakedb',
      'reconnect.idempotent': true,
      'server.address': 'b',
      'server.port': 2,
      'network.peer.address': 'b',
      'network.peer.port': 2,
      'error.type': 'ECONNRESET',
      'reconnect.error.code': 'ERR_RETRIES_EXHAUSTED',
      'reconnect.attempts': 2,
      'reconnect.outcome': 'unknown',
    });
    expect(spans().attempts).toHaveLength(2);
  });

  it('breaker transitions and budget exhaustion are span events', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 100 }), clock);
    const { executor } = setup({ breaker, clock, policy: retryPolicy({ maxRetries: 0 }) });
    const refused = new FakeDriverError('connection', { code: 'ECONNREFUSED' });
    await executor.execute(failing(refused), { idempotent: true }).catch(() => {});
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
          'reconnect.retry.decision': 'give_up',
          'reconnect.retry.reason': 'max_retries',
          'reconnect.attempt': 1,
          'error.type': 'ECONNREFUSED',
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
    await other.execute(failing(refused), { idempotent: true }).catch(() => {});
    expect(spans().execute[0]!.events.map((e) => [e.name, e.attributes])).toEqual([
      [EventNames.BUDGET_EXHAUSTED, { 'reconnect.target': 'db', 'reconnect.attempt': 1 }],
      [
        EventNames.RETRY_DECISION,
        {
          'reconnect.retry.decision': 'give_up',
          'reconnect.retry.reason': 'budget_exhausted',
          'reconnect.attempt': 1,
          'error.type': 'ECONNREFUSED',
        },
      ],
    ]);
  });
});

describe('opt-ins read from the environment', () => {
  it('db.query.text only with RECONNECT_OTEL_QUERY_TEXT=true, and sanitised', async () => {
    const query = "SELECT * FROM users WHERE name = 'alice' AND id IN (1, 2, 3)";
    await setup().executor.execute(failing(), { name: 'SELECT', query });
    expect(spans().execute[0]!.attributes).not.toHaveProperty('db.query.text');
    exporter.reset();
    vi.stubEnv('RECONNECT_OTEL_QUERY_TEXT', 'true');
    await setup().executor.execute(failing(), { name: 'SELECT', query });
    expect(spans().execute[0]!.attributes['db.query.text']).toBe(
      'SELECT * FROM users WHERE name = ? AND id IN (?)',
    );
  });

  it('OTEL_SEMCONV_STABILITY_OPT_IN=database/dup adds the experimental names beside the stable ones', async () => {
    vi.stubEnv('OTEL_SEMCONV_STABILITY_OPT_IN', 'http,database/dup');
    vi.stubEnv('RECONNECT_OTEL_QUERY_TEXT', 'true');
    await setup().executor.execute(failing(), { name: 'SELECT', query: 'SELECT 1' });
    const { execute, attempts } = spans();
    expect(execute[0]!.attributes).toMatchObject({
      'db.system.name': 'fakedb',
      'db.system': 'fakedb',
      'db.operation.name': 'SELECT',
      'db.operation': 'SELECT',
      'db.query.text': 'SELECT ?',
      'db.statement': 'SELECT ?',
    });
    expect(attempts[0]!.attributes).toMatchObject({ 'db.system.name': 'fakedb', 'db.system': 'fakedb' });
    // `database` alone is the stable set, as by default.
    exporter.reset();
    vi.stubEnv('OTEL_SEMCONV_STABILITY_OPT_IN', 'database');
    await setup().executor.execute(failing(), { name: 'SELECT' });
    expect(spans().execute[0]!.attributes).not.toHaveProperty('db.system');
  });
});

describe('metrics', () => {
  async function collect(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return resourceMetrics;
  }

  type Point = { attributes: Record<string, unknown>; value: unknown };
  function points(rm: ResourceMetrics, name: string): Point[] {
    const metric = rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return ((metric?.dataPoints ?? []) as Point[]).filter(
      (x) => x.attributes['reconnect.target'] === 'metrics-db',
    );
  }
  const count = (p: Point) => (p.value as { count: number }).count;

  it('db.client.operation.duration, attempts, retries, retry delay and give-ups, breaker state', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 5 }), clock);
    const { executor } = setup({ clock, breaker, target: 'metrics-db' });
    const p = track(
      executor.execute(failing(new FakeDriverError('connection', { code: 'ECONNREFUSED', sent: false })), {
        idempotent: true,
        name: 'GET',
      }),
    );
    await clock.advanceAsync(1000);
    expect(p.value).toBe('ok');
    await executor
      .execute(failing(new FakeDriverError('fatal', { code: 1064 })), { idempotent: true })
      .catch(() => {});
    // A write that may have run: the number an on-call alerts on.
    await executor
      .execute(failing(new FakeDriverError('connection', { code: 'ECONNRESET' })), { name: 'INCR' })
      .catch(() => {});

    const rm = await collect();
    const durations = points(rm, MetricNames.DB_CLIENT_OPERATION_DURATION);
    expect(durations.map((x) => [x.attributes, count(x)])).toEqual(
      expect.arrayContaining([
        [{ 'reconnect.target': 'metrics-db', 'db.system.name': 'fakedb', 'db.operation.name': 'GET' }, 1],
        [
          {
            'reconnect.target': 'metrics-db',
            'db.system.name': 'fakedb',
            'error.type': '1064',
            'db.response.status_code': '1064',
          },
          1,
        ],
        [
          {
            'reconnect.target': 'metrics-db',
            'db.system.name': 'fakedb',
            'db.operation.name': 'INCR',
            'error.type': 'ECONNRESET',
          },
          1,
        ],
      ]),
    );
    expect(durations).toHaveLength(3);
    const attempts = points(rm, MetricNames.ATTEMPTS);
    expect(
      attempts
        .map((x) => [x.attributes['reconnect.attempt.outcome'], x.attributes['error.type'], x.value])
        .sort(),
    ).toEqual(
      [
        ['success', undefined, 1],
        ['error', 'ECONNREFUSED', 1],
        ['error', '1064', 1],
        ['error', 'ECONNRESET', 1],
      ].sort(),
    );
    expect(points(rm, MetricNames.RETRIES).map((x) => [x.attributes, x.value])).toEqual([
      [
        {
          'reconnect.target': 'metrics-db',
          'reconnect.retry.reason': 'retryable',
          'reconnect.outcome': 'not_sent',
        },
        1,
      ],
    ]);
    const delay = points(rm, MetricNames.RETRY_DELAY);
    expect(delay.map((x) => x.value as { sum: number; count: number })).toMatchObject([
      { count: 1, sum: 0.1 },
    ]);
    const perOperation = points(rm, MetricNames.OPERATION_RETRIES);
    expect(perOperation.map((x) => x.value as { sum: number; count: number })).toMatchObject([
      { count: 3, sum: 1 },
    ]);
    // Every give-up reason's series exists from the start, at 0, so `increase()` sees the first one (alerts).
    expect(
      points(rm, MetricNames.GIVE_UPS)
        .map((x) => [x.attributes['reconnect.retry.reason'], x.value])
        .sort(),
    ).toEqual(
      [
        ['aborted', 0],
        ['breaker_open', 0],
        ['budget_exhausted', 0],
        ['deadline', 0],
        ['max_retries', 0],
        ['not_idempotent', 1],
        ['not_retryable', 1],
      ].sort(),
    );
    expect(points(rm, MetricNames.WRITES_OUTCOME_UNKNOWN).map((x) => [x.attributes, x.value])).toEqual([
      [{ 'reconnect.target': 'metrics-db' }, 1],
    ]);
    const state = points(rm, MetricNames.BREAKER_STATE);
    expect(state.map((x) => [x.attributes['reconnect.breaker.state'], x.value])).toEqual([['closed', 1]]);
    // No node address and no operation id is a metric attribute.
    const keys = new Set(
      rm.scopeMetrics.flatMap((s) =>
        s.metrics.flatMap((m) => m.dataPoints.flatMap((d) => Object.keys(d.attributes))),
      ),
    );
    for (const k of [
      'server.address',
      'server.port',
      'network.peer.address',
      'network.peer.port',
      'reconnect.node.id',
    ])
      expect(keys.has(k), k).toBe(false);
  });
});
