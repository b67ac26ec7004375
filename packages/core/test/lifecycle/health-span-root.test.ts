import { trace } from '@opentelemetry/api';
import { expect, it } from 'vitest';
import { SpanNames } from '../../src/index.js';
import { createMemoryDriver } from './memory-driver.js';
import { LifecycleTelemetry } from '../../src/lifecycle/target/telemetry.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';

const exporter = useInMemoryTracing({ activeContext: true });

// A probe is the target's own work: even when an operation's on-demand reconnect set it off (its attempt span is
// the active one then), reconnect.health_check must not become a child of that operation's span.
it('reconnect.health_check is a root span, whatever span is active when the probe ends', () => {
  const telemetry = new LifecycleTelemetry('cache', createMemoryDriver().driver, {});
  trace.getTracer('test').startActiveSpan('reconnect.attempt', (attempt) => {
    telemetry.healthCheck(true, 5, undefined);
    attempt.end();
  });
  const check = exporter.getFinishedSpans().find((s) => s.name === SpanNames.HEALTH_CHECK);
  expect(check).toBeDefined();
  expect(check!.parentSpanContext).toBeUndefined();
});
