import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createFakeClock, SpanNames } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

// A context manager makes an operation's span the active one while it runs (as in an instrumented app).
const exporter = useInMemoryTracing({ activeContext: true });

describe('reconnect.reconnect span', () => {
  it('is a root span even when the loss is noticed inside an operation, and ends with ERROR when the target gives up', async () => {
    exporter.reset();
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 'cache',
      driver,
      options: {},
      policy: {
        retry: { maxRetries: 0, budget: { enabled: false } },
        healthCheck: { interval: 100_000, timeout: 200, jitter: 0, failureThreshold: 1 },
        reconnect: {
          backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' },
          connectTimeout: 300,
          maxRetries: 2,
          onExhausted: 'stop',
        },
        circuitBreaker: { enabled: false },
      },
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.serverDown = true;
    control.connect = 'fail';
    const tracer = trace.getTracer('app');
    const app = tracer.startSpan('app.request');
    const op = context.with(trace.setSpan(context.active(), app), () =>
      target.execute((c: MemoryClient) => c.query('q'), { idempotent: true }).catch((e: unknown) => e),
    );
    await clock.advanceAsync(0);
    await op;
    app.end();
    expect(target.state).toBe('reconnecting');
    await clock.advanceAsync(1000); // two failed tries: failed, and with onExhausted: stop, for good
    expect(target.state).toBe('failed');
    const reconnects = exporter.getFinishedSpans().filter((s) => s.name === SpanNames.RECONNECT);
    expect(reconnects).toHaveLength(1);
    const r = reconnects[0]!;
    expect(r.parentSpanContext).toBeUndefined();
    expect(r.spanContext().traceId).not.toBe(app.spanContext().traceId);
    expect(r.status.code).toBe(2); // ERROR
    await target.stop();
  });
});
